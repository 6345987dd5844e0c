// One search followed live: each agency's state as it changes (over the server-sent events
// stream, with no reload), a running log of arrivals, and the dossier redrawn as answers land.
// If the stream cannot be held (a proxy cuts it, the token expires), it falls back to polling.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { fmtDateTime, fmtTime, label, pick, t } from '../i18n.js';
import { showError } from '../banner.js';
import { renderDossier } from './dossier.js';
import { loadRecordKinds } from '../records.js';

const TERMINAL = new Set(['succeeded', 'rejected', 'failed', 'expired']);
const UNHEALTHY = new Set(['down', 'recovering', 'auth_failed', 'degraded']);

/** The state a judge reads: waiting, asked, answered, reused, failed, rejected, expired. */
export function uiState(task) {
  if (task.reused) return 'reused';
  switch (task.status) {
    case 'queued': return 'waiting';
    case 'running': return 'asked';
    case 'waiting': return 'asked';
    case 'succeeded': return 'answered';
    default: return task.status; // rejected | failed | expired
  }
}

export function stateText(task) {
  const state = uiState(task);
  switch (state) {
    case 'waiting': return t('state_waiting');
    case 'asked': return task.status === 'waiting' ? t('state_asked_deferred') : t('state_asked');
    case 'answered':
      return task.record_count === 0 ? t('state_answered_empty') : t('state_answered', { n: task.record_count ?? '?' });
    case 'reused': return t('state_reused', { at: fmtDateTime(task.answered_at) });
    case 'rejected': return t('state_rejected');
    case 'failed': return t('state_failed');
    case 'expired': return t('state_expired');
    default: return state;
  }
}

function errorText(task) {
  const e = task.error || (task.error_code ? { code: task.error_code, message: task.error_message } : null);
  if (!e) return null;
  return e.message ? String(e.message) : e.code;
}

export class LiveSearch {
  /**
   * @param {HTMLElement} root  where the agencies, the log and the dossier are drawn
   * @param {string} searchId
   * @param {{onUpdate?: Function, onComplete?: Function, controls?: object}} hooks  controls: the
   *   case's measures (views/measures.js), which add a control column to the dossier
   */
  constructor(root, searchId, hooks = {}) {
    this.root = root;
    this.searchId = searchId;
    this.hooks = hooks;
    this.tasks = new Map(); // agency -> task (view shape)
    this.view = null;
    this.source = null;
    this.pollTimer = null;
    this.refreshTimer = null;
    this.closed = false;
    this.health = {}; // agency -> health from GET /api/v1/agencies (down, degraded, ...)
    this.agencyList = h('ul', { class: 'agencies', 'aria-label': t('agencies_label') });
    this.status = h('p', { class: 'search-status', role: 'status' });
    this.log = h('ol', { class: 'activity-log', 'aria-live': 'polite', 'aria-label': t('activity_label') });
    this.dossierBox = h('div', { class: 'dossier-box' });
    root.dataset.searchId = searchId;
    root.dataset.searchStatus = 'loading';
    replace(root,
      h('div', { class: 'live-grid' },
        h('div', { class: 'live-agencies' }, h('h3', {}, t('agencies_title')), this.status, this.agencyList,
          h('details', { class: 'activity' }, h('summary', {}, t('activity_title')), this.log)),
        h('div', { class: 'live-dossier' }, h('h3', {}, t('dossier_title')), this.dossierBox)));
  }

  async start() {
    this.loadHealth();
    await this.refresh();
    if (this.closed) return;
    if (this.view && this.view.status === 'completed') {
      this.finish(false);
      return;
    }
    this.follow();
  }

  /** Each agency's health, so a judge knows why an answer is slow; best effort. */
  async loadHealth() {
    try {
      const data = await api.get('/api/v1/agencies');
      for (const a of data.agencies || []) this.health[a.name] = a.health;
      if (!this.closed) this.drawAgencies();
    } catch {
      // Not essential: the states alone still tell the story.
    }
  }

  follow() {
    const url = this.view?.events_url || `/api/v1/searches/${this.searchId}/events`;
    const source = api.events(url);
    this.source = source;
    source.addEventListener('task', (event) => this.onTask(JSON.parse(event.data)));
    source.addEventListener('search_completed', () => {
      source.close();
      this.source = null;
      this.refresh().then(() => this.finish(true));
    });
    source.addEventListener('error', () => {
      // The browser retries by itself while the stream is merely interrupted; once it gives
      // up (401/403/404 or a non-stream answer), poll instead.
      if (source.readyState === EventSource.CLOSED && !this.closed) {
        this.source = null;
        this.poll();
      }
    });
  }

