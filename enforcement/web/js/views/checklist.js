// The 终本 checklist (SPC 2016 rules, DOMAIN.md section 4): each of the six conditions met or
// missing, broken into its requirements (per debtor where the law asks per debtor), each with
// the evidence the service found: recorded case events and the searches made through it.

import { h } from '../dom.js';
import { fmtDate, fmtDateTime, label, pick, t } from '../i18n.js';

function evidenceItem(ev) {
  if (ev === null || ev === undefined) return null;
  if (typeof ev === 'string') return h('li', {}, ev);
  const parts = ev.source === 'case' ? [] : [h('time', { datetime: ev.on || '' }, fmtDate(ev.on || ev.answered_at)), ' '];
  if (ev.source === 'search') {
    parts.push(label('agency', ev.agency));
    if (ev.category) parts.push(' · ', label('category', ev.category));
    parts.push(' · ', ev.record_count === 0 ? t('evidence_nothing_found') : t('evidence_records', { n: ev.record_count }));
    if (ev.reused) parts.push(' ', h('span', { class: 'tag tag-muted small' }, t('reused_short')));
    if (ev.answered_at) parts.push(' ', h('span', { class: 'muted' }, `(${fmtDateTime(ev.answered_at)})`));
    if (ev.search_id) parts.push(' ', h('a', { href: `?search=${ev.search_id}`, 'data-open-search': ev.search_id }, t('open_search')));
  } else if (ev.source === 'event' || ev.event_type) {
    parts.push(label('event', ev.event_type));
    for (const key of ['category', 'outcome', 'reason']) {
      if (ev[key] !== undefined && ev[key] !== null) parts.push(' · ', label(key === 'category' ? 'category' : 'event_value', ev[key]));
    }
    if (ev.found !== undefined) parts.push(' · ', ev.found ? t('evidence_found') : t('evidence_nothing_found'));
  } else if (ev.source === 'case') {
    if (ev.reason_zh) {
      parts.push(pick({ zh: ev.reason_zh, en: ev.reason }));
    } else if (ev.field === 'filed_on') {
      parts.push(t('evidence_filed', { date: fmtDate(ev.on) }));
      if (ev.threshold) parts.push(' · ', t('evidence_threshold', { date: fmtDate(ev.threshold) }));
    } else {
      parts.push(label('evidence', ev.field || 'case'));
    }
  } else {
    const text = ev.text || ev.description || ev.message;
    parts.push(text ? pick(text) : JSON.stringify(ev));
  }
  return h('li', {}, parts);
}

const ZHONGBEN = '终结本次执行程序';

// The checklist is about closing as 终本: it applies to open cases and to 终本 closures. A case
// closed any other way (执行完毕, 终结执行, ...) shows how it closed instead (issue 16).
export function checklistApplies(c) {
  return c.status !== 'closed' || c.closure_mode === ZHONGBEN;
}

export function renderClosure(c) {
  return h('div', { class: 'closure-summary', 'data-closure-mode': c.closure_mode || '', 'data-closed-on': c.closed_on || '' },
    h('p', { role: 'status' }, t('closure_summary', { mode: c.closure_mode || '—', date: fmtDate(c.closed_on) })),
    h('p', { class: 'muted small' }, t('closure_not_zhongben')));
}

function requirement(r) {
  const evidence = r.evidence || [];
  const na = r.note === 'not_applicable';
  const noLeads = r.note === 'no_leads_given';
  return h('li', { class: ['requirement', r.met ? 'met' : 'unmet'], 'data-requirement': r.code, 'data-met': String(Boolean(r.met)),
    'data-basis': r.basis || null },
    h('span', { class: 'req-mark', 'aria-hidden': 'true' }, r.met ? '✓' : '✗'),
    h('span', { class: 'req-title' }, pick(r.title) || r.code),
    r.debtor ? h('span', { class: 'muted small' }, ` · ${r.debtor.name}`) : null,
    ' ',
    h('span', { class: ['tag', na ? 'tag-muted' : r.met ? 'tag-ok' : 'tag-alert'] },
      na ? t('not_applicable') : r.met ? t('condition_met') : t('condition_unmet')),
    r.basis ? h('span', { class: ['tag', 'small', r.basis === 'court' ? 'tag-warn' : 'tag-muted'] },
      t(r.basis === 'court' ? 'basis_court' : 'basis_law')) : null,
    noLeads ? h('span', { class: 'muted small' }, ` ${t('no_leads_given')}`) : null,
    r.note && !na && !noLeads ? h('span', { class: 'muted small', 'data-note': r.note }, ` ${label('note', r.note)}`) : null,
    evidenceList(evidence));
}

