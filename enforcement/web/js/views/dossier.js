// The asset dossier as a judge reads it: one table per kind of property, totals first, where
// each row came from (agency and time, or a reused answer), and what is new since the last
// search highlighted.

import { h } from '../dom.js';
import { renderAlerts } from './alerts.js';
import { fmtCount, fmtDate, fmtDateTime, fmtMoney, label, lang, pick, t } from '../i18n.js';
import { displayValue, kindLabel, recordKind } from '../records.js';

const VEHICLE_STATUS = {
  A: ['正常', 'normal'], B: ['转出', 'transferred out'], C: ['被盗抢', 'stolen'], D: ['停驶', 'off the road'],
  E: ['注销', 'deregistered'], G: ['违法未处理', 'unsettled violations'], H: ['海关监管', 'customs control'],
  I: ['事故未处理', 'unsettled accident'], J: ['嫌疑车', 'suspect vehicle'], K: ['查封', 'sealed'],
  L: ['暂扣', 'detained'], M: ['强制注销', 'forcibly deregistered'], N: ['事故逃逸', 'hit and run'],
  O: ['锁定', 'locked'], P: ['达到报废标准', 'due for scrapping'], Q: ['逾期未检验', 'inspection overdue'],
};
const PLATE_TYPES = {
  '01': ['大型汽车', 'large vehicle'], '02': ['小型汽车', 'small vehicle'], '03': ['使馆汽车', 'embassy'],
  '05': ['境外汽车', 'foreign'], '07': ['摩托车', 'motorcycle'], '13': ['低速车', 'low-speed'], '15': ['挂车', 'trailer'],
  '16': ['教练汽车', 'driving school'], '23': ['警用汽车', 'police'], '51': ['新能源大型车', 'new-energy large'],
  '52': ['新能源小型车', 'new-energy small'],
};
// Words the agencies answer in Chinese, with their English.
const WORDS = {
  正常: 'normal', 冻结: 'frozen', 销户: 'closed', 挂失: 'reported lost', 休眠: 'dormant', 注销: 'closed', 有效: 'valid', 已过期: 'expired', 已注销: 'cancelled',
  已宣布作废: 'declared invalid', 正常参保: 'insured', 终止: 'ended', 暂停: 'suspended', 中断: 'interrupted',
  非营运: 'private', 养老: 'pension', 医疗: 'medical', 失业: 'unemployment', 工伤: 'work injury', 生育: 'maternity',
  白: 'white', 灰: 'grey', 黄: 'yellow', 粉: 'pink', 红: 'red', 紫: 'purple', 绿: 'green', 蓝: 'blue', 棕: 'brown',
  黑: 'black', 其他: 'other',
};

function word(zh) {
  if (zh === null || zh === undefined || zh === '') return '—';
  return lang() === 'en' && WORDS[zh] ? WORDS[zh] : String(zh);
}

function pair(table, code) {
  const entry = table[code];
  if (!entry) return String(code ?? '—');
  return lang() === 'en' ? entry[1] : entry[0];
}

function yesNo(v) {
  return v ? t('yes') : t('no');
}

function vehicleStatus(codes) {
  const letters = String(codes || '').split('').filter(Boolean);
  if (!letters.length) return '—';
  return h('span', { class: 'codes' }, letters.map((c) => h('span', {
    class: ['tag', c === 'A' ? 'tag-ok' : ['K', 'L', 'C', 'E', 'M', 'P'].includes(c) ? 'tag-warn' : 'tag-muted'],
    title: c,
  }, pair(VEHICLE_STATUS, c))));
}

function current(entry) {
  return (entry.data || {}).status === '正常参保' ? 1 : 0;
}

function freezes(list, currency) {
  if (!list || !list.length) return '—';
  return h('ol', { class: 'freezes' }, [...list].sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).map((f) => h('li', {},
    h('span', { class: 'freeze-amount' }, fmtMoney(f.amount, currency)), ' ',
    h('span', { class: 'muted' }, f.authority || ''),
    f.frozen_until ? h('span', { class: 'muted small' }, ` ${t('until', { date: fmtDate(f.frozen_until) })}`) : null)));
}

