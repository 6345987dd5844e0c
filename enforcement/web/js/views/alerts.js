// Alerts (new property after a 终本, a consumption-restriction breach, a dishonest listing to
// remove): they stand out at the top of the case page, of the search's dossier and of the
// dashboard, and the judge marks them seen (已阅) or handled (已处理).

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { fmtDate, fmtDateTime, label, pick, t } from '../i18n.js';
import { showError } from '../banner.js';

export function alertItems(data) {
  if (Array.isArray(data)) return data;
  return data.alerts || data.items || [];
}

function severity(a) {
  if (a.kind === 'consumption_breach' || a.kind === 'new_property') return 'high';
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

function alertItem(a, { compact, withCase }) {
  const li = h('li', {});
  const draw = (x) => {
    const kind = x.kind || x.type || x.code;
    replace(li,
      h('div', { class: 'alert-text' },
        h('strong', {}, `⚠ ${label('alert', kind)}`), ' ',
        x.message ? h('span', {}, pick(x.message)) : null,
        withCase && x.case ? [' · ', h('a', { href: `/ui/cases/${x.case.id}` }, x.case.case_number)] : null,
        x.due_on ? h('span', { class: 'muted small' }, ` · ${t('alert_due', { date: fmtDate(x.due_on) })}`) : null,
        x.raised_at ? h('span', { class: 'muted small' }, ` · ${fmtDateTime(x.raised_at)}`) : null,
        x.status && x.status !== 'open' ? h('span', { class: 'tag tag-muted' }, label('alert_status', x.status)) : null),
      compact && !x.id ? null : statusButtons(x, draw));
    li.className = `alert alert-${severity(x)} alert-status-${x.status || 'open'}`;
    li.dataset.alert = kind || '';
  };
  draw(a);
  return li;
}

/** @param data an alerts page (GET /api/v1/alerts) or a search view's ``alerts`` list */
export function renderAlerts(data, { compact = false, withCase = false, hideResolved = true } = {}) {
  const items = alertItems(data).filter((a) => !(hideResolved && a.status === 'resolved'));
  if (!items.length) return compact ? h('div', {}) : h('p', { class: 'empty' }, t('alerts_none'));
  return h('section', { class: 'alerts', 'aria-label': t('alerts_title') },
    compact ? null : h('h2', {}, t('alerts_title')),
    h('ul', {}, items.map((a) => alertItem(a, { compact, withCase }))));
}
