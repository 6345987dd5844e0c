// The case list: a judge's own cases (a supervisor's: the court's), searched by case number,
// party name or ID number, filtered by status, filing date and whether the statutory period has
// run out, sorted most urgent first unless the judge picks another order (all server-side).

import * as api from '../api.js';
import * as session from '../session.js';
import { h, replace } from '../dom.js';
import { daysBetween, fmtDate, fmtMoney, label, t, todayBeijing } from '../i18n.js';
import { showError } from '../banner.js';

const PAGE = 50;
const SORTS = ['urgency', 'filed_desc', 'filed_asc', 'amount_desc', 'deadline_asc', 'case_number'];

function deadlineCell(c) {
  if (!c.statutory_deadline) return '—';
  if (c.status === 'closed') return h('span', { class: 'muted' }, fmtDate(c.statutory_deadline));
  const left = daysBetween(todayBeijing(), c.statutory_deadline);
  return h('span', {}, fmtDate(c.statutory_deadline), h('br'),
    c.overdue || left < 0
      ? h('span', { class: 'tag tag-alert', 'data-overdue': '' }, t('overdue_days', { n: Math.abs(left) }))
      : h('span', { class: ['tag', left <= 30 ? 'tag-warn' : 'tag-muted'] }, t('days_left', { n: left })));
}

export function statusTag(status) {
  return h('span', { class: `tag status-${status}` }, label('case_status', status));
}

function filtersForm(ctx, values, isSupervisor) {
  const q = h('input', { type: 'search', id: 'f-q', name: 'q', value: values.q || '', maxlength: 100,
    placeholder: t('search_cases_placeholder'), class: 'input-wide' });
  const sort = h('select', { id: 'f-sort', name: 'sort' },
    SORTS.map((s) => h('option', { value: s, selected: (values.sort || 'urgency') === s }, label('sort', s))));
  const status = h('select', { id: 'f-status', name: 'status' },
    ['', 'open', 'suspended', 'closed'].map((s) => h('option', { value: s, selected: values.status === s }, s ? label('case_status', s) : t('all'))));
  const from = h('input', { type: 'date', id: 'f-from', name: 'filed_from', value: values.filed_from || '' });
  const to = h('input', { type: 'date', id: 'f-to', name: 'filed_to', value: values.filed_to || '' });
  const overdue = h('input', { type: 'checkbox', id: 'f-overdue', name: 'overdue', checked: values.overdue === 'true' });
  const judge = isSupervisor ? h('input', { type: 'text', id: 'f-judge', name: 'judge', value: values.judge || '', placeholder: t('judge_login_placeholder'), size: 12 }) : null;
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('filters') },
    h('div', { class: 'field field-grow' }, h('label', { for: 'f-q' }, t('search_cases')), q),
    h('div', { class: 'field' }, h('label', { for: 'f-sort' }, t('sort_by')), sort),
    h('div', { class: 'field' }, h('label', { for: 'f-status' }, t('filter_status')), status),
    h('div', { class: 'field' }, h('label', { for: 'f-from' }, t('filter_filed_from')), from),
    h('div', { class: 'field' }, h('label', { for: 'f-to' }, t('filter_filed_to')), to),
    judge ? h('div', { class: 'field' }, h('label', { for: 'f-judge' }, t('filter_judge')), judge) : null,
    h('div', { class: 'field field-check' }, overdue, h('label', { for: 'f-overdue' }, t('filter_overdue'))),
    h('div', { class: 'field field-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('apply_filters')),
      h('button', { type: 'reset', class: 'btn' }, t('clear_filters'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate(`/ui/cases${api.query({
      q: q.value.trim(), sort: sort.value === 'urgency' ? '' : sort.value, status: status.value, filed_from: from.value, filed_to: to.value, overdue: overdue.checked ? 'true' : '',
      judge: judge ? judge.value.trim() : '',
    })}`);
  });
  sort.addEventListener('change', () => form.requestSubmit());
  form.addEventListener('reset', (event) => {
    event.preventDefault();
    ctx.navigate('/ui/cases');
  });
  return form;
}

export async function render(ctx) {
  const { main, query, user } = ctx;
  const isSupervisor = session.can('list_court_cases', user);
  const values = Object.fromEntries(['q', 'sort', 'status', 'filed_from', 'filed_to', 'overdue', 'judge', 'offset'].map((k) => [k, query.get(k) || '']));
  const offset = Math.max(0, parseInt(values.offset || '0', 10) || 0);
  const heading = h('h1', {}, isSupervisor ? t('cases_title_court') : t('cases_title'));
  const body = h('div', { class: 'cases-body' }, h('p', { class: 'loading', role: 'status' }, t('loading')));
  replace(main, h('section', { class: 'page' }, h('div', { class: 'page-head' }, heading), filtersForm(ctx, values, isSupervisor), body));
  let data;
  try {
    data = await api.get(`/api/v1/cases${api.query({
      q: values.q, sort: SORTS.includes(values.sort) ? values.sort : '', status: values.status, filed_from: values.filed_from, filed_to: values.filed_to,
      overdue: values.overdue, judge: isSupervisor ? values.judge : '', limit: PAGE, offset,
    })}`);
  } catch (err) {
    replace(body, h('p', { class: 'empty' }, t('cases_failed')));
    showError(err);
    return;
  }
  if (!ctx.isCurrent()) return;
  const items = data.items || [];
  if (!items.length) {
    replace(body, h('p', { class: 'empty' }, t('cases_none')));
    return;
  }
  const rows = items.map((c) => h('tr', { 'data-case-id': c.id, class: c.overdue ? 'is-overdue' : '' },
    h('th', { scope: 'row' }, h('a', { href: `/ui/cases/${c.id}` }, c.case_number)),
    h('td', {}, c.applicant ? c.applicant.name : '—'),
    h('td', {}, (c.debtors || []).map((d) => d.name).join('、') || '—'),
    h('td', {}, c.cause || '—'),
    h('td', { class: 'num' }, fmtMoney(c.amount_to_enforce)),
    h('td', {}, fmtDate(c.filed_on)),
    h('td', {}, deadlineCell(c)),
    h('td', {}, statusTag(c.status)),
    isSupervisor ? h('td', {}, c.judge ? c.judge.name : '—') : null));
  const head = h('tr', {},
    ['col_case_number', 'col_applicant', 'col_debtors', 'col_cause', 'col_amount', 'col_filed_on', 'col_deadline', 'col_case_status']
      .map((k) => h('th', { scope: 'col', class: k === 'col_amount' ? 'num' : '' }, t(k))),
    isSupervisor ? h('th', { scope: 'col' }, t('col_judge')) : null);
  const total = data.total ?? items.length;
  const pager = h('nav', { class: 'pager', 'aria-label': t('pager') },
    h('span', {}, t('showing', { from: offset + 1, to: offset + items.length, total })),
    offset > 0 ? h('a', { class: 'btn', href: `/ui/cases${api.query({ ...values, offset: Math.max(0, offset - PAGE) })}` }, t('prev_page')) : null,
    offset + items.length < total ? h('a', { class: 'btn', href: `/ui/cases${api.query({ ...values, offset: offset + PAGE })}` }, t('next_page')) : null);
  replace(body,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('cases_title') },
      h('table', { class: 'data cases-table' }, h('thead', {}, head), h('tbody', {}, rows))),
    pager);
}
