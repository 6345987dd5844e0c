// One case: its facts, parties, lifecycle events and searches; the 全网查询 button per debtor
// with the dossier filling in live; the 终本 checklist and the case's alerts; an organization
// debtor's responsible persons (whom its consumption restriction binds) and their breach check;
// the notices to the applicant (告知): a draft generated from the searches, recorded as sent;
// the case's control measures (冻结、查封, their expiries, renewals, releases and deductions), taken
// from the dossier's entries in one action.

import * as api from '../api.js';
import * as session from '../session.js';
import { h, replace } from '../dom.js';
import { daysBetween, fmtDate, fmtDateTime, fmtMoney, label, pick, t, todayBeijing } from '../i18n.js';
import { showError } from '../banner.js';
import { STRINGS } from '../strings.js';
import { LiveSearch } from './live-search.js';
import { statusTag } from './cases.js';
import { checklistApplies, renderChecklist, renderClosure } from './checklist.js';
import { renderAlerts } from './alerts.js';
import { CaseMeasures } from './measures.js';

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value ?? '—')];
}

function deadlineText(c) {
  if (!c.statutory_deadline) return '—';
  const left = daysBetween(todayBeijing(), c.statutory_deadline);
  const note = c.status === 'closed' ? null
    : c.overdue || left < 0
      ? h('span', { class: 'tag tag-alert', 'data-overdue': '' }, t('overdue_days', { n: Math.abs(left) }))
      : h('span', { class: ['tag', left <= 30 ? 'tag-warn' : 'tag-muted'] }, t('days_left', { n: left }));
  return [fmtDate(c.statutory_deadline), ' ', note];
}

function facts(c) {
  const recovered = Number(c.amount_to_enforce) > 0 ? Number(c.amount_recovered) / Number(c.amount_to_enforce) : 0;
  return h('dl', { class: 'facts' },
    fact(t('col_court'), c.court_name || c.court_code),
    fact(t('col_judge'), c.judge ? c.judge.name : '—'),
    fact(t('col_case_type'), label('case_type', c.case_type)),
    fact(t('col_cause'), c.cause || '—'),
    fact(t('col_applicant'), c.applicant ? c.applicant.name : '—'),
    fact(t('col_amount'), h('strong', { class: 'amount', 'data-amount': '' }, fmtMoney(c.amount_to_enforce))),
    fact(t('col_recovered'), [fmtMoney(c.amount_recovered), ' ', h('span', { class: 'muted small' }, `(${(recovered * 100).toFixed(1)}%)`)]),
    fact(t('col_filed_on'), fmtDate(c.filed_on)),
    fact(t('col_deadline'), deadlineText(c)),
    c.status === 'closed' ? fact(t('col_closure'), `${c.closure_mode || '—'} · ${fmtDate(c.closed_on)}`) : null);
}

function eventSummary(e) {
  const data = e.data || {};
  const parts = [];
  for (const [k, v] of Object.entries(data)) {
    if (v === null || v === undefined || v === '' || typeof v === 'object') continue;
    parts.push(`${label('event_field', k)}: ${v}`);
  }
  return parts.join(' · ');
}

function eventsList(c) {
  const events = [...(c.events || [])].sort((a, b) => (a.occurred_on < b.occurred_on ? 1 : a.occurred_on > b.occurred_on ? -1 : b.id - a.id));
  if (!events.length) return h('p', { class: 'empty' }, t('events_none'));
  return h('ol', { class: 'timeline' }, events.map((e) => h('li', { 'data-event': e.type || e.event_type },
    h('time', { datetime: e.occurred_on }, fmtDate(e.occurred_on)),
    h('span', { class: 'event-type' }, `event.${e.type || e.event_type}` in STRINGS || !e.name
      ? label('event', e.type || e.event_type) : pick(e.name)),
    eventSummary(e) ? h('span', { class: 'muted small' }, eventSummary(e)) : null)));
}