// Evidence grows with every search: newest first, the latest EVIDENCE_SHOWN shown and the rest
// behind "另有 N 条" (N more). Undated items (the case's own facts) come after the dated ones.
export const EVIDENCE_SHOWN = 5;

function evidenceDate(ev) {
  if (!ev || typeof ev !== 'object') return '';
  const at = ev.answered_at || ev.on || ev.occurred_on || '';
  if (!at) return '';
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(at) ? `${at}T00:00:00+08:00` : at);
  return Number.isNaN(d.getTime()) ? String(at) : d.toISOString();
}

export function orderEvidence(evidence) {
  return evidence.filter((ev) => ev !== null && ev !== undefined)
    .map((ev, i) => ({ ev, i, at: evidenceDate(ev) }))
    .sort((a, b) => (a.at === b.at ? a.i - b.i : !a.at ? 1 : !b.at ? -1 : a.at < b.at ? 1 : -1))
    .map((x) => x.ev);
}

function evidenceList(evidence) {
  const ordered = orderEvidence(evidence);
  if (!ordered.length) return null;
  const items = ordered.map(evidenceItem);
  const hidden = items.slice(EVIDENCE_SHOWN);
  hidden.forEach((li) => { li.hidden = true; });
  const list = h('ul', { class: 'evidence small', 'data-evidence-count': ordered.length }, items);
  if (!hidden.length) return list;
  const more = h('button', { type: 'button', class: 'link-button small', 'data-evidence-more': hidden.length, 'aria-expanded': 'false' },
    t('evidence_more', { n: hidden.length }));
  more.addEventListener('click', () => {
    const open = more.getAttribute('aria-expanded') !== 'true';
    hidden.forEach((li) => { li.hidden = !open; });
    more.setAttribute('aria-expanded', String(open));
    more.textContent = open ? t('evidence_fewer') : t('evidence_more', { n: hidden.length });
  });
  return [list, h('p', { class: 'evidence-more' }, more)];
}

export function renderChecklist(check) {
  const conditions = check.conditions || [];
  const ready = check.ready ?? conditions.every((c) => c.met);
  const missing = conditions.filter((c) => !c.met).length;
  return h('div', { class: 'checklist', 'data-ready': String(Boolean(ready)) },
    h('p', { class: ['checklist-verdict', ready ? 'ok' : 'missing'], role: 'status' },
      ready ? t('checklist_ready') : t('checklist_missing', { n: missing })),
    check.as_of ? h('p', { class: 'muted small' }, t('checklist_as_of', { date: fmtDate(check.as_of) })) : null,
    (check.unsearchable_categories || []).length ? h('ul', { class: 'unsearchable small' },
      check.unsearchable_categories.map((u) => h('li', { 'data-category': u.category }, '⚠ ', pick(u.message)))) : null,
    h('ol', { class: 'conditions' }, conditions.map((c, i) => {
      const requirements = c.requirements || [];
      const unmet = requirements.filter((r) => !r.met).length;
      return h('li', { class: ['condition', c.met ? 'met' : 'unmet'], 'data-condition': c.code || String(i + 1), 'data-met': String(Boolean(c.met)) },
        h('span', { class: 'condition-mark', 'aria-hidden': 'true' }, c.met ? '✓' : '✗'),
        h('details', { class: 'condition-body', open: !c.met },
          h('summary', { class: 'condition-title' },
            h('span', {}, `${c.number ?? i + 1}. `, pick(c.title) || c.code), ' ',
            h('span', { class: ['tag', c.met ? 'tag-ok' : 'tag-alert'] },
              c.met ? t('condition_met') : t('condition_unmet_n', { n: unmet }))),
          requirements.length ? h('ul', { class: 'requirements' }, requirements.map(requirement)) : null));
    })));
}
