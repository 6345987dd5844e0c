// Error and notice banners: the API's own plain-words message, in the current language,
// with the request id for the help desk.

import { ApiError } from './api.js';
import { h } from './dom.js';
import { lang, t } from './i18n.js';

function area() {
  return document.getElementById('banners');
}

export function clearBanners() {
  const el = area();
  if (el) el.replaceChildren();
}

function banner(kind, text, extra) {
  const close = h('button', { type: 'button', class: 'banner-close', 'aria-label': t('dismiss') }, '×');
  const el = h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', { class: 'banner-text' }, h('p', {}, text), extra ? h('p', { class: 'banner-extra' }, extra) : null),
    close);
  close.addEventListener('click', () => el.remove());
  area().append(el);
  return el;
}

/** Plain words for an error: the server's message when it sent one. */
export function messageOf(err) {
  if (err instanceof ApiError) {
    const m = err.messages || {};
    return (lang() === 'en' ? m.en || m.zh : m.zh || m.en) || t('error_generic');
  }
  return t('error_generic');
}

export function showError(err) {
  if (err && err.name === 'AbortError') return null;
  if (!(err instanceof ApiError)) console.error(err); // eslint-disable-line no-console
  const extra = err instanceof ApiError && err.requestId ? t('request_id', { id: err.requestId }) : null;
  return banner('error', messageOf(err), extra);
}

export function showNotice(text) {
  return banner('notice', text);
}
