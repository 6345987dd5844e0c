// Alerts (a debtor's new property, a consumption-restriction breach, a re-query due, a
// period running out): they stand out at the top of the case page and the dashboard.

import { h } from '../dom.js';
import { fmtDateTime, label, pick, t } from '../i18n.js';

export function alertItems(data) {
  if (Array.isArray(data)) return data;
  return data.items || data.alerts || [];
}

export function renderAlerts(data, { compact = false } = {}) {
  const items = alertItems(data);
  if (!items.length) return compact ? h('div', {}) : h('p', { class: 'empty' }, t('alerts_none'));
  return h('section', { class: 'alerts', 'aria-label': t('alerts_title'), role: 'region' },
    compact ? null : h('h2', {}, t('alerts_title')),
    h('ul', {}, items.map((a) => {
      const severity = a.severity || a.level || 'warning';
      const text = a.message ? pick(a.message) : a.title ? pick(a.title) : label('alert', a.kind || a.type || a.code);
      return h('li', { class: `alert alert-${severity}`, 'data-alert': a.kind || a.type || a.code || '' },
        h('strong', {}, label('alert', a.kind || a.type || a.code)), ' ',
        text !== label('alert', a.kind || a.type || a.code) ? text : null,
        a.case_number && !compact ? [' · ', a.case_id ? h('a', { href: `/ui/cases/${a.case_id}` }, a.case_number) : a.case_number] : null,
        a.created_at || a.raised_at ? h('span', { class: 'muted small' }, ` · ${fmtDateTime(a.created_at || a.raised_at)}`) : null);
    })));
}