// Column definitions per kind: [heading key, cell function, css class].
const KINDS = {
  bank_account: {
    columns: [
      ['col_bank', (d) => h('span', {}, h('strong', {}, d.bank_name), h('br'), h('span', { class: 'muted small' }, d.branch || ''))],
      ['col_account_number', (d) => h('span', { class: 'mono' }, d.account_number)],
      ['col_account_type', (d) => label('account_type', d.account_type), 'nowrap'],
      ['col_balance', (d) => fmtMoney(d.balance, d.currency), 'num'],
      ['col_available', (d) => fmtMoney(d.available_balance, d.currency), 'num'],
      ['col_status', (d) => h('span', { class: ['tag', d.status === '正常' ? 'tag-ok' : d.status === '冻结' ? 'tag-warn' : 'tag-muted'] }, word(d.status))],
      ['col_freezes', (d) => freezes(d.freezes, d.currency)],
    ],
    totals: (tot) => {
      const rows = Object.entries(tot.by_currency || {}).map(([cur, v]) => h('li', {},
        h('strong', {}, cur), ' ',
        t('total_balance'), ' ', h('span', { class: 'amount', 'data-total': `balance-${cur}` }, fmtMoney(v.balance, cur)), ' · ',
        t('total_available'), ' ', h('span', { class: 'amount' }, fmtMoney(v.available_balance, cur)), ' · ',
        t('total_frozen'), ' ', h('span', { class: 'amount' }, fmtMoney(v.frozen, cur))));
      return [h('ul', { class: 'totals-list' }, rows), tot.active !== undefined ? t('accounts_active', { n: tot.active }) : null];
    },
  },
  vehicle: {
    columns: [
      ['col_plate', (d) => h('span', {}, h('strong', { class: 'plate' }, d.plate_number), h('br'), h('span', { class: 'muted small' }, pair(PLATE_TYPES, d.plate_type)))],
      ['col_make_model', (d) => d.make_model],
      ['col_vin', (d) => h('span', { class: 'mono' }, d.vin)],
      ['col_colour_use', (d) => `${word(d.colour)} · ${word(d.use)}`],
      ['col_first_registered', (d) => fmtDate(d.first_registered_on)],
      ['col_vehicle_status', (d) => vehicleStatus(d.status_codes)],
      ['col_mortgaged', (d) => yesNo(d.mortgaged)],
      ['col_seizures', (d) => fmtCount(d.seizure_count ?? 0), 'num'],
    ],
    totals: (tot) => [t('vehicles_totals', { seized: tot.seized ?? 0, mortgaged: tot.mortgaged ?? 0 })],
  },
  employment: {
    columns: [
      ['col_employer', (d) => h('span', {}, h('strong', {}, d.employer_name), h('br'), h('span', { class: 'mono small muted' }, d.employer_credit_code || ''))],
      ['col_insurance', (d) => (d.insurance_types || []).map(word).join(lang() === 'en' ? ', ' : '、') || '—'],
      ['col_contribution_base', (d) => fmtMoney(d.contribution_base), 'num'],
      ['col_status', (d) => h('span', { class: ['tag', d.status === '正常参保' ? 'tag-ok' : 'tag-muted'] }, word(d.status))],
      ['col_last_paid', (d) => d.last_paid_month || '—'],
    ],
    // The employers the debtor is insured with now first; the ones left (终止, 暂停缴费) apart,
    // latest first, and never added to the contribution base.
    order: (a, b) => (current(b) - current(a)) || String(b.data?.last_paid_month || '').localeCompare(String(a.data?.last_paid_month || '')),
    group: (entry) => (current(entry) ? null : 'employment_history'),
    totals: (tot) => [
      t('employment_totals', { base: fmtMoney(tot.contribution_base) }),
      tot.current_employers !== undefined
        ? ` · ${t('employment_split', { current: tot.current_employers, former: tot.former_employers ?? 0 })}` : null,
    ],
  },
  pension: {
    columns: [
      ['col_paying_agency', (d) => d.paying_agency],
      ['col_monthly_amount', (d) => fmtMoney(d.monthly_amount), 'num'],
      ['col_since', (d) => fmtDate(d.since)],
    ],
    totals: (tot) => [t('pension_totals', { amount: fmtMoney(tot.monthly_amount) })],
  },
  travel_document: {
    columns: [
      ['col_document_type', (d) => label('document_type', d.document_type)],
      ['col_document_number', (d) => h('span', { class: 'mono' }, d.document_number)],
      ['col_issued', (d) => fmtDate(d.issued_on)],
      ['col_expires', (d) => fmtDate(d.expires_on)],
      ['col_status', (d) => h('span', { class: ['tag', d.status === '有效' ? 'tag-ok' : 'tag-muted'] }, word(d.status))],
    ],
  },
  border_crossing: {
    columns: [
      ['col_crossed_at', (d) => fmtDateTime(d.crossed_at)],
      ['col_direction', (d) => label('direction', d.direction)],
      ['col_port', (d) => d.port],
      ['col_destination', (d) => d.destination || '—'],
      ['col_document_number', (d) => h('span', { class: 'mono' }, d.document_number || '—')],
    ],
    totals: (tot) => (tot.latest ? [t('crossing_latest', { at: fmtDateTime(tot.latest) })] : []),
  },
  exit_restriction: {
    columns: [
      ['col_in_force', (d) => h('span', { class: ['tag', d.in_force ? 'tag-warn' : 'tag-muted'] }, d.in_force ? t('restriction_in_force') : t('restriction_none'))],
      ['col_authority', (d) => d.authority || '—'],
      ['col_since', (d) => fmtDate(d.since)],
    ],
  },
  securities_holding: {
    columns: [
      ['col_securities_account', (d) => h('span', {}, h('strong', { class: 'mono' }, d.account_number), ' ',
        h('span', { class: 'muted small' }, label('market', d.market)), h('br'),
        h('span', { class: 'muted small' }, d.custodian || ''))],
      ['col_security', (d) => h('span', {}, h('strong', {}, d.security_name), ' ', h('span', { class: 'mono small' }, d.security_code),
        h('br'), h('span', { class: 'muted small' }, label('security_type', d.security_type)))],
      ['col_quantity', (d) => fmtCount(d.quantity ?? 0), 'num'],
      ['col_frozen_quantity', (d) => (Number(d.frozen_quantity) > 0
        ? h('span', { class: 'tag tag-warn' }, fmtCount(d.frozen_quantity)) : fmtCount(0)), 'num'],
      ['col_price', (d) => h('span', {}, d.price, h('br'), h('span', { class: 'muted small' }, fmtDate(d.price_date))), 'num'],
      ['col_market_value', (d) => fmtMoney(d.market_value), 'num'],
      ['col_status', (d) => h('span', { class: ['tag', d.account_status === '正常' ? 'tag-ok' : d.account_status === '冻结' ? 'tag-warn' : 'tag-muted'] }, word(d.account_status))],
    ],
    totals: (tot) => [t('securities_totals', {
      accounts: tot.accounts ?? 0, value: fmtMoney(tot.market_value), date: fmtDate(tot.valued_on), frozen: tot.frozen ?? 0,
    })],
  },
  hotel_stay: {
    columns: [
      ['col_hotel', (d) => h('span', {}, h('strong', {}, d.hotel_name), h('br'), h('span', { class: 'muted small' }, d.address || ''))],
      ['col_stars', (d) => (Number(d.star_rating) > 0 ? h('span', { class: 'tag tag-star' }, t('stars', { n: d.star_rating })) : t('not_star_rated'))],
      ['col_check_in', (d) => fmtDateTime(d.checked_in_at)],
      ['col_check_out', (d) => fmtDateTime(d.checked_out_at)],
      ['col_room', (d) => d.room || '—'],
    ],
    totals: (tot) => [
      t('hotel_totals', { star: tot.star_rated ?? 0 }),
      tot.latest_check_in ? ` · ${t('hotel_latest', { at: fmtDateTime(tot.latest_check_in) })}` : null,
    ],
  },
};

