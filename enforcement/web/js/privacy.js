// Identification numbers as the service masks them (enforcement/domain/privacy.py
// mask_id_number): an 18-character number keeps its address code and last 4, 110105********002X;
// any other keeps at most 2 at each end, never more than half; 4 characters or fewer: all *.

export function maskIdNumber(value) {
  const s = String(value ?? '');
  const n = s.length;
  if (n <= 4) return '*'.repeat(n);
  if (n === 18) return `${s.slice(0, 6)}${'*'.repeat(8)}${s.slice(-4)}`;
  const keep = Math.min(2, Math.floor((n - 1) / 4));
  return `${s.slice(0, keep)}${'*'.repeat(n - 2 * keep)}${s.slice(n - keep)}`;
}
