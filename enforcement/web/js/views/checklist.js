// The 终本 checklist (SPC 2016 rules, DOMAIN.md section 4): each condition met or missing,
// with the evidence the service found for it.

import { h } from '../dom.js';
import { fmtDate, fmtDateTime, label, pick, t } from '../i18n.js';

function evidenceItem(ev) {
  if (ev === null || ev === undefined) return null;
  if (typeof ev === 'string') return h('li', {}, ev);
  const text = ev.text || ev.description || ev.message || ev.label;
  const when = ev.occurred_on || ev.date || ev.at || ev.created_at || ev.answered_at;
  const parts = [];
  if (when) parts.push(h('time', {}, /T/.test(String(when)) ? fmtDateTime(when) : fmtDate(when)), ' ');
  if (text) parts.push(pick(text));
  else if (ev.event_type) parts.push(label('event', ev.event_type));
  else if (ev.kind) parts.push(label('evidence', ev.kind));
  if (ev.agency) parts.push(' · ', ev.agency_name ? pick(ev.agency_name) : label('agency', ev.agency));
  if (ev.search_id) parts.push(' ', h('a', { href: `?search=${ev.search_id}`, class: 'small' }, t('open_search')));
  if (!parts.length) parts.push(JSON.stringify(ev));
  return h('li', {}, parts);
}

export function conditionsOf(check) {
  return check.conditions || check.checklist || check.items || [];
}

export function renderChecklist(check) {
  const conditions = conditionsOf(check);
  const ready = check.ready ?? check.eligible ?? check.passes ?? conditions.every((c) => c.met);
  const missing = conditions.filter((c) => !c.met).length;
  return h('div', { class: 'checklist', 'data-ready': String(Boolean(ready)) },
    h('p', { class: ['checklist-verdict', ready ? 'ok' : 'missing'], role: 'status' },
      ready ? t('checklist_ready') : t('checklist_missing', { n: missing })),
    h('ol', { class: 'conditions' }, conditions.map((c, i) => {
      const title = c.title || c.label || c.name || label('condition', c.code || c.id || String(i + 1));
      const evidence = c.evidence ? (Array.isArray(c.evidence) ? c.evidence : [c.evidence]) : [];
      const why = c.missing || c.reason || c.explanation || c.detail;
      return h('li', { class: ['condition', c.met ? 'met' : 'unmet'], 'data-condition': c.code || c.id || String(i + 1), 'data-met': String(Boolean(c.met)) },
        h('span', { class: 'condition-mark', 'aria-hidden': 'true' }, c.met ? '✓' : '✗'),
        h('div', { class: 'condition-body' },
          h('p', { class: 'condition-title' }, pick(title), ' ',
            h('span', { class: ['tag', c.met ? 'tag-ok' : 'tag-alert'] }, c.met ? t('condition_met') : t('condition_unmet'))),
          why ? h('p', { class: 'small muted' }, pick(why)) : null,
          evidence.length ? h('ul', { class: 'evidence small' }, evidence.map(evidenceItem)) : null));
    })));
}