  poll() {
    if (this.closed || this.pollTimer) return;
    const tick = async () => {
      this.pollTimer = null;
      await this.refresh();
      if (this.closed) return;
      if (this.view && this.view.status === 'completed') this.finish(true);
      else this.pollTimer = setTimeout(tick, 2000);
    };
    this.pollTimer = setTimeout(tick, 1000);
  }

  onTask(data) {
    const prev = this.tasks.get(data.agency) || { agency: data.agency };
    const task = {
      ...prev,
      status: data.status,
      reused: data.reused ?? prev.reused ?? false,
      record_count: data.record_count ?? prev.record_count ?? null,
      answered_at: data.answered_at ?? prev.answered_at ?? null,
      attempts: data.attempts ?? prev.attempts,
      error: data.error_code ? { code: data.error_code, message: data.error_message } : (TERMINAL.has(data.status) ? prev.error : null),
    };
    this.tasks.set(data.agency, task);
    this.addLog(data.at, task);
    this.drawAgencies();
    // Only an answer changes the dossier; every other state is already drawn from the event.
    // (Each read of the dossier is an audited read: no needless ones.)
    if (data.status === 'succeeded') this.scheduleRefresh();
  }

  addLog(at, task) {
    const name = pick(task.name) || task.agency;
    this.log.append(h('li', { 'data-agency': task.agency, 'data-state': uiState(task) },
      h('time', { datetime: at || '' }, fmtTime(at || new Date().toISOString())), ' ', name, ' · ', stateText(task)));
  }

  scheduleRefresh() {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, 250);
  }

  async refresh() {
    if (this.closed) return;
    try {
      const [view] = await Promise.all([api.get(`/api/v1/searches/${this.searchId}`), loadRecordKinds()]);
      if (this.closed) return;
      this.view = view;
      for (const task of view.agencies || []) {
        const known = this.tasks.get(task.agency);
        // An event newer than this read may already have moved the agency on: keep the later state.
        if (known && TERMINAL.has(known.status) && !TERMINAL.has(task.status)) continue;
        this.tasks.set(task.agency, task);
      }
      this.drawAgencies();
      replace(this.dossierBox, renderDossier(view, { controls: this.hooks.controls || null }));
      if (this.hooks.onUpdate) this.hooks.onUpdate(view);
    } catch (err) {
      showError(err);
      if (err instanceof api.ApiError && [401, 403, 404].includes(err.status)) this.close();
    }
  }

  drawAgencies() {
    const tasks = [...this.tasks.values()].sort((a, b) => a.agency.localeCompare(b.agency));
    const done = tasks.filter((task) => TERMINAL.has(task.status)).length;
    replace(this.agencyList, tasks.map((task) => {
      const state = uiState(task);
      const err = TERMINAL.has(task.status) && task.status !== 'succeeded' ? errorText(task) : null;
      return h('li', { class: `agency state-${state}`, 'data-agency': task.agency, 'data-state': state },
        h('span', { class: 'agency-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'agency-name' }, pick(task.name) || task.agency),
        h('span', { class: 'agency-state' }, stateText(task)),
        err ? h('span', { class: 'agency-error small' }, err) : null,
        UNHEALTHY.has(this.health[task.agency]) && !TERMINAL.has(task.status)
          ? h('span', { class: 'agency-health small', 'data-health': this.health[task.agency] }, label('health', this.health[task.agency]))
          : null,
        task.answered_at && state === 'answered'
          ? h('span', { class: 'agency-time small muted' }, fmtDateTime(task.answered_at, { seconds: true })) : null);
    }));
    const completed = this.view && this.view.status === 'completed' && done === tasks.length;
    this.status.textContent = completed
      ? t('search_completed', { at: fmtDateTime(this.view.completed_at, { seconds: true }) })
      : t('search_progress', { done, total: tasks.length });
    this.root.dataset.searchStatus = completed ? 'completed' : 'running';
  }

  finish(live) {
    this.stopTimers();
    if (this.hooks.onComplete) this.hooks.onComplete(this.view, live);
  }

  stopTimers() {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.pollTimer = null;
    this.refreshTimer = null;
  }

  close() {
    this.closed = true;
    this.stopTimers();
    if (this.source) this.source.close();
    this.source = null;
  }
}
