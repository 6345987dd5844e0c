// The operator's page: each agency's health as every dispatcher sees it (GET /api/v1/agencies):
// breaker, rate, queue, recent calls and the last error, callbacks of the last hour (accepted,
// refused, the last one) and each secret's age (never the secret). Refreshes every 10 seconds.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { fmtCount, fmtDateTime, label, pick, t } from '../i18n.js';
import { showError } from '../banner.js';

const REFRESH_MS = 10_000;
const HEALTH_CLASS = { up: 'tag-ok', degraded: 'tag-warn', recovering: 'tag-warn', down: 'tag-alert', auth_failed: 'tag-alert' };

function ms(v) {
  return v === null || v === undefined ? '—' : `${Math.round(v)} ms`;
}

function row(a) {
  const r = a.recent || {};
  const q = a.queue || {};
  const b = a.breaker || {};
  const p = a.policy || {};
  return h('tr', { 'data-agency': a.name, 'data-health': a.health },
    h('th', { scope: 'row' }, h('strong', {}, pick(a.display_name) || a.name), h('br'), h('span', { class: 'mono small muted' }, a.name)),
    h('td', {}, h('span', { class: ['tag', HEALTH_CLASS[a.health] || 'tag-muted'] }, label('ops_health', a.health))),
    h('td', {}, label('breaker', b.state),
      b.state !== 'closed' && b.open_until ? h('div', { class: 'small muted' }, t('until', { date: fmtDateTime(b.open_until, { seconds: true }) })) : null,
      b.reason ? h('div', { class: 'small mono' }, b.reason) : null),
    h('td', { class: 'num' }, p.rate_per_second !== undefined ? t('rate_per_second', { n: p.rate_per_second }) : '—',
      h('div', { class: 'small muted' }, t('in_flight_of', { n: r.in_flight ?? 0, max: p.max_in_flight ?? '—' }))),
    h('td', { class: 'num' }, t('queue_cell', { queued: fmtCount(q.queued ?? 0), running: fmtCount(q.running ?? 0) }),
      q.waiting ? h('div', { class: 'small muted' }, t('tickets_waiting', { n: q.waiting })) : null),
    h('td', { class: 'num' }, t('calls_failures', { calls: fmtCount(r.calls ?? 0), failures: fmtCount(r.failures ?? 0) }),
      h('div', { class: 'small muted' }, `p50 ${ms(r.p50_ms)} · p95 ${ms(r.p95_ms)}`)),
    h('td', {}, r.last_error ? h('span', { class: 'mono small error-text' }, r.last_error) : h('span', { class: 'muted' }, t('no_errors')),
      r.last_call_at ? h('div', { class: 'small muted' }, t('last_call_at', { at: fmtDateTime(r.last_call_at, { seconds: true }) })) : null),
    h('td', {}, a.answer_mode === 'deferred' ? (a.callbacks ? t('callbacks_signed') : t('answers_polled')) : t('answers_sync'),
      callbackActivity(a.callback_activity)),
    h('td', { class: 'secrets-cell' }, (a.secrets || []).map(secret)));
}

function callbackActivity(c) {
  if (!c) return null;
  return h('div', { class: 'small callback-activity' },
    h('div', {}, t('callbacks_last_hour', { accepted: fmtCount(c.accepted ?? 0), refused: fmtCount(c.refused ?? 0) })),
    c.last_at ? h('div', { class: c.last_result === 'refused' ? 'error-text' : 'muted' },
      t(c.last_result === 'refused' ? 'callback_last_refused' : 'callback_last_accepted', { at: fmtDateTime(c.last_at, { seconds: true }) }),
      c.last_reason ? h('span', { class: 'mono' }, ` ${c.last_reason}`) : null) : null);
}

function secret(s) {
  const age = s.secret_age_days !== null && s.secret_age_days !== undefined
    ? t('secret_age', { n: fmtCount(s.secret_age_days), issued: s.issued_on }) : null;
  return h('div', { class: 'small secret', 'data-secret': s.kind, 'data-status': s.status },
    h('strong', {}, label('secret_kind', s.kind)), ' ',
    s.configured ? (age ? h('span', {}, age) : null) : h('span', { class: 'muted' }, t('secret_not_configured')),
    s.warning ? h('div', {},
      h('span', { class: ['tag', s.status === 'too_old' ? 'tag-alert' : 'tag-warn'] }, pick(s.warning))) : null,
    s.runbook ? h('div', { class: 'muted' }, t('secret_rotation_see'), ' ', h('span', { class: 'mono' }, s.runbook)) : null);
}

export async function render(ctx) {
  const body = h('div', {}, h('p', { class: 'loading', role: 'status' }, t('loading')));
  const stamp = h('p', { class: 'muted small', 'aria-live': 'polite' });
  replace(ctx.main, h('section', { class: 'page agencies-page' },
    h('div', { class: 'page-head' }, h('h1', {}, t('agencies_health_title'))),
    h('p', { class: 'muted' }, t('agencies_health_intro')), stamp, body));
  let timer = null;
  const load = async () => {
    try {
      const data = await api.get('/api/v1/agencies');
      if (!ctx.isCurrent()) return;
      const head = h('tr', {}, ['col_agency', 'col_health', 'col_breaker', 'col_rate', 'col_queue', 'col_recent_calls',
        'col_last_error', 'col_callbacks', 'col_secrets'].map((k) => h('th', { scope: 'col' }, t(k))));
      replace(body, h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('agencies_health_title') },
        h('table', { class: 'data agencies-table' }, h('thead', {}, head), h('tbody', {}, (data.agencies || []).map(row)))));
      stamp.textContent = t('agencies_health_stamp', { workers: data.workers ?? 0, at: fmtDateTime(new Date().toISOString(), { seconds: true }) });
    } catch (err) {
      showError(err);
    }
    if (ctx.isCurrent()) timer = setTimeout(load, REFRESH_MS);
  };
  await load();
  return () => { if (timer) clearTimeout(timer); };
}