export async function render(ctx) {
  const { main, params, query, user } = ctx;
  const caseId = Number(params.caseId);
  let c;
  try {
    c = await api.get(`/api/v1/cases/${caseId}`);
  } catch (err) {
    replace(main, h('section', { class: 'page' },
      h('h1', {}, t('case_unavailable')),
      h('p', { class: 'error-text', 'data-error-code': err.code || '' }, err instanceof api.ApiError ? pick(err.messages) : t('error_generic')),
      h('p', {}, h('a', { href: '/ui/cases' }, t('back_to_cases')))));
    if (!(err instanceof api.ApiError) || ![403, 404].includes(err.status)) showError(err);
    return undefined;
  }
  if (!ctx.isCurrent()) return undefined;

  // The server says whether this user searches at all; the case says whether they hold it and it is open.
  const canSearch = session.can('search_own_cases', user) && c.judge && c.judge.login === user.login && c.status === 'open';
  let live = null;
  // The case's measures: a panel of their own and a control column in the dossier.
  const measures = new CaseMeasures(c, { onChange: () => loadAlerts() });
  const liveBox = h('div', { class: 'live', id: 'live-search', tabindex: '-1' });
  const liveTitle = h('h2', { id: 'live-title' }, t('search_title'));
  // The 查控结果 of the search shown, printable for the case file (/ui/searches/{id}/report).
  const reportLink = h('a', { class: 'btn btn-small', 'data-print-report': '', href: '#' }, t('print_report'));
  const liveSection = h('section', { class: 'panel', 'aria-labelledby': 'live-title', hidden: true },
    h('div', { class: 'panel-head' }, liveTitle, reportLink), liveBox);
  const searchesBox = h('div', {});
  const checklistBox = h('div', { class: 'checklist-box' }, h('p', { class: 'loading' }, t('loading')));
  const alertsBox = h('div', { class: 'alerts-box' });
  const freshBox = h('input', { type: 'checkbox', id: 'force-fresh' });

  function showSearch(searchId, { focus = false } = {}) {
    if (live) live.close();
    liveSection.hidden = false;
    reportLink.setAttribute('href', `/ui/searches/${searchId}/report`);
    const s = (c.searches || []).find((x) => x.id === searchId);
    liveTitle.textContent = s ? t('search_title_of', { name: s.subject.name, at: fmtDateTime(s.created_at) }) : t('search_title');
    live = new LiveSearch(liveBox, searchId, {
      controls: measures,
      onComplete: (view, wasLive) => {
        if (wasLive) refreshAfterSearch();
        liveTitle.textContent = t('search_title_of', { name: view.subject.name, at: fmtDateTime(view.created_at) });
      },
    });
    live.start();
    if (focus) liveSection.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  let alertsTimer = null;
  async function refreshAfterSearch() {
    try {
      c = await api.get(`/api/v1/cases/${caseId}`);
      drawSearches();
      drawDebtors();
    } catch (err) { showError(err); }
    loadChecklist();
    loadAlerts();
    // The service reviews new answers in the background (breaches, new property): look again.
    clearTimeout(alertsTimer);
    alertsTimer = setTimeout(() => { if (ctx.isCurrent()) loadAlerts(); }, 2500);
  }

  async function startSearch(debtor, button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      const accepted = await api.post('/api/v1/searches', {
        case_id: caseId,
        subject: { kind: debtor.kind, id_number: debtor.id_number, name: debtor.name },
        purpose: '财产调查',
        force_fresh: freshBox.checked,
      });
      c.searches = [{ id: accepted.id, subject: debtor, status: 'running', created_at: new Date().toISOString(),
        purpose: '财产调查', agencies: accepted.agencies.length, answered: 0, requested_by: user.login }, ...(c.searches || [])];
      history.replaceState(null, '', `/ui/cases/${caseId}?search=${accepted.id}`);
      drawSearches();
      drawDebtors();
      showSearch(accepted.id, { focus: true });
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  const debtorsBox = h('div', {});
  // A redraw (after a search completes) keeps the keyboard where it was: the same debtor's button.
  function drawDebtors() {
    const focused = document.activeElement && debtorsBox.contains(document.activeElement)
      ? document.activeElement.dataset : null;
    replace(debtorsBox, debtorsTable());
    if (focused && focused.searchDebtor) {
      const again = debtorsBox.querySelector(`[data-search-debtor="${focused.searchDebtor}"]`);
      if (again) again.focus();
    }
  }
  // Breach checks started on this page, by organization debtor: shown across redraws.
  const breachChecksStarted = new Map();

  function debtorsTable() {
    const rows = (c.debtors || []).map((d) => {
      const last = (c.searches || []).filter((s) => s.subject.id_number === d.id_number)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0];
      const button = h('button', { type: 'button', class: 'btn btn-search', 'data-search-debtor': d.id_number, disabled: !canSearch },
        t('search_all'));
      button.addEventListener('click', () => startSearch(d, button));
      return h('tr', {},
        h('th', { scope: 'row' }, d.name),
        h('td', {}, label('subject_kind', d.kind)),
        h('td', { class: 'mono' }, d.id_number),
        h('td', {}, last ? [fmtDateTime(last.created_at), ' ', h('span', { class: 'muted small' }, label('search_status', last.status))] : h('span', { class: 'muted' }, t('never_searched'))),
        h('td', {}, button));
    });
    return h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['col_name', 'col_subject_kind', 'col_id_number', 'col_last_search', 'col_action'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, rows.flatMap((row, i) => [row, responsibleRow(c.debtors[i])]))));
  }

  // An organization debtor's legal representative, principal responsible persons and those
  // directly responsible: its consumption restriction binds them (限制消费规定 art. 3(2)).
  function responsibleRow(d) {
    if (d.kind !== 'organization') return null;
    const persons = d.responsible_persons || [];
    // The judge holding the case (search_own_cases is a judge's permission: authorization.py decides).
    const isJudge = c.judge && c.judge.login === user.login && session.can('search_own_cases', user);
    const started = breachChecksStarted.get(d.id_number);
    const button = started !== undefined
      ? h('span', { class: 'muted small', role: 'status' }, t('breach_check_done', { n: started }))
      : isJudge && persons.length
        ? h('button', { type: 'button', class: 'btn btn-small', 'data-breach-check': d.id_number }, t('breach_check'))
        : null;
    if (button && started === undefined) button.addEventListener('click', () => breachCheck(button, d.id_number));
    return h('tr', { class: 'responsible-row', 'data-responsible-of': d.id_number },
      h('td', { colspan: 5 },
        h('span', { class: 'muted small' }, `${t('responsible_title')}：`),
        persons.length
          ? h('ul', { class: 'inline-list responsible-persons' }, persons.map((p) => h('li', {},
            `${p.name}（${p.role}）`, ' ', h('span', { class: 'mono small' }, p.id_number))))
          : h('span', { class: 'muted small' }, t('responsible_none')),
        button));
  }

  async function breachCheck(button, debtorId) {
    button.disabled = true;
    try {
      const made = await api.post(`/api/v1/cases/${caseId}/breach-check`, {});
      breachChecksStarted.set(debtorId, made.searches.length);
      button.replaceWith(h('span', { class: 'muted small', role: 'status' }, t('breach_check_done', { n: made.searches.length })));
      refreshAfterSearch();
    } catch (err) {
      button.disabled = false;
      showError(err);
    }
  }

  // -- telling the applicant -------------------------------------------------------------------
  const noticesBox = h('div', { id: 'notices' });
  const CHANNELS = ['短信', '电话', '书面', '当面', '电子送达'];
  function noticesList() {
    const told = (c.events || []).filter((e) => ['applicant_notified', 'zhongben_ruling_served'].includes(e.type || e.event_type))
      .sort((a, b) => (a.occurred_on < b.occurred_on ? 1 : -1));
    if (!told.length) return h('p', { class: 'empty' }, t('notices_none'));
    return h('ul', { class: 'notices-list' }, told.map((e) => {
      const d = e.data || {};
      const served = (e.type || e.event_type) === 'zhongben_ruling_served';
      return h('li', { 'data-notice-id': e.id },
        h('strong', {}, fmtDate(e.occurred_on)), ' ', label('event', e.type || e.event_type), ' · ', d.channel || '',
        d.round ? [' · ', t('notice_round', { n: d.round })] : null,
        served ? h('div', { class: 'small' }, t('ruling_served', { doc: d.document_number || '' }))
          : h('details', {}, h('summary', { class: 'small' }, t('notice_text')), h('pre', { class: 'notice-text' }, d.content || '')));
    }));
  }
  function drawNotices(form) {
    replace(noticesBox, noticesList(), form || null);
  }
  const canRecord = c.judge && c.judge.login === user.login && session.can('search_own_cases', user);
  async function draftNotice(occasion) {
    try {
      const draft = await api.get(`/api/v1/cases/${caseId}/applicant-notice${api.query({ occasion })}`);
      const text = h('textarea', { id: 'notice-text', rows: 12, class: 'notice-draft' });
      text.value = draft.text;
      const channel = h('select', { id: 'notice-channel' }, CHANNELS.map((ch) => h('option', { value: ch }, ch)));
      const on = h('input', { id: 'notice-date', type: 'date', value: todayBeijing() });
      const heard = h('input', { id: 'notice-heard', type: 'checkbox' });
      const record = h('button', { type: 'button', class: 'btn', 'data-record-notice': occasion }, t('notice_record'));
      record.addEventListener('click', async () => {
        record.disabled = true;
        const data = { occasion, channel: channel.value, content: text.value, heard: heard.checked };
        if (occasion === 'requery' && draft.round) data.round = draft.round;
        try {
          const done = await api.post(`/api/v1/cases/${caseId}/events`, { type: 'applicant_notified', occurred_on: on.value, data });
          c.events = [...(c.events || []), done.event];
          drawNotices(h('p', { class: 'muted small', role: 'status' }, t('notice_recorded')));
          loadChecklist();
        } catch (err) {
          record.disabled = false;
          showError(err);
        }
      });
      drawNotices(h('form', { class: 'notice-form', onsubmit: (ev) => ev.preventDefault() },
        h('label', { for: 'notice-text' }, t('notice_text')), text,
        h('div', { class: 'field-row' },
          h('label', { for: 'notice-channel' }, t('notice_channel')), channel,
          h('label', { for: 'notice-date' }, t('notice_date')), on,
          h('span', { class: 'field-check small' }, heard, h('label', { for: 'notice-heard' }, t('notice_heard')))),
        record));
    } catch (err) {
      showError(err);
    }
  }
  function noticesSection() {
    const buttons = canRecord ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-small', 'data-draft-notice': 'zhongben', onclick: () => draftNotice('zhongben') }, t('notice_draft_zhongben')),
      c.closure_mode === '终结本次执行程序'
        ? h('button', { type: 'button', class: 'btn btn-small', 'data-draft-notice': 'requery', onclick: () => draftNotice('requery') }, t('notice_draft_requery'))
        : null) : null;
    return h('section', { class: 'panel', 'aria-labelledby': 'notices-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'notices-title' }, t('notices_title')), buttons),
      noticesBox);
  }

  function drawSearches() {
    const list = [...(c.searches || [])].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    if (!list.length) {
      replace(searchesBox, h('p', { class: 'empty' }, t('searches_none')));
      return;
    }
    replace(searchesBox, h('div', { class: 'table-wrap' }, h('table', { class: 'data searches-table' },
      h('thead', {}, h('tr', {}, ['col_searched_at', 'col_subject', 'col_purpose', 'col_search_status', 'col_answered', 'col_action'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, list.map((s) => h('tr', { 'data-search-id': s.id },
        h('td', {}, fmtDateTime(s.created_at)),
        h('td', {}, s.subject.name),
        h('td', {}, s.purpose),
        h('td', {}, label('search_status', s.status)),
        h('td', {}, `${s.answered ?? '—'} / ${s.agencies ?? '—'}`),
        h('td', {}, h('button', {
          type: 'button', class: 'btn btn-small',
          onclick: () => {
            history.replaceState(null, '', `/ui/cases/${caseId}?search=${s.id}`);
            showSearch(s.id, { focus: true });
          },
        }, t('open_search')))))))));
  }

  async function loadChecklist() {
    if (!checklistApplies(c)) {
      replace(checklistBox, renderClosure(c));
      return;
    }
    try {
      const check = await api.get(`/api/v1/cases/${caseId}/closure-check`);
      if (ctx.isCurrent()) replace(checklistBox, renderChecklist(check));
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'not_found') {
        replace(checklistBox, h('p', { class: 'muted' }, t('checklist_unavailable')));
      } else {
        replace(checklistBox, h('p', { class: 'error-text' }, pick(err.messages) || t('error_generic')));
      }
    }
  }

  async function loadAlerts() {
    try {
      // A renewal-due alert offers its 续冻 / 解除 when the server lets this user take it (its ``actions``).
      const alerts = await api.get(`/api/v1/alerts${api.query({ case_id: caseId })}`);
      if (ctx.isCurrent()) replace(alertsBox, renderAlerts(alerts, { compact: true, onActed: () => measures.load() }));
    } catch (err) {
      replace(alertsBox); // no alerts feature yet, or none visible: nothing to show
      if (!(err instanceof api.ApiError && ['not_found', 'role_not_allowed'].includes(err.code))) showError(err);
    }
  }

  replace(main, h('article', { class: 'page case-page', 'data-case-id': caseId },
    h('nav', { class: 'breadcrumbs', 'aria-label': t('breadcrumbs') },
      h('a', { href: '/ui/cases' }, t('nav_cases')), ' / ', h('span', { 'aria-current': 'page' }, c.case_number)),
    h('div', { class: 'page-head' },
      h('h1', {}, c.case_number), statusTag(c.status),
      c.overdue && c.status !== 'closed' ? h('span', { class: 'tag tag-alert' }, t('overdue')) : null),
    // The case's primary action, 全网查询 per debtor, comes first after the header: a keyboard
    // reaches it within a few Tab presses (the checkbox for a fresh search sits after the table).
    h('section', { class: 'panel', 'aria-labelledby': 'debtors-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'debtors-title' }, t('debtors_title'))),
      canSearch ? null : h('p', { class: 'muted small' }, t(c.status !== 'open' ? 'search_needs_open' : 'search_only_judge')),
      debtorsBox,
      canSearch ? h('div', { class: 'field-check small' }, freshBox, h('label', { for: 'force-fresh' }, t('force_fresh'))) : null),
    alertsBox,
    h('section', { class: 'panel', 'aria-labelledby': 'measures-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'measures-title' }, t('measures_title'))), measures.box),
    h('div', { class: 'case-grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'facts-title' }, h('h2', { id: 'facts-title' }, t('case_facts')), facts(c)),
      h('section', { class: 'panel', 'aria-labelledby': 'checklist-title' }, h('h2', { id: 'checklist-title' }, t(checklistApplies(c) ? 'checklist_title' : 'closure_title')), checklistBox)),
    noticesSection(),
    liveSection,
    h('div', { class: 'case-grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'searches-title' }, h('h2', { id: 'searches-title' }, t('searches_title')), searchesBox),
      h('section', { class: 'panel', 'aria-labelledby': 'events-title' }, h('h2', { id: 'events-title' }, t('events_title')), eventsList(c)))));

  drawSearches();
  drawDebtors();
  drawNotices();
  loadChecklist();
  loadAlerts();
  measures.load();
  const wanted = query.get('search');
  const latest = [...(c.searches || [])].sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0];
  if (wanted && /^[0-9a-f-]{36}$/i.test(wanted)) showSearch(wanted);
  else if (latest) showSearch(latest.id);

  return () => {
    clearTimeout(alertsTimer);
    measures.close();
    if (live) live.close();
  };
}
