// The supervisor's dashboard: the four core indicators against their targets, each one's trend
// (a rolling twelve-month value at every month end, as SVG), drill-down court -> judge -> case
// with the cases that pull the indicator down, the other indicators, and CSV export (the
// server audits every export). A judge sees the same page for their own figures.

import * as api from '../api.js';
import * as session from '../session.js';
import { h, replace } from '../dom.js';
import { fmtCount, fmtDate, fmtMoney, fmtPercent, label, lang, pick, t, todayBeijing } from '../i18n.js';
import { showError, showNotice } from '../banner.js';
import { lineChart, sparkline } from '../charts.js';
import { renderAlerts } from './alerts.js';

const TREND_MONTHS = 12;

function isoDate(y, m, d) {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function monthEnd(y, m) {
  return isoDate(y, m, new Date(Date.UTC(y, m, 0)).getUTCDate());
}

function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function minusMonths(iso, months) {
  const [y, m, d] = iso.split('-').map(Number);
  const total = y * 12 + (m - 1) - months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  return isoDate(ny, nm, Math.min(d, Number(monthEnd(ny, nm).slice(8))));
}

/** The window a preset names, ending today (Beijing). */
export function presetWindow(preset, today = todayBeijing()) {
  const y = Number(today.slice(0, 4));
  switch (preset) {
    case 'last12': return { from: addDays(minusMonths(today, 12), 1), to: today };
    case 'last_year': return { from: isoDate(y - 1, 1, 1), to: isoDate(y - 1, 12, 31) };
    case 'quarter': {
      const q = Math.floor((Number(today.slice(5, 7)) - 1) / 3);
      return { from: isoDate(y, q * 3 + 1, 1), to: today };
    }
    default: return { from: isoDate(y, 1, 1), to: today };
  }
}

/** The month ends of the trend: the last TREND_MONTHS month ends up to ``to`` (``to`` last). */
export function trendPoints(to) {
  const points = [];
  let [y, m] = to.split('-').map(Number);
  points.push({ label: to.slice(0, 7), to });
  for (let i = 1; i < TREND_MONTHS; i += 1) {
    m -= 1;
    if (m === 0) { m = 12; y -= 1; }
    const end = monthEnd(y, m);
    points.push({ label: end.slice(0, 7), to: end });
  }
  return points.reverse().map((p) => ({ ...p, from: addDays(minusMonths(p.to, 12), 1) }));
}

function display(ind, value) {
  if (value === null || value === undefined) return null;
  return ind.unit === 'percent' ? Number(value) * 100 : Number(value);
}

function fmtIndicator(ind, value) {
  if (value === null || value === undefined) return '—';
  return ind.unit === 'percent' ? fmtPercent(value) : t('days_value', { n: Number(value).toFixed(1) });
}

// Indicators whose numerator and denominator are amounts in yuan (执行到位率: recovered / to
// enforce), shown as ¥904,791.00 / ¥1,344,903.00; the others count cases.
const MONEY_FRACTIONS = new Set(['recovery_rate']);

function fraction(ind, r) {
  const f = MONEY_FRACTIONS.has(ind.code) ? fmtMoney : fmtCount;
  return `${f(r.numerator)} / ${f(r.denominator)}`;
}

function targetText(ind) {
  if (ind.target === null || ind.target === undefined) return t('no_target');
  return t(ind.higher_is_better ? 'target_at_least' : 'target_at_most', { v: fmtIndicator(ind, ind.target) });
}

function below(ind, value) {
  if (ind.target === null || ind.target === undefined || value === null || value === undefined) return false;
  return ind.higher_is_better ? Number(value) < Number(ind.target) : Number(value) > Number(ind.target);
}

async function inBatches(items, size, fn) {
  const out = new Array(items.length);
  for (let i = 0; i < items.length; i += size) {
    const chunk = items.slice(i, i + size);
    const results = await Promise.all(chunk.map((x) => fn(x)));
    results.forEach((r, j) => { out[i + j] = r; });
  }
  return out;
}

function valueBar(ind, value) {
  if (ind.unit !== 'percent' || value === null || value === undefined) return fmtIndicator(ind, value);
  const pct = Math.max(0, Math.min(100, Number(value) * 100));
  const target = ind.target !== null && ind.target !== undefined ? Number(ind.target) * 100 : null;
  return h('span', { class: 'bar-cell' },
    h('span', { class: ['bar', below(ind, value) ? 'below' : ''] },
      h('span', { style: { width: `${pct.toFixed(1)}%` } }),
      target !== null ? h('i', { class: 'target-mark', style: { left: `${target.toFixed(1)}%` } }) : null),
    h('span', { class: 'num' }, fmtIndicator(ind, value)));
}

export async function render(ctx) {
  const { main, query, user } = ctx;
  const preset = query.get('preset') || (query.get('from') || query.get('to') ? 'custom' : 'year');
  const win = preset === 'custom'
    ? { from: query.get('from') || presetWindow('year').from, to: query.get('to') || todayBeijing() }
    : presetWindow(preset);
  const judge = query.get('judge') || '';
  const caseType = query.get('case_type') || '';
  const params = { from: win.from, to: win.to, judge, case_type: caseType };

  const go = (changes) => {
    const next = { preset, ...params, ind: query.get('ind') || '', ...changes };
    if (next.preset !== 'custom') { delete next.from; delete next.to; }
    ctx.navigate(`/ui/dashboard${api.query(next)}`);
  };

  // Toolbar: period, case type, export.
  const presetSelect = h('select', { id: 'd-preset' },
    ['year', 'quarter', 'last12', 'last_year', 'custom'].map((p) => h('option', { value: p, selected: p === preset }, t(`preset_${p}`))));
  const fromInput = h('input', { type: 'date', id: 'd-from', value: win.from });
  const toInput = h('input', { type: 'date', id: 'd-to', value: win.to });
  const typeSelect = h('select', { id: 'd-type' },
    ['', '执', '执恢'].map((c) => h('option', { value: c, selected: c === caseType }, c ? label('case_type', c) : t('all'))));
  presetSelect.addEventListener('change', () => go({ preset: presetSelect.value, from: fromInput.value, to: toInput.value }));
  for (const input of [fromInput, toInput]) {
    input.addEventListener('change', () => go({ preset: 'custom', from: fromInput.value, to: toInput.value }));
  }
  typeSelect.addEventListener('change', () => go({ case_type: typeSelect.value }));
  const exportButton = h('button', { type: 'button', class: 'btn', id: 'export-csv' }, t('export_csv'));
  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    try {
      const name = await api.download(`/api/v1/indicators${api.query({ ...params, format: 'csv' })}`, 'indicators.csv');
      showNotice(t('export_done', { name }));
    } catch (err) {
      showError(err);
    } finally {
      exportButton.disabled = false;
    }
  });

  const crumbs = h('nav', { class: 'drill-path', 'aria-label': t('drill_path') });
  const kpis = h('div', { class: 'kpis', role: 'group', 'aria-label': t('core_indicators') });
  const detail = h('section', { class: 'panel', 'aria-labelledby': 'detail-title' }, h('p', { class: 'loading' }, t('loading')));
  const others = h('section', { class: 'panel', 'aria-labelledby': 'others-title' });
  const alertsBox = h('div', {});
  replace(main, h('section', { class: 'page dashboard' },
    h('div', { class: 'page-head' }, h('h1', {}, t('dashboard_title'))),
    crumbs,
    h('div', { class: 'toolbar' },
      h('div', { class: 'field' }, h('label', { for: 'd-preset' }, t('period')), presetSelect),
      h('div', { class: 'field' }, h('label', { for: 'd-from' }, t('period_from')), fromInput),
      h('div', { class: 'field' }, h('label', { for: 'd-to' }, t('period_to')), toInput),
      h('div', { class: 'field' }, h('label', { for: 'd-type' }, t('col_case_type')), typeSelect),
      h('span', { class: 'spacer' }),
      exportButton),
    alertsBox,
    kpis, detail, others));

  let report;
  try {
    report = await api.get(`/api/v1/indicators${api.query(params)}`);
  } catch (err) {
    replace(detail, h('p', { class: 'error-text', 'data-error-code': err.code || '' }, err instanceof api.ApiError ? pick(err.messages) : t('error_generic')));
    replace(kpis);
    if (!(err instanceof api.ApiError && err.status === 403)) showError(err);
    return;
  }
  if (!ctx.isCurrent()) return;

  const indicators = report.indicators || [];
  const core = indicators.filter((i) => i.core).slice(0, 4);
  const selectedCode = query.get('ind') && indicators.some((i) => i.code === query.get('ind')) ? query.get('ind') : core[0]?.code;
  const judgeName = (() => {
    for (const ind of indicators) {
      const row = (ind.by_judge || []).find((r) => r.judge_login === report.judge);
      if (row && row.judge_name) return row.judge_name;
    }
    return report.judge;
  })();

  // Court -> judge path.
  const courtLabel = (user && user.court_code === report.court && user.court_name) || report.court || t('all_courts');
  replace(crumbs,
    report.judge && session.can('read_court_indicators', user)
      ? h('a', { href: `/ui/dashboard${api.query({ preset, ...params, judge: '', ind: selectedCode })}`, 'data-drill': 'court' }, courtLabel)
      : h('span', { 'data-drill': 'court' }, courtLabel),
    report.judge ? [h('span', { 'aria-hidden': 'true' }, '›'), h('strong', { 'data-drill': 'judge' }, judgeName)] : null,
    h('span', { class: 'muted small' }, ` · ${fmtDate(report.from)} — ${fmtDate(report.to)}`));

  // Trend: the rolling twelve-month value at each month end, for every indicator at once.
  const points = trendPoints(report.to);
  const trendPromise = inBatches(points, 3, (p) => api.get(`/api/v1/indicators${api.query({ ...params, from: p.from, to: p.to })}`)
    .then((r) => Object.fromEntries((r.indicators || []).map((i) => [i.code, i.value])))
    .catch(() => ({})));

  function card(ind, trend) {
    const isBelow = below(ind, ind.value);
    const spark = trend
      ? sparkline(points.map((p, i) => ({ label: p.label, value: display(ind, trend[i][ind.code]) })),
        { target: display(ind, ind.target), unit: ind.unit, higherIsBetter: ind.higher_is_better, title: t('trend_of', { name: pick(ind.name) }) })
      : null;
    const button = h('button', {
      type: 'button', class: ['kpi', isBelow ? 'below' : ''], 'data-indicator': ind.code,
      'aria-pressed': String(ind.code === selectedCode),
      'data-meets': String(ind.meets_target),
    },
    h('span', { class: 'kpi-name' }, pick(ind.name)),
    h('span', { class: 'kpi-value' }, fmtIndicator(ind, ind.value)),
    h('span', { class: 'kpi-target' }, targetText(ind), ' · ',
      ind.value === null ? t('no_items') : fraction(ind, ind)),
    ind.pulling_down ? h('span', { class: 'tag tag-alert' }, t('pulling_down_n', { n: ind.pulling_down })) : h('span', { class: 'tag tag-ok' }, t('none_pulling_down')),
    spark);
    button.addEventListener('click', () => go({ ind: ind.code }));
    return button;
  }

  function drawCards(trend) {
    replace(kpis, core.map((ind) => card(ind, trend)));
  }

  function drawOthers(trend) {
    const rest = indicators.filter((i) => !core.includes(i));
    const rows = rest.map((ind) => {
      const spark = trend
        ? sparkline(points.map((p, i) => ({ label: p.label, value: display(ind, trend[i][ind.code]) })), {
          target: display(ind, ind.target), unit: ind.unit, higherIsBetter: ind.higher_is_better,
          width: 120, height: 28, small: true, title: t('trend_of', { name: pick(ind.name) }),
        })
        : '…';
      return h('tr', { 'data-indicator': ind.code },
        h('th', { scope: 'row' }, h('a', { href: `/ui/dashboard${api.query({ preset, ...params, ind: ind.code })}` }, pick(ind.name))),
        h('td', {}, valueBar(ind, ind.value)),
        h('td', {}, targetText(ind)),
        h('td', { class: 'num' }, fraction(ind, ind)),
        h('td', { class: 'num' }, String(ind.pulling_down ?? 0)),
        h('td', {}, spark));
    });
    const head = h('tr', {}, ['col_indicator', 'col_value', 'col_target', 'col_fraction', 'col_pulling_down', 'col_trend']
      .map((k) => h('th', { scope: 'col' }, t(k))));
    replace(others, h('h2', { id: 'others-title' }, t('other_indicators')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', {}, head), h('tbody', {}, rows))));
  }

  const chartBox = h('div', { class: 'chart-box' }, h('p', { class: 'loading' }, t('loading_trend')));
  const casesBox = h('div', {}, h('p', { class: 'loading' }, t('loading')));
  const selected = indicators.find((i) => i.code === selectedCode);

  function drawDetail() {
    if (!selected) {
      replace(detail, h('p', { class: 'empty' }, t('no_indicators')));
      return;
    }
    const judgeRows = (selected.by_judge || []).slice().sort((a, b) => (a.value ?? 2) - (b.value ?? 2));
    const typeRows = selected.by_case_type || [];
    replace(detail,
      h('div', { class: 'panel-head' },
        h('h2', { id: 'detail-title', 'data-selected': selected.code }, pick(selected.name)),
        h('span', { class: 'muted small' }, `${targetText(selected)} · ${t('window_of', { from: fmtDate(selected.window.from), to: fmtDate(selected.window.to) })}`)),
      selected.description && lang() === 'en' ? h('p', { class: 'muted small' }, selected.description) : null,
      h('div', { class: 'dash-grid' },
        h('div', {},
          h('h3', {}, t('trend_title')),
          h('p', { class: 'muted small' }, t('trend_note')),
          chartBox,
          h('div', { class: 'legend' }, h('span', {}, h('i', { class: 'swatch' }), pick(selected.name)),
            h('span', {}, h('i', { class: 'swatch target' }), t('target')))),
        h('div', {},
          report.judge ? null : h('h3', {}, t('by_judge')),
          report.judge ? null : h('div', { class: 'table-wrap' }, h('table', { class: 'data drill-judges' },
            h('thead', {}, h('tr', {}, ['col_judge', 'col_value', 'col_fraction', 'col_pulling_down'].map((k) => h('th', { scope: 'col' }, t(k))))),
            h('tbody', {}, judgeRows.length ? judgeRows.map((r) => h('tr', { 'data-judge': r.judge_login || '' },
              h('th', { scope: 'row' }, r.judge_login
                ? h('a', { href: `/ui/dashboard${api.query({ preset, ...params, judge: r.judge_login, ind: selected.code })}` }, r.judge_name || r.judge_login)
                : t('unassigned')),
              h('td', {}, valueBar(selected, r.value)),
              h('td', { class: 'num' }, fraction(selected, r)),
              h('td', { class: 'num' }, String(r.pulling_down)))) : h('tr', {}, h('td', { colspan: 4, class: 'empty' }, t('no_items')))))),
          typeRows.length ? [h('h3', { class: 'spaced' }, t('by_case_type')),
            h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
              h('tbody', {}, typeRows.map((r) => h('tr', {},
                h('th', { scope: 'row' }, label('case_type', r.case_type)),
                h('td', {}, valueBar(selected, r.value)),
                h('td', { class: 'num' }, fraction(selected, r)))))))] : null)),
      h('div', { class: 'panel-head spaced' },
        h('h3', {}, t('pulling_down_title')),
        h('button', {
          type: 'button', class: 'btn btn-small', id: 'export-cases-csv',
          onclick: async (event) => {
            const b = event.currentTarget;
            b.disabled = true;
            try {
              const name = await api.download(`/api/v1/indicators/${selected.code}/cases${api.query({ ...params, format: 'csv', limit: 1000 })}`, `${selected.code}_cases.csv`);
              showNotice(t('export_done', { name }));
            } catch (err) { showError(err); } finally { b.disabled = false; }
          },
        }, t('export_cases_csv'))),
      casesBox);
  }

  async function loadCases() {
    if (!selected) return;
    try {
      const drill = await api.get(`/api/v1/indicators/${selected.code}/cases${api.query({ ...params, limit: 50 })}`);
      if (!ctx.isCurrent()) return;
      const rows = drill.cases || [];
      replace(casesBox, rows.length
        ? [h('div', { class: 'table-wrap' }, h('table', { class: 'data drill-cases' },
          h('thead', {}, h('tr', {}, ['col_case_number', 'col_judge', 'col_cause', 'col_reason'].map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', {}, rows.map((c) => h('tr', { 'data-case-id': c.case_id },
            h('th', { scope: 'row' }, h('a', { href: `/ui/cases/${c.case_id}` }, c.case_number)),
            h('td', {}, c.judge_name || c.judge_login || '—'),
            h('td', {}, c.cause || '—'),
            h('td', {}, pick(c.reason))))))),
          drill.total > rows.length ? h('p', { class: 'muted small' }, t('more_cases', { n: drill.total - rows.length })) : null]
        : h('p', { class: 'empty' }, t('none_pulling_down_long')));
    } catch (err) {
      replace(casesBox, h('p', { class: 'error-text' }, err instanceof api.ApiError ? pick(err.messages) : t('error_generic')));
    }
  }

  async function loadAlerts() {
    try {
      const data = await api.get(`/api/v1/alerts${api.query({ status: 'open', limit: 10 })}`);
      if (ctx.isCurrent() && (data.alerts || []).length) {
        // Open at once when an alert offers this user an act (a control's renewal or release due).
        const actionable = data.alerts.some((a) => a.actions && (a.actions.renew || a.actions.release));
        replace(alertsBox, h('details', { class: 'panel alerts-panel', open: actionable },
          h('summary', {}, t('open_alerts', { n: data.total ?? data.alerts.length })),
          renderAlerts(data, { compact: true, withCase: true })));
      }
    } catch {
      // Alerts are a convenience here; the case pages show them too.
    }
  }

  drawCards(null);
  drawOthers(null);
  drawDetail();
  loadCases();
  loadAlerts();
  const trend = await trendPromise;
  if (!ctx.isCurrent()) return;
  main.querySelector('.dashboard').dataset.trendLoaded = 'true';
  drawCards(trend);
  drawOthers(trend);
  if (selected) {
    replace(chartBox, lineChart({
      points: points.map((p, i) => ({ label: p.label.slice(2).replace('-', '/'), value: display(selected, trend[i][selected.code]) })),
      target: display(selected, selected.target),
      unit: selected.unit,
      higherIsBetter: selected.higher_is_better,
      title: t('trend_of', { name: pick(selected.name) }),
      targetLabel: t('target_short', { v: selected.unit === 'percent' ? fmtPercent(selected.target, 0) : fmtIndicator(selected, selected.target) }),
    }));
  }
}
