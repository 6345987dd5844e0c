// Alerts (new property after a 终本, a consumption-restriction breach, a dishonest listing to
// remove): they stand out at the top of the case page, of the search's dossier and of the
// dashboard, and the judge marks them seen (已阅) or handled (已处理). A control's renewal due
// (issue 17) carries its 续冻/续封 button (or, on a case closed for good, its 解除 button) wherever
// it is shown, when the alert's own answer offers the act (``actions.renew`` / ``actions.release``:
// the server puts it there only for a user ``measure_permissions`` allows, and not once one was
// submitted): the task submitted from the alert itself, its ruling defaulted from the action's body
// (the case number, the court's date). What was submitted since (``follow_up``) shows with its
// notice number.

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { fmtDate, fmtDateTime, label, pick, t } from '../i18n.js';
import { showError } from '../banner.js';
import { offeredAct, offeredActControls } from './measures.js';

export function alertItems(data) {
  if (Array.isArray(data)) return data;
  return data.alerts || data.items || [];
}

function severity(a) {
  if (['consumption_breach', 'new_property', 'measure_lapsed'].includes(a.kind)) return 'high';
  return 'warning';
}

function statusButtons(a, onChange) {
  if (!a.id || a.status === 'resolved') return null;
  const set = (status) => async (event) => {
    event.currentTarget.disabled = true;
    try {
      const updated = await api.post(`/api/v1/alerts/${a.id}/status`, { status });
      onChange(updated);
    } catch (err) {
      event.currentTarget.disabled = false;
      showError(err);
    }
  };
  return h('span', { class: 'alert-actions' },
    a.status === 'open' ? h('button', { type: 'button', class: 'btn btn-small', onclick: set('acknowledged') }, t('alert_acknowledge')) : null,
    h('button', { type: 'button', class: 'btn btn-small', onclick: set('resolved') }, t('alert_resolve')));
}

/** What became of the renewal or release submitted since the alert was raised. */
function followUpNote(x) {
  const f = x.follow_up;
  if (!f) return null;
  const outcome = ['pending', 'awaiting_approval'].includes(f.status) ? 'submitted' : f.status === 'done' ? 'done' : 'failed';
  return h('div', { class: ['small', 'alert-follow-up', outcome === 'failed' ? 'error-text' : 'muted'], [`data-${f.kind}-${outcome}`]: f.id },
    t(`alert_${f.kind}_${outcome}`, { notice: f.notice_number || '' }));
}

function renewControls(x, act, onActed) {
  const evidence = x.evidence || {};
  const word = label(evidence.kind === 'seal' ? 'measure_kind_vehicle' : 'measure_kind_bank_account', act);
  return offeredActControls(x.actions[act], act, { word, attrs: { [`data-alert-${act}`]: evidence.measure_id ?? '' }, onActed });
}

function alertItem(a, { compact, withCase, onActed }) {
  const li = h('li', {});
  const draw = (x) => {
    const kind = x.kind || x.type || x.code;
    const act = offeredAct(x.actions);
    const note = followUpNote(x); // offered again after a refusal: the note says why, until the next one is sent
    const renewing = act ? renewControls(x, act, (made) => { if (note) note.remove(); if (onActed) onActed(made); }) : null;
    replace(li,
      h('div', { class: 'alert-text' },
        h('strong', {}, `⚠ ${label('alert', kind === 'measure_renewal_due' && (x.evidence || {}).advice === 'release' ? 'measure_release_due' : kind)}`), ' ',
        x.message ? h('span', {}, pick(x.message)) : null,
        withCase && x.case ? [' · ', h('a', { href: `/ui/cases/${x.case.id}` }, x.case.case_number)] : null,
        x.due_on ? h('span', { class: 'muted small' }, ` · ${t('alert_due', { date: fmtDate(x.due_on) })}`) : null,
        x.raised_at ? h('span', { class: 'muted small' }, ` · ${fmtDateTime(x.raised_at)}`) : null,
        x.status && x.status !== 'open' ? h('span', { class: 'tag tag-muted' }, label('alert_status', x.status)) : null,
        note),
      renewing ? renewing.button : null,
      compact && !x.id ? null : statusButtons(x, draw),
      renewing ? renewing.box : null);
    li.className = `alert alert-${severity(x)} alert-status-${x.status || 'open'}`;
    li.dataset.alert = kind || '';
  };
  draw(a);
  return li;
}

/**
 * @param data an alerts page (GET /api/v1/alerts) or a search view's ``alerts`` list
 * @param onActed called with the measure a renewal or release from an alert made (to reload what shows it)
 */
export function renderAlerts(data, { compact = false, withCase = false, hideResolved = true, onActed = null } = {}) {
  const items = alertItems(data).filter((a) => !(hideResolved && a.status === 'resolved'));
  if (!items.length) return compact ? h('div', {}) : h('p', { class: 'empty' }, t('alerts_none'));
  return h('section', { class: 'alerts', 'aria-label': t('alerts_title') },
    compact ? null : h('h2', {}, t('alerts_title')),
    h('ul', {}, items.map((a) => alertItem(a, { compact, withCase, onActed }))));
}