const ORDER = ['bank_account', 'vehicle', 'securities_holding', 'employment', 'pension', 'exit_restriction',
  'travel_document',
  'border_crossing', 'hotel_stay'];

/** A kind without its own table (a plug-in's, such as real estate): one row per record, each
 * field with its words from the kind's schema (GET /api/v1/record-kinds), never a raw key. */
function genericColumns(kind, entries) {
  const known = recordKind(kind);
  const fields = known ? known.fields : [...new Set(entries.flatMap((e) => Object.keys(e.data || {})))]
    .map((name) => ({ name, label: { zh: name, en: name } }));
  const [first, ...rest] = fields;
  if (!first) return [];
  return [
    [pick(first.label), (d) => h('strong', { class: 'generic-primary' }, displayValue(first, d[first.name]))],
    [t('col_details'), (d) => h('dl', { class: 'fields' }, rest.map((f) => h('div', { 'data-field': f.name },
      h('dt', {}, pick(f.label)), h('dd', {}, displayValue(f, d[f.name])))))],
  ];
}

function stayKey(hotelName, checkedInAt) {
  const at = new Date(checkedInAt);
  return `${hotelName}|${Number.isNaN(at.getTime()) ? checkedInAt : at.toISOString()}`;
}

/** The search's alerts that name one dossier entry: a breach names the hotel stay. */
function flagsByEntry(alerts) {
  const map = new Map();
  for (const a of alerts || []) {
    const stay = a.evidence && a.evidence.stay;
    if (a.kind === 'consumption_breach' && stay) {
      const key = `hotel_stay:${stayKey(stay.hotel_name, stay.checked_in_at)}`;
      if (!map.has(key)) map.set(key, []);
      map.get(key).push({ code: 'consumption_breach', message: a.message });
    }
  }
  return map;
}

