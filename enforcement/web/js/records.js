// The words of every record kind (GET /api/v1/record-kinds, read from the kinds' JSON Schemas:
// the same words the command line prints), loaded once per page, and a value as a person reads
// it: 是/否 (Yes/No), a code's words, ¥ with separators, Beijing time.

import * as api from './api.js';
import { fmtDate, fmtDateTime, fmtMoney, lang, pick, t } from './i18n.js';

let kinds = null;
let loading = null;

/** Loads the words once; a failure leaves the built-in words and is retried on the next call. */
export async function loadRecordKinds() {
  if (kinds) return kinds;
  if (!loading) {
    loading = api.get('/api/v1/record-kinds')
      .then((data) => { kinds = Object.fromEntries((data.kinds || []).map((k) => [k.kind, k])); return kinds; })
      .catch(() => { loading = null; return {}; });
  }
  return loading;
}

export function recordKind(kind) {
  return kinds ? kinds[kind] || null : null;
}

/** The kind's label, or null when the server has no words for it. */
export function kindLabel(kind) {
  const k = recordKind(kind);
  return k ? pick(k.label) : null;
}

export function displayValue(field, value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? t('yes') : t('no');
  if (Array.isArray(value)) {
    return value.map((v) => displayValue(field, v)).join(lang() === 'en' ? ', ' : '、') || '—';
  }
  if (typeof value === 'object') {
    const sub = (field && field.fields) || [];
    return sub.map((f) => `${pick(f.label)} ${displayValue(f, value[f.name])}`).join(' · ');
  }
  if (field && field.values && field.values[String(value)]) return pick(field.values[String(value)]);
  if (field && field.format === 'letters' && field.values && typeof value === 'string') {
    // one-letter codes, each its own words (a vehicle's status KQ: 查封、逾期未检验)
    return [...value].map((c) => displayValue(field, c)).join(lang() === 'en' ? ', ' : '、');
  }
  switch (field && field.format) {
    case 'money': return fmtMoney(value);
    case 'date': return fmtDate(value);
    case 'datetime': return fmtDateTime(value);
    case 'area': return `${value} m²`;
    default: return String(value);
  }
}
