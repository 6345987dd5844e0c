// The 查控结果 report of one search, for the case file: the court, the case, the judge, the
// 协助查询通知书 number, the subject (ID masked), then each agency asked with its answer, the
// time of the answer (Beijing time) and the records it gave, in the words of GET
// /api/v1/record-kinds, or 查无信息. Printed on A4 with css/app.css's print rules (no
// navigation, black on white, one agency per page).

import * as api from '../api.js';
import { h, replace } from '../dom.js';
import { fmtDateTime, label, pick, t } from '../i18n.js';
import { showError } from '../banner.js';
import { displayValue, kindLabel, loadRecordKinds, recordKind } from '../records.js';
import { maskIdNumber } from '../privacy.js';
import { stateText, uiState } from './live-search.js';

function fact(term, value, key) {
  return [h('dt', {}, term), h('dd', { 'data-report-fact': key }, value ?? '—')];
}

function kindTitle(kind) {
  return kindLabel(kind) || label('kind', kind);
}

/** The entry's fields in the kind's words; the fields the schema does not name come last. */
function fieldsOf(kind, data) {
  const known = recordKind(kind);
  const fields = known ? known.fields.filter((f) => f.name in data) : [];
  const named = new Set(fields.map((f) => f.name));
  const rest = Object.keys(data).filter((k) => !named.has(k)).map((name) => ({ name, label: { zh: name, en: name } }));
  return [...fields, ...rest];
}

function recordTable(kind, entries) {
  const fields = [];
  const seen = new Set();
  for (const e of entries) {
    for (const f of fieldsOf(kind, e.data || {})) {
      if (!seen.has(f.name)) { seen.add(f.name); fields.push(f); }
    }
  }
  return h('section', { class: 'report-kind', 'data-kind': kind },
    h('h4', {}, kindTitle(kind), ' ', h('span', { class: 'small' }, `(${t('report_records', { n: entries.length })})`)),
    h('ol', { class: 'report-records' }, entries.map((e) => h('li', { 'data-key': e.natural_key },
      h('dl', { class: 'report-fields' }, fields.filter((f) => (e.data || {})[f.name] !== undefined).map((f) => h('div', { 'data-field': f.name },
        h('dt', {}, pick(f.label)), h('dd', {}, displayValue(f, e.data[f.name])))))))));
}

function agencySection(task, entries, index) {
  const state = uiState(task);
  const answered = ['answered', 'reused'].includes(state);
  const byKind = new Map();
  for (const e of entries) {
    if (!byKind.has(e.kind)) byKind.set(e.kind, []);
    byKind.get(e.kind).push(e);
  }
  let body;
  if (!answered) body = h('p', { class: 'report-no-answer' }, t('report_no_answer'));
  else if (!entries.length) body = h('p', { class: 'report-nothing', 'data-nothing-found': '' }, t('report_nothing'));
  else body = [...byKind.entries()].map(([kind, list]) => recordTable(kind, list));
  return h('section', { class: 'report-agency', 'data-agency': task.agency, 'data-state': state },
    h('h3', {}, `${index + 1}. `, pick(task.name) || label('agency', task.agency)),
    h('dl', { class: 'report-facts' },
      fact(t('report_state'), stateText(task), 'state'),
      fact(t('report_answered_at'), task.answered_at ? fmtDateTime(task.answered_at, { seconds: true }) : '—', 'answered_at')),
    body);
}

export async function render(ctx) {
  const { main, params } = ctx;
  let view;
  let c = null;
  try {
    [view] = await Promise.all([api.get(`/api/v1/searches/${params.searchId}`), loadRecordKinds()]);
    c = await api.get(`/api/v1/cases/${view.case_id}`).catch(() => null);
  } catch (err) {
    replace(main, h('section', { class: 'page' }, h('h1', {}, t('report_unavailable')),
      h('p', { class: 'error-text', 'data-error-code': err.code || '' }, err instanceof api.ApiError ? pick(err.messages) : t('error_generic'))));
    if (!(err instanceof api.ApiError) || ![403, 404].includes(err.status)) showError(err);
    return undefined;
  }
  if (!ctx.isCurrent()) return undefined;
  const entries = Object.values((view.dossier || {}).sections || {}).flat();
  const ofAgency = (agency) => entries.filter((e) => (e.provenance || []).some((p) => p.agency === agency));
  const subject = view.subject || {};
  const printed = h('p', { class: 'report-printed', 'data-printed-at': '' }, t('report_printed_at', { at: fmtDateTime(new Date(), { seconds: true }) }));
  // The print time is the moment of printing, not of drawing.
  const beforePrint = () => { printed.textContent = t('report_printed_at', { at: fmtDateTime(new Date(), { seconds: true }) }); };
  window.addEventListener('beforeprint', beforePrint);
  replace(main, h('article', { class: 'page report', 'data-search-id': view.id },
    h('div', { class: 'report-toolbar no-print' },
      h('a', { class: 'btn', href: `/ui/cases/${view.case_id}?search=${view.id}` }, t('report_back')),
      h('button', { type: 'button', class: 'btn btn-primary', 'data-print': '', onclick: () => window.print() }, t('report_print'))),
    h('header', { class: 'report-head' },
      h('p', { class: 'report-court', 'data-report-fact': 'court_title' }, c ? c.court_name || c.court_code : ''),
      h('h1', {}, t('report_title'))),
    h('dl', { class: 'report-facts report-case' },
      fact(t('col_court'), c ? c.court_name || c.court_code : '—', 'court'),
      fact(t('col_case_number'), view.case_number || (c && c.case_number), 'case_number'),
      fact(t('col_judge'), c && c.judge ? c.judge.name : '—', 'judge'),
      fact(t('report_notice'), view.document_number || '—', 'document_number'),
      fact(t('report_subject'), `${subject.name || '—'}（${label('subject_kind', subject.kind)}）`, 'subject'),
      fact(t('col_id_number'), h('span', { class: 'mono' }, maskIdNumber(subject.id_number)), 'id_number'),
      fact(t('report_purpose'), view.purpose || '—', 'purpose'),
      fact(t('report_searched_at'), fmtDateTime(view.created_at, { seconds: true }), 'created_at'),
      fact(t('report_completed_at'), view.completed_at ? fmtDateTime(view.completed_at, { seconds: true }) : '—', 'completed_at')),
    view.status !== 'completed' ? h('p', { class: 'report-running' }, t('report_running')) : null,
    h('h2', {}, t('report_agencies', { n: (view.agencies || []).length })),
    (view.agencies || []).map((task, i) => agencySection(task, ofAgency(task.agency), i)),
    h('footer', { class: 'report-foot' }, printed, h('p', { class: 'small' }, t('footer_note')))));
  return () => window.removeEventListener('beforeprint', beforePrint);
}