function flagsFor(entry, byEntry) {
  if (entry.kind !== 'hotel_stay') return [];
  return byEntry.get(`hotel_stay:${stayKey(entry.data.hotel_name, entry.data.checked_in_at)}`) || [];
}

/** Flags the server puts on an entry (for example a consumption-restriction breach). */
function entryFlags(entry, byEntry) {
  const flags = [...flagsFor(entry, byEntry)];
  const raw = entry.flags || entry.data?.flags || [];
  for (const f of Array.isArray(raw) ? raw : [raw]) {
    if (!f) continue;
    flags.push(typeof f === 'string' ? { code: f } : f);
  }
  if (entry.breach) flags.push(typeof entry.breach === 'object' ? { code: 'consumption_breach', ...entry.breach } : { code: 'consumption_breach' });
  return flags;
}

function flagBadge(flag) {
  const text = flag.message ? pick(flag.message) : label('flag', flag.code);
  return h('span', { class: 'tag tag-alert', 'data-flag': flag.code }, `⚠ ${text}`);
}

function provenance(entry, agencyNames) {
  return h('ul', { class: 'provenance' }, (entry.provenance || []).map((p) => h('li', {},
    h('span', { class: 'prov-agency', title: agencyNames[p.agency] ? pick(agencyNames[p.agency]) : p.agency },
      label('agency', p.agency) !== p.agency ? label('agency', p.agency) : pick(agencyNames[p.agency]) || p.agency),
    h('span', { class: 'prov-time' }, fmtDateTime(p.answered_at),
      p.reused ? h('span', { class: 'tag tag-muted small' }, t('reused_short')) : null))));
}

