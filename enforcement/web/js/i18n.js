// Language, words and formats. Chinese first; English on the toggle, remembered in
// localStorage. Times are shown in Beijing time whatever the browser's zone; money in yuan
// with thousands separators.

import { STRINGS } from './strings.js';

const LANG_KEY = 'enforcement.lang';
const listeners = new Set();

export function lang() {
  const saved = localStorage.getItem(LANG_KEY);
  return saved === 'en' ? 'en' : 'zh';
}

export function setLang(value) {
  localStorage.setItem(LANG_KEY, value === 'en' ? 'en' : 'zh');
  applyDocumentLang();
  listeners.forEach((fn) => fn(lang()));
}

export function onLangChange(fn) {
  listeners.add(fn);
}

export function applyDocumentLang() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  document.title = t('app_name');
}

/** The word for ``key`` in the current language; ``{name}`` placeholders filled from params. */
export function t(key, params) {
  const entry = STRINGS[key];
  if (!entry) console.warn(`missing string: ${key}`); // the browser tests fail on this
  const one = entry && entry.en1 && lang() === 'en' && params && Number(params.n) === 1;
  let text = entry ? (one ? entry.en1 : entry[lang()] ?? entry.zh) : key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

/** A {zh, en} object from the API, in the current language. */
export function pick(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return value[lang()] ?? value.zh ?? value.en ?? '';
}

/** A code's label from a group of the dictionary (e.g. group "state", code "succeeded"). */
export function label(group, code) {
  const key = `${group}.${code}`;
  return key in STRINGS ? t(key) : String(code ?? '');
}

const TZ = 'Asia/Shanghai';

function parts(iso, withTime) {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const fmt = new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
    ...(withTime ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } : {}),
  });
  return Object.fromEntries(fmt.formatToParts(d).map((p) => [p.type, p.value]));
}

/** 2026-11-24 21:31 (Beijing time). */
export function fmtDateTime(iso, { seconds = false } = {}) {
  if (!iso) return '—';
  const p = parts(iso, true);
  if (!p) return String(iso);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${seconds ? `:${p.second}` : ''}`;
}

/** A calendar date as given (YYYY-MM-DD), or the Beijing date of a timestamp. */
export function fmtDate(value) {
  if (!value) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const p = parts(value, false);
  return p ? `${p.year}-${p.month}-${p.day}` : String(value);
}

/** Only the time of day, Beijing time: 21:31:05. */
export function fmtTime(iso) {
  const p = iso ? parts(iso, true) : null;
  return p ? `${p.hour}:${p.minute}:${p.second}` : '—';
}

function group(intPart) {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const CURRENCY_SIGN = { CNY: '¥', RMB: '¥', USD: 'US$', EUR: '€', HKD: 'HK$', JPY: 'JP¥', GBP: '£' };

/** ¥1,234,567.89 from a decimal string or number, without passing through floating point
 * when a string is given. */
export function fmtMoney(value, currency = 'CNY') {
  if (value === null || value === undefined || value === '') return '—';
  let s = typeof value === 'number' ? value.toFixed(2) : String(value).trim();
  if (!/^-?\d+(\.\d+)?$/.test(s)) return String(value);
  const negative = s.startsWith('-');
  if (negative) s = s.slice(1);
  let [i, f = ''] = s.split('.');
  f = (f + '00').slice(0, 2);
  const sign = CURRENCY_SIGN[currency] ?? `${currency} `;
  return `${negative ? '-' : ''}${sign}${group(i.replace(/^0+(?=\d)/, ''))}.${f}`;
}

export function fmtCount(n) {
  if (n === null || n === undefined) return '—';
  return group(String(n));
}

/** 0.9583 -> 95.83% ; values above 1.5 are taken as already in percent. */
export function fmtPercent(value, digits = 2) {
  if (value === null || value === undefined || value === '') return '—';
  const v = Number(value);
  if (!Number.isFinite(v)) return '—';
  const pct = Math.abs(v) <= 1.5 ? v * 100 : v;
  return `${pct.toFixed(digits)}%`;
}

/** Days between two dates (YYYY-MM-DD or Date), b - a. */
export function daysBetween(a, b) {
  const da = new Date(`${fmtDate(a)}T00:00:00Z`);
  const db = new Date(`${fmtDate(b)}T00:00:00Z`);
  return Math.round((db - da) / 86400000);
}

/** Today's date in Beijing, YYYY-MM-DD. */
export function todayBeijing() {
  return fmtDate(new Date().toISOString());
}
