// Hand-written SVG charts: a trend line against its target, and a sparkline. No library.

import { svg } from './dom.js';

// A chart with an axis starts a percentage at 0% (a line from 70% exaggerates every dip); a
// sparkline, which has no axis, uses the values' own range.
function niceRange(values, target, unit, fromZero = false) {
  const all = values.filter((v) => Number.isFinite(v));
  if (Number.isFinite(target)) all.push(target);
  if (!all.length) return [0, unit === 'percent' ? 100 : 1];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (unit === 'percent') {
    lo = fromZero ? 0 : Math.max(0, Math.floor((lo - 5) / 10) * 10);
    hi = Math.min(100, Math.ceil((hi + 2) / 10) * 10);
    if (hi <= lo) hi = lo + 10;
    return [lo, hi];
  }
  const pad = (hi - lo) * 0.15 || Math.abs(hi) * 0.2 || 1;
  return [fromZero ? 0 : Math.max(0, lo - pad), hi + pad];
}

function fmtValue(v, unit) {
  if (!Number.isFinite(v)) return '—';
  return unit === 'percent' ? `${v.toFixed(1)}%` : v.toFixed(v >= 100 ? 0 : 1);
}

function isBelow(v, target, higherIsBetter) {
  if (!Number.isFinite(target) || !Number.isFinite(v)) return false;
  return higherIsBetter ? v < target : v > target;
}

/**
 * A trend line.
 * @param {{points: {label: string, value: number|null}[], target?: number, unit?: string,
 *          higherIsBetter?: boolean, title?: string, targetLabel?: string,
 *          width?: number, height?: number}} opts  values in display units (percent 0-100)
 */
export function lineChart(opts) {
  const { points, target, unit = 'percent', higherIsBetter = true, title = '', targetLabel = '' } = opts;
  const width = opts.width || 640;
  const height = opts.height || 240;
  const m = { top: 16, right: 78, bottom: 34, left: 48 };
  const iw = width - m.left - m.right;
  const ih = height - m.top - m.bottom;
  const values = points.map((p) => (p.value === null || p.value === undefined ? NaN : Number(p.value)));
  const [lo, hi] = niceRange(values, target, unit, true);
  const x = (i) => m.left + (points.length <= 1 ? iw / 2 : (i * iw) / (points.length - 1));
  const y = (v) => m.top + ih - ((v - lo) / (hi - lo)) * ih;
  const root = svg('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, preserveAspectRatio: 'xMidYMid meet',
  }, svg('title', {}, title));
  const ticks = 4;
  for (let i = 0; i <= ticks; i += 1) {
    const v = lo + ((hi - lo) * i) / ticks;
    root.append(svg('line', { class: 'grid', x1: m.left, x2: m.left + iw, y1: y(v), y2: y(v) }),
      svg('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtValue(v, unit)));
  }
  root.append(svg('line', { class: 'axis', x1: m.left, x2: m.left + iw, y1: m.top + ih, y2: m.top + ih }));
  const every = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((p, i) => {
    if (i % every === 0 || i === points.length - 1) {
      root.append(svg('text', { x: x(i), y: height - 12, 'text-anchor': 'middle' }, p.label));
    }
  });
  if (Number.isFinite(target)) {
    root.append(svg('line', { class: 'target', x1: m.left, x2: m.left + iw, y1: y(target), y2: y(target) }),
      svg('text', { class: 'target-label', x: m.left + iw + 4, y: y(target) + 4 }, targetLabel || fmtValue(target, unit)));
  }
  let d = '';
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    d += `${d && Number.isFinite(values[i - 1]) ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  });
  if (d) root.append(svg('path', { class: 'series', d }));
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    root.append(svg('circle', { class: ['dot', isBelow(v, target, higherIsBetter) ? 'below' : ''].join(' ').trim(), cx: x(i), cy: y(v), r: 3.5 },
      svg('title', {}, `${points[i].label}: ${fmtValue(v, unit)}`)));
  });
  return root;
}

/** A small line without axes, for an indicator card. */
export function sparkline(points, { target, unit = 'percent', higherIsBetter = true, width = 200, height = 40, title = '', small = false } = {}) {
  const values = points.map((p) => (p.value === null || p.value === undefined ? NaN : Number(p.value)));
  const [lo, hi] = niceRange(values, target, unit);
  const x = (i) => 2 + (points.length <= 1 ? (width - 4) / 2 : (i * (width - 4)) / (points.length - 1));
  const y = (v) => 3 + (height - 6) - ((v - lo) / (hi - lo)) * (height - 6);
  const root = svg('svg', {
    class: small ? 'chart spark spark-small' : 'chart spark kpi-spark', viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none', role: 'img', 'aria-label': title,
  },
    svg('title', {}, title));
  if (Number.isFinite(target)) root.append(svg('line', { class: 'target', x1: 0, x2: width, y1: y(target), y2: y(target) }));
  let d = '';
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    d += `${d && Number.isFinite(values[i - 1]) ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  });
  if (d) root.append(svg('path', { class: 'series', d }));
  const last = values.length - 1;
  if (last >= 0 && Number.isFinite(values[last])) {
    root.append(svg('circle', { class: ['dot', isBelow(values[last], target, higherIsBetter) ? 'below' : ''].join(' ').trim(), cx: x(last), cy: y(values[last]), r: 3 }));
  }
  return root;
}