function section(kind, entries, totals, agencyNames, byEntry, controls) {
  const def = KINDS[kind] || { columns: genericColumns(kind, entries), generic: true };
  // The case page's control column: each asset's freeze or seal, or the one action that takes it.
  const control = controls && controls.controls(kind) ? controls : null;
  const head = h('tr', {},
    def.columns.map(([key, , cls]) => h('th', { scope: 'col', class: cls }, def.generic ? key : t(key))),
    control ? h('th', { scope: 'col' }, t('col_control')) : null,
    h('th', { scope: 'col' }, t('col_source')));
  const sorted = def.order ? [...entries].sort(def.order) : entries;
  let lastGroup = null;
  const rows = sorted.flatMap((entry) => {
    const flags = entryFlags(entry, byEntry);
    const group = def.group ? def.group(entry) : null;
    const divider = group && group !== lastGroup
      ? h('tr', { class: 'group-row', 'data-group': group },
        h('th', { scope: 'rowgroup', colspan: String(def.columns.length + (control ? 2 : 1)) }, t(group)))
      : null;
    lastGroup = group;
    const row = h('tr', {
      class: [entry.is_new ? 'is-new' : '', flags.length ? 'is-flagged' : '', group ? 'is-history' : ''],
      'data-key': entry.natural_key,
    },
    def.columns.map(([, cell, cls], i) => h('td', { class: cls }, cell(entry.data || {}, entry),
      i === 0 && entry.is_new ? h('span', { class: 'tag tag-new' }, t('new_badge')) : null,
      i === 0 && flags.length ? h('div', { class: 'flags' }, flags.map(flagBadge)) : null)),
    control ? h('td', { class: 'control-col' }, control.dossierCell(kind, entry)) : null,
    h('td', { class: 'small' }, provenance(entry, agencyNames)));
    return divider ? [divider, row] : [row];
  });
  const tot = totals || {};
  const summary = [
    h('span', { class: 'count' }, t('entries_count', { n: tot.count ?? entries.length })),
    tot.new ? h('span', { class: 'tag tag-new' }, t('new_count', { n: tot.new })) : null,
  ];
  const extra = def.totals ? def.totals(tot) : [];
  return h('section', { class: 'dossier-section', 'data-kind': kind, 'aria-labelledby': `kind-${kind}` },
    h('header', { class: 'dossier-section-head' },
      h('h3', { id: `kind-${kind}` }, kindLabel(kind) || label('kind', kind)), h('div', { class: 'summary' }, summary)),
    extra && extra.length ? h('div', { class: 'totals' }, extra) : null,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': `kind-${kind}` },
      h('table', { class: 'data' }, h('thead', {}, head), h('tbody', {}, rows))));
}

/** The dossier of a search view (GET /api/v1/searches/{id}); ``controls`` (the case page's
 * CaseMeasures) adds each controllable asset's freeze or seal, or the action that takes it. */
export function renderDossier(view, { controls = null } = {}) {
  const agencyNames = Object.fromEntries((view.agencies || []).map((a) => [a.agency, a.name]));
  const dossier = view.dossier || { sections: {}, totals: {} };
  const kinds = Object.keys(dossier.sections || {}).sort((a, b) => {
    const ia = ORDER.indexOf(a) < 0 ? 99 : ORDER.indexOf(a);
    const ib = ORDER.indexOf(b) < 0 ? 99 : ORDER.indexOf(b);
    return ia - ib || a.localeCompare(b);
  });
  const empty = (view.agencies || []).filter((a) => a.status === 'succeeded' && a.record_count === 0);
  const intro = h('div', { class: 'dossier-intro' },
    h('p', {},
      t('dossier_summary', { n: dossier.entry_count ?? Object.values(dossier.sections || {}).reduce((n, list) => n + list.length, 0) }),
      view.previous_search_at
        ? [' ', t('dossier_since', { at: fmtDateTime(view.previous_search_at) }), ' ',
          h('strong', { class: dossier.new_count ? 'new-text' : '' }, t('dossier_new', { n: dossier.new_count ?? 0 }))]
        : [' ', t('dossier_first')]),
    empty.length
      ? h('p', { class: 'muted', 'data-empty-answers': '' }, t('dossier_empty_answers', {
        list: empty.map((a) => pick(a.name) || a.agency).join(lang() === 'en' ? ', ' : '、'),
      }))
      : null);
  const byEntry = flagsByEntry(view.alerts);
  const alerts = view.alerts && view.alerts.length ? renderAlerts(view.alerts, { compact: true }) : null;
  return h('div', { class: 'dossier' }, alerts, intro,
    kinds.map((k) => section(k, dossier.sections[k], (dossier.totals || {})[k], agencyNames, byEntry, controls)),
    !kinds.length && view.status === 'completed' ? h('p', { class: 'empty' }, t('dossier_nothing')) : null);
}
