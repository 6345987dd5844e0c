// Control measures (查控的"控"): the ruling form a judge fills to freeze or seal an asset from the
// dossier, renew, release or deduct; a case's measures with their expiries and days left; the
// control state of each dossier entry; the court-wide list of renewals due, lapses and deductions
// awaiting approval. Who may act is the server's word (permissions from domain/authorization.py):
// the page never compares role names, and the API checks every request again.

import * as api from '../api.js';
import * as session from '../session.js';
import { h, replace } from '../dom.js';
import { daysBetween, fmtDate, fmtMoney, label, t, todayBeijing } from '../i18n.js';
import { messageOf, showError } from '../banner.js';

/** Which act first controls which asset (enforcement/domain/measures.py CONTROL_KIND). */
export const CONTROL_KIND = { bank_account: 'freeze', vehicle: 'seal', real_estate: 'seal', securities_holding: 'freeze' };
/** The assets a freeze asks an amount of, and a deduction takes from (domain AMOUNT_ASSETS); a
 * holding of securities is frozen whole. */
const AMOUNT_ASSETS = new Set(['bank_account']);
const LIVE = new Set(['pending', 'active', 'partial']);
const CONTROLS = new Set(['freeze', 'seal']);

let formSeq = 0;

/** Days from the court's date to the expiry (negative: past it). */
export function daysLeft(m, today) {
  return m.expires_on ? daysBetween(today || todayBeijing(), m.expires_on) : null;
}

function dash(v) {
  return v === null || v === undefined || v === '' ? '—' : v;
}

/**
 * A small form for one act: the 执行裁定书 number and date, and for a freeze or a deduction the
 * amount (a freeze: or the whole account). ``submit(body)`` posts it; an API refusal is shown in
 * the form in the API's own words (Chinese by default) and the form stays open.
 */
export function rulingForm({ act, assetKind = 'bank_account', today, rulingNumber = '', amount = null, onDone, onCancel, submit }) {
  const id = `mf${formSeq += 1}`;
  const number = h('input', { type: 'text', id: `${id}-number`, name: 'ruling_number', required: true, maxlength: 40,
    value: rulingNumber, class: 'input-ruling', autocomplete: 'off', 'aria-describedby': `${id}-hint` });
  const on = h('input', { type: 'date', id: `${id}-date`, name: 'ruled_on', required: true, value: today || todayBeijing(),
    max: today || todayBeijing() });
  const withAmount = (act === 'freeze' || act === 'deduct') && AMOUNT_ASSETS.has(assetKind);
  const money = withAmount ? h('input', { type: 'text', id: `${id}-amount`, name: 'amount', inputmode: 'decimal',
    value: amount && amount.value ? amount.value : '', class: 'input-amount', autocomplete: 'off' }) : null;
  const whole = withAmount && act === 'freeze' ? h('input', { type: 'checkbox', id: `${id}-whole`, name: 'whole_account' }) : null;
  if (whole) whole.addEventListener('change', () => { money.disabled = whole.checked; });
  const error = h('p', { class: 'error-text form-error', role: 'alert', 'data-form-error': '' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-small', 'data-submit-measure': act }, t(`measure_submit.${act}`));
  const cancel = h('button', { type: 'button', class: 'btn btn-small', onclick: () => onCancel && onCancel() }, t('cancel'));
  const form = h('form', { class: 'measure-form', 'data-measure-form': act, novalidate: true },
    h('div', { class: 'field field-grow' }, h('label', { for: number.id }, t('ruling_number')), number,
      h('span', { class: 'muted small', id: `${id}-hint` }, t('ruling_number_hint'))),
    h('div', { class: 'field' }, h('label', { for: on.id }, t('ruled_on')), on),
    withAmount ? h('div', { class: 'field' }, h('label', { for: money.id }, t(act === 'freeze' ? 'freeze_amount' : 'deduct_amount')), money,
      amount && amount.hint ? h('span', { class: 'muted small' }, amount.hint) : null) : null,
    whole ? h('div', { class: 'field field-check' }, whole, h('label', { for: whole.id }, t('whole_account'))) : null,
    h('div', { class: 'field field-actions' }, send, cancel),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!number.value.trim()) {
      error.textContent = t('ruling_number_required');
      number.focus();
      return;
    }
    const body = { ruling: { number: number.value.trim(), ruled_on: on.value } };
    if (withAmount && !(whole && whole.checked)) {
      if (!money.value.trim()) {
        error.textContent = t(act === 'freeze' ? 'freeze_amount_required' : 'deduct_amount_required');
        money.focus();
        return;
      }
      body.amount = money.value.trim().replace(/[,，¥\s]/g, '');
    }
    send.disabled = true;
    send.setAttribute('aria-busy', 'true');
    try {
      const made = await submit(body);
      if (onDone) onDone(made);
    } catch (err) {
      error.textContent = messageOf(err);
      if (err instanceof api.ApiError && err.requestId) error.append(h('span', { class: 'muted small' }, ` ${t('request_id', { id: err.requestId })}`));
      if (!(err instanceof api.ApiError)) showError(err);
      send.disabled = false;
      send.removeAttribute('aria-busy');
    }
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && onCancel) {
      event.preventDefault();
      onCancel();
    }
  });
  // Every caller puts the form in the page within the handler that made it: a microtask gives it the
  // keyboard before the next key is read (a timer could run after it: Chromium reads input first).
  queueMicrotask(() => number.focus());
  return form;
}

/** The act the server offers on a control (an alert's or a listed control's ``actions``: renew, or
 * release once its case closed for good): the server decided who may take it, nothing here does. */
export function offeredAct(actions) {
  return ['renew', 'release'].find((a) => actions && actions[a]) || null;
}

/**
 * The button and the ruling form of an offered act (``action``: method, href and a body whose
 * ruling holds the form's defaults, the case number and the court's date): one implementation for
 * the alerts and the court-wide list. The caller places ``button`` and ``box``; once sent, what was
 * submitted shows in ``box`` with its notice number, the button goes, and ``onActed(made)`` runs.
 */
export function offeredActControls(action, act, { word, attrs = {}, boxClass = 'alert-form', onActed = null }) {
  const defaults = (action.body && action.body.ruling) || {};
  const button = h('button', { type: 'button', class: 'btn btn-primary btn-small', ...attrs }, word);
  const box = h('div', { class: boxClass });
  button.addEventListener('click', () => {
    if (box.firstChild) { replace(box); button.focus(); return; }
    replace(box, rulingForm({
      act, today: defaults.ruled_on, rulingNumber: defaults.number || '',
      submit: (body) => api.request(action.method || 'POST', action.href, { body }),
      onCancel: () => { replace(box); button.focus(); },
      onDone: (made) => {
        replace(box, submittedNote(act, made));
        button.remove();
        if (onActed) onActed(made);
      },
    }));
  });
  return { button, box };
}

/** A renewal or release just submitted, with its 协助执行通知书 number. */
function submittedNote(act, made) {
  return h('p', { class: 'small', role: 'status', [`data-${act}-submitted`]: made.id },
    t(`alert_${act}_submitted`, { notice: made.notice_number || '' }));
}

/** What a measure says in one short phrase: 已冻结 ¥5,000.00 · 轮候第 2 位. */
function stateTag(m) {
  const cls = m.status === 'active' || m.status === 'done' ? 'tag-ok'
    : ['refused', 'lapsed', 'failed'].includes(m.status) ? 'tag-alert'
      : m.status === 'partial' || m.status === 'awaiting_approval' ? 'tag-warn' : 'tag-muted'; // rejected, withdrawn: muted
  return h('span', { class: ['tag', cls], 'data-measure-status': m.status }, label('measure_status', m.status));
}

function queueTag(m) {
  if (!m.queue_position) return null;
  return m.queue_position > 1
    ? h('span', { class: 'tag tag-warn', 'data-queue': m.queue_position }, t('queue_behind', { n: m.queue_position }))
    : h('span', { class: 'tag tag-ok', 'data-queue': 1 }, t('queue_first'));
}

function expiryCell(m, today) {
  if (m.kind === 'renew' && m.expires_on) return h('span', { class: 'muted' }, t('renewed_until', { date: fmtDate(m.expires_on) }));
  if (!m.expires_on || !CONTROLS.has(m.kind)) return '—';
  const lapsed = m.status === 'lapsed' || m.expiry_state === 'lapsed';
  if (!LIVE.has(m.status) && !lapsed) return h('span', { class: 'muted' }, fmtDate(m.expires_on));
  const left = daysLeft(m, today);
  const note = lapsed
    ? h('span', { class: 'tag tag-alert', 'data-lapsed': '' }, t('measure_lapsed_on', { n: Math.abs(left ?? 0) }))
    : m.expiry_state === 'due'
      ? h('span', { class: 'tag tag-warn', 'data-renewal-due': '' }, t('renewal_due_left', { n: left }))
      : h('span', { class: 'tag tag-muted' }, t('days_left', { n: left }));
  return [fmtDate(m.expires_on), ' ', note];
}

function amountCell(m) {
  if (m.kind === 'seal' || m.kind === 'renew' || m.kind === 'release') return '—';
  if (!AMOUNT_ASSETS.has(m.asset_kind)) return t('whole_holding_short');
  const asked = m.amount ? fmtMoney(m.amount) : (m.kind === 'freeze' ? t('whole_account_short') : '—');
  if (m.effect_amount === null || m.effect_amount === undefined) return asked;
  return h('span', {}, h('span', { class: 'muted small' }, `${t('asked')} ${asked}`), h('br'),
    h('strong', { 'data-effect': m.effect_amount }, `${t(m.kind === 'deduct' ? 'deducted' : 'effective')} ${fmtMoney(m.effect_amount)}`));
}

/** A dossier entry's asset, as the control form names it. */
function objectName(kind, data, naturalKey) {
  if (kind === 'securities_holding') return [data.security_name, data.security_code, data.account_number].filter(Boolean).join(' ') || naturalKey;
  return data.account_number || data.vin || data.plate_number || naturalKey;
}

/** The asset in words: a bank account's key is bank:number:currency (the dossier's natural key). */
function objectCell(m) {
  const parts = String(m.natural_key || '').split(':');
  const named = m.asset_kind === 'bank_account' && parts.length === 3
    ? [parts[0], h('br'), h('span', { class: 'mono small' }, parts[1]), ' ', h('span', { class: 'muted small' }, parts[2])]
    : [label('asset_kind', m.asset_kind), h('br'), h('span', { class: 'mono small' }, m.natural_key)];
  return h('span', { class: 'measure-object' }, named);
}

function refusalNote(m) {
  if (!m.refusal) return null;
  return h('div', { class: 'small error-text' }, m.refusal.reason || m.refusal.code || '');
}

/** Who rejected or withdrew a held deduction, and why. */
function cancelNote(m) {
  if (!m.cancelled || !['rejected', 'withdrawn'].includes(m.status)) return null;
  return h('div', { class: 'muted small', 'data-cancelled': m.status },
    t(`cancelled_by.${m.status}`, { who: m.cancelled.by || '' }),
    m.cancelled.reason ? h('span', { 'data-cancel-reason': '' }, ` · ${m.cancelled.reason}`) : null);
}

/**
 * The supervisor's decision on a held deduction: 批准 sends it; 驳回 asks a reason first (a small
 * form in place), then sends nothing. ``done(notice)`` reloads what shows it.
 */
export function decisionButtons(m, { mayApprove, mayReject, caseNumber, done }) {
  const box = h('div', { class: 'actions decision', 'data-decision': m.id });
  const approve = mayApprove ? h('button', { type: 'button', class: 'btn btn-primary btn-small', 'data-approve': m.id }, t('approve_deduction')) : null;
  const reject = mayReject ? h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-reject': m.id }, t('reject_deduction')) : null;
  const form = h('div', { class: 'reason-form-box' });
  if (approve) {
    approve.addEventListener('click', async () => {
      approve.disabled = true;
      try {
        await api.post(`/api/v1/measures/${m.id}:approve`, {});
        done(t('approved_notice', { case: caseNumber, amount: fmtMoney(m.amount) }));
      } catch (err) {
        approve.disabled = false;
        showError(err);
      }
    });
  }
  if (reject) {
    reject.addEventListener('click', () => {
      if (form.firstChild) { replace(form); reject.focus(); return; }
      replace(form, reasonForm({
        act: 'reject', required: true,
        submit: (reason) => api.post(`/api/v1/measures/${m.id}:reject`, { reason }),
        onCancel: () => { replace(form); reject.focus(); },
        onDone: () => done(t('rejected_notice', { case: caseNumber, amount: fmtMoney(m.amount) })),
      }));
    });
  }
  if (!approve && !reject) return null;
  box.append(...[approve, reject, form].filter(Boolean));
  return box;
}

/** The judge's withdrawal of a held deduction: an optional reason, then nothing is sent. */
export function withdrawButton(m, { done }) {
  const button = h('button', { type: 'button', class: 'btn btn-small', 'data-withdraw': m.id }, t('withdraw_deduction'));
  const form = h('div', { class: 'reason-form-box' });
  button.addEventListener('click', () => {
    if (form.firstChild) { replace(form); button.focus(); return; }
    replace(form, reasonForm({
      act: 'withdraw', required: false,
      submit: (reason) => api.post(`/api/v1/measures/${m.id}:withdraw`, reason ? { reason } : {}),
      onCancel: () => { replace(form); button.focus(); },
      onDone: () => done(),
    }));
  });
  return h('div', { class: 'actions decision' }, button, form);
}

/** A reason, required (a rejection) or optional (a withdrawal); the API's refusal shown in place. */
function reasonForm({ act, required, submit, onCancel, onDone }) {
  const id = `rf${formSeq += 1}`;
  const reason = h('input', { type: 'text', id: `${id}-reason`, name: 'reason', maxlength: 500, autocomplete: 'off',
    class: 'input-reason', required });
  const error = h('p', { class: 'error-text form-error', role: 'alert', 'data-form-error': '' });
  const send = h('button', { type: 'submit', class: ['btn', 'btn-small', act === 'reject' ? 'btn-danger' : 'btn-primary'],
    'data-submit-reason': act }, t(`reason_submit.${act}`));
  const form = h('form', { class: 'measure-form reason-form', 'data-reason-form': act, novalidate: true },
    h('div', { class: 'field field-grow' }, h('label', { for: reason.id }, t(`reason_label.${act}`)), reason),
    h('div', { class: 'field field-actions' }, send,
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => onCancel() }, t('cancel'))),
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const text = reason.value.trim();
    if (required && !text) {
      error.textContent = t('reason_required');
      reason.focus();
      return;
    }
    send.disabled = true;
    try {
      onDone(await submit(text));
    } catch (err) {
      error.textContent = messageOf(err);
      if (!(err instanceof api.ApiError)) showError(err);
      send.disabled = false;
    }
  });
  reason.addEventListener('input', () => { error.textContent = ''; });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { event.preventDefault(); onCancel(); }
  });
  queueMicrotask(() => reason.focus()); // as rulingForm: before the next key is read
  return form;
}

/**
 * A case's measures: controls (freezes, seals) with what followed each beneath it; renew,
 * release and deduct where the judge holding the open case may.
 */
export class CaseMeasures {
  constructor(caseView, { onChange } = {}) {
    this.c = caseView;
    this.caseId = caseView.id;
    this.measures = [];
    this.today = null;
    this.noticeDays = 15;
    this.loaded = false;
    this.onChange = onChange;
    // What the signed-in user may do with this case's measures (GET .../measures ``permissions``,
    // domain/authorization.py measure_permissions): the page offers those acts and no other.
    this.perms = new Set();
    this.open = null; // {id, act}: the form shown
    this.pollTimer = null;
    this.pollDelay = 1000;
    this.closed = false;
    this.box = h('div', { class: 'measures-box', id: 'measures' }, h('p', { class: 'loading' }, t('loading')));
    this.cells = new Set(); // dossier entries' control cells, redrawn with the measures
  }

  /** Whether the server allows this act (freeze, seal, deduct, renew, release, withdraw, approve, reject) now. */
  may(act) {
    return this.perms.has(act);
  }

  get canAct() {
    return ['freeze', 'seal', 'deduct', 'renew', 'release'].some((act) => this.may(act));
  }

  async load() {
    try {
      const data = await api.get(`/api/v1/cases/${this.caseId}/measures`);
      if (this.closed) return;
      this.measures = data.measures || [];
      this.today = data.today || todayBeijing();
      this.noticeDays = data.notice_days ?? 15;
      this.perms = new Set(data.permissions || []);
      this.loaded = true;
      this.draw();
      this.redrawCells();
      this.watchPending();
    } catch (err) {
      if (this.closed) return;
      replace(this.box, h('p', { class: 'muted' }, messageOf(err)));
    }
  }

  /** Measures the agency has not answered yet: look again until they are, a little less often
   * each time (a bank may answer in seconds or in days), from once a second to twice a minute. */
  watchPending() {
    clearTimeout(this.pollTimer);
    if (this.closed || !this.measures.some((m) => m.status === 'pending')) {
      this.pollDelay = 1000;
      return;
    }
    this.pollTimer = setTimeout(() => this.load(), this.pollDelay);
    this.pollDelay = Math.min(this.pollDelay * 1.5, 30000);
  }

  close() {
    this.closed = true;
    clearTimeout(this.pollTimer);
  }

  changed() {
    this.pollDelay = 1000;
    this.load();
    if (this.onChange) this.onChange();
  }

  /** The control of a dossier entry (the latest freeze or seal of it), if any. */
  controlOf(assetKind, naturalKey) {
    return this.measures.filter((m) => CONTROLS.has(m.kind) && m.asset_kind === assetKind && m.natural_key === naturalKey)
      .sort((a, b) => b.id - a.id)[0] || null;
  }

  followUps(control) {
    return this.measures.filter((m) => m.parent_id === control.id).sort((a, b) => a.id - b.id);
  }

  pendingFollowUp(control) {
    return this.followUps(control).find((m) => m.status === 'pending' || m.status === 'awaiting_approval') || null;
  }

  rulingDefault() {
    return this.c.case_number || '';
  }

  // -- the dossier's control column --------------------------------------------------------------

  /** Whether the dossier shows a control column for this kind of record. */
  controls(kind) {
    return Boolean(CONTROL_KIND[kind]);
  }

  /** The cell a dossier row of a controllable asset shows: its control state, or the one action. */
  dossierCell(kind, entry) {
    const cell = h('div', { class: 'control-cell', 'data-control-cell': entry.natural_key, 'data-control-kind': kind });
    cell.entryData = { kind, entry };
    this.cells.add(cell);
    this.fillCell(cell);
    return cell;
  }

  redrawCells() {
    for (const cell of [...this.cells]) {
      if (!cell.isConnected) this.cells.delete(cell);
      else this.fillCell(cell);
    }
  }

  fillCell(cell) {
    const { kind, entry } = cell.entryData;
    if (!this.loaded) {
      replace(cell, h('span', { class: 'muted small' }, '…'));
      return;
    }
    const control = this.controlOf(kind, entry.natural_key);
    const live = control && (LIVE.has(control.status) || control.status === 'awaiting_approval');
    const parts = [];
    if (control) {
      const inForce = LIVE.has(control.status) && control.status !== 'pending';
      parts.push(h('div', { class: 'control-state' },
        h('span', { class: 'control-kind' }, label(`measure_kind_${kind}`, control.kind)), ' ', stateTag(control),
        control.queue_position > 1 ? [' ', queueTag(control)] : null),
      inForce ? h('div', { class: 'muted small' },
        control.effect_amount ? `${fmtMoney(control.effect_amount)} · ` : '',
        control.expires_on ? t('until', { date: fmtDate(control.expires_on) }) : '') : null,
      refusalNote(control));
    }
    if (!live && CONTROL_KIND[kind] && this.may(CONTROL_KIND[kind])) {
      const act = CONTROL_KIND[kind];
      const button = h('button', { type: 'button', class: 'btn btn-small btn-control', 'data-control': entry.natural_key },
        t(`control_action.${act}`));
      button.addEventListener('click', () => this.openDossierForm(cell, kind, entry, act, button));
      parts.push(button);
    }
    replace(cell, parts.length ? parts : h('span', { class: 'muted small' }, t('control_none')));
  }

  openDossierForm(cell, kind, entry, act, button) {
    const row = cell.closest('tr');
    const old = row && row.nextElementSibling && row.nextElementSibling.classList.contains('control-form-row')
      ? row.nextElementSibling : null;
    if (old) { old.remove(); button.focus(); return; }
    const data = entry.data || {};
    let amount = null;
    if (act === 'freeze' && AMOUNT_ASSETS.has(kind)) {
      const available = Number(data.available_balance);
      const owed = Number(this.c.amount_to_enforce || 0) - Number(this.c.amount_recovered || 0);
      const suggest = Number.isFinite(available) && available > 0
        ? (owed > 0 ? Math.min(available, owed) : available) : null;
      amount = { value: suggest ? suggest.toFixed(2) : '', hint: t('available_hint', { amount: fmtMoney(data.available_balance, data.currency) }) };
    }
    const formRow = h('tr', { class: 'control-form-row' }, h('td', { colspan: String(row ? row.children.length : 1) }));
    const close = () => { formRow.remove(); if (button.isConnected) button.focus(); };
    const form = rulingForm({
      act, assetKind: kind, today: this.today, rulingNumber: this.rulingDefault(), amount,
      submit: (body) => api.post(`/api/v1/cases/${this.caseId}/measures`, {
        kind: act, asset_kind: kind, natural_key: entry.natural_key, ...body }),
      onCancel: close,
      onDone: () => { formRow.remove(); this.changed(); },
    });
    formRow.firstChild.append(h('div', { class: 'control-form-title' },
      h('strong', {}, t(`control_title.${kind}`)), ' ', h('span', { class: 'mono small' }, objectName(kind, data, entry.natural_key))),
    AMOUNT_ASSETS.has(kind) || act !== 'freeze' ? null : h('p', { class: 'muted small', 'data-whole-holding': '' }, t('whole_holding_note')),
    form);
    if (row) row.after(formRow);
  }

  // -- the case's measures table ------------------------------------------------------------------

  draw() {
    const controls = this.measures.filter((m) => CONTROLS.has(m.kind)).sort((a, b) => a.id - b.id);
    const orphans = this.measures.filter((m) => !CONTROLS.has(m.kind) && !controls.some((c) => c.id === m.parent_id));
    if (!controls.length && !orphans.length) {
      replace(this.box, h('p', { class: 'empty' }, t(this.canAct ? 'measures_none_hint' : 'measures_none')));
      return;
    }
    const rows = [];
    for (const control of controls) {
      rows.push(this.row(control, false));
      if (this.open && this.open.id === control.id) rows.push(this.formRow(control, this.open.act));
      for (const f of this.followUps(control)) rows.push(this.row(f, true));
    }
    for (const m of orphans) rows.push(this.row(m, true));
    const due = controls.filter((m) => LIVE.has(m.status) && m.expiry_state === 'due').length;
    const lapsed = controls.filter((m) => m.status === 'lapsed').length;
    replace(this.box,
      h('p', { class: 'measures-summary small' },
        t('measures_summary', { n: controls.length, live: controls.filter((m) => LIVE.has(m.status)).length }),
        due ? [' · ', h('strong', { class: 'warn-text' }, t('measures_due_count', { n: due, days: this.noticeDays }))] : null,
        lapsed ? [' · ', h('strong', { class: 'error-text' }, t('measures_lapsed_count', { n: lapsed }))] : null),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'measures-title' },
        h('table', { class: 'data measures-table' },
          h('thead', {}, h('tr', {}, ['col_measure', 'col_object', 'col_measure_amount', 'col_queue_position', 'col_status',
            'col_measure_expires', 'col_action'].map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', {}, rows))));
  }

  row(m, followUp) {
    const lapsed = m.status === 'lapsed' || (LIVE.has(m.status) && m.expiry_state === 'lapsed');
    const due = LIVE.has(m.status) && m.expiry_state === 'due';
    return h('tr', {
      'data-measure-id': m.id, 'data-kind': m.kind,
      class: [followUp ? 'follow-up' : '', due ? 'is-due' : '', lapsed ? 'is-lapsed' : '',
        m.status === 'awaiting_approval' ? 'is-awaiting' : ''],
    },
    h('th', { scope: 'row' }, followUp ? h('span', { class: 'follow-mark', 'aria-hidden': 'true' }, '↳ ') : null,
      label(`measure_kind_${m.asset_kind}`, m.kind),
      h('div', { class: 'muted small' }, m.notice_number),
      h('div', { class: 'muted small' }, t('ruling_short', { number: m.ruling.number, date: fmtDate(m.ruling.ruled_on) }))),
    h('td', {}, followUp ? '' : objectCell(m)),
    h('td', { class: 'num' }, amountCell(m)),
    h('td', {}, followUp ? '—' : queueTag(m) || '—'),
    h('td', {}, stateTag(m), refusalNote(m), cancelNote(m),
      m.status === 'awaiting_approval' ? h('div', { class: 'small warn-text' }, t('awaiting_approval_note')) : null,
      m.approved_by ? h('div', { class: 'muted small' }, t('approved_by', { who: m.approved_by })) : null,
      m.transfer_reference ? h('div', { class: 'muted small mono' }, t('transfer_ref', { ref: m.transfer_reference })) : null),
    h('td', {}, expiryCell(m, this.today)),
    h('td', { class: 'actions-cell' }, followUp ? this.heldActions(m) : this.actions(m)));
  }

  /** A held deduction: the judge may withdraw it, a supervisor of the court approve or reject it. */
  heldActions(m) {
    if (m.status !== 'awaiting_approval') return null;
    const done = () => this.changed();
    return [
      this.may('withdraw') ? withdrawButton(m, { done }) : null,
      decisionButtons(m, { mayApprove: this.may('approve'), mayReject: this.may('reject'), caseNumber: this.c.case_number, done }),
    ];
  }

  actions(control) {
    if (!LIVE.has(control.status) || control.status === 'pending') return null;
    const acts = ['renew', 'release', 'deduct'].filter((act) => this.may(act)
      && (act !== 'deduct' || (control.kind === 'freeze' && AMOUNT_ASSETS.has(control.asset_kind))));
    if (!acts.length) return null;
    const pending = this.pendingFollowUp(control);
    if (pending) return h('span', { class: 'muted small' }, t('follow_up_pending', { what: label(`measure_kind_${control.asset_kind}`, pending.kind) }));
    return h('div', { class: 'actions' }, acts.map((act) => h('button', {
      type: 'button', class: ['btn', 'btn-small', act === 'renew' && control.expiry_state === 'due' ? 'btn-primary' : ''],
      'data-measure-action': act, 'aria-expanded': this.open && this.open.id === control.id && this.open.act === act ? 'true' : 'false',
      onclick: () => {
        this.open = this.open && this.open.id === control.id && this.open.act === act ? null : { id: control.id, act };
        this.draw();
        if (!this.open) this.box.querySelector(`tr[data-measure-id="${control.id}"] [data-measure-action="${act}"]`)?.focus();
      },
    }, label(`measure_kind_${control.asset_kind}`, act))));
  }

  formRow(control, act) {
    const close = () => {
      this.open = null;
      this.draw();
      this.box.querySelector(`tr[data-measure-id="${control.id}"] [data-measure-action="${act}"]`)?.focus();
    };
    const amount = act === 'deduct'
      ? { value: control.effect_amount || '', hint: t('frozen_hint', { amount: fmtMoney(control.effect_amount) }) } : null;
    const submit = act === 'deduct'
      ? (body) => api.post(`/api/v1/cases/${this.caseId}/measures`, { kind: 'deduct', measure_id: control.id, ...body })
      : (body) => api.post(`/api/v1/measures/${control.id}:${act}`, body);
    return h('tr', { class: 'control-form-row', 'data-form-for': control.id }, h('td', { colspan: '7' },
      h('div', { class: 'control-form-title' }, h('strong', {}, label(`measure_kind_${control.asset_kind}`, act)), ' ',
        objectCell(control)),
      rulingForm({ act, assetKind: control.asset_kind, today: this.today, rulingNumber: this.rulingDefault(), amount, submit, onCancel: close,
        onDone: () => { this.open = null; this.changed(); } })));
  }
}

// -- the court-wide view (/ui/measures) ------------------------------------------------------------

const GROUPS = ['due', 'lapsed', 'awaiting_approval'];

/**
 * One group's table. A renewal due offers the act the list's answer gives this user on it
 * (``actions``: 续冻/续封, or 解除 on a case closed for good; the server decides who, as for an
 * alert), its ruling form in a row beneath; a group with nothing offered has no action column (a
 * supervisor's). ``submitted``: the renewals and releases sent from this page, by control, shown
 * with their notice numbers until the agency answers.
 */
function groupTable(state, items, today, { reload, submitted, onActed }) {
  const mayApprove = session.can('approve_deductions');
  const mayReject = session.can('reject_deductions');
  const acting = state !== 'awaiting_approval' && items.some((m) => offeredAct(m.actions));
  const rows = items.flatMap((m) => {
    const act = acting ? offeredAct(m.actions) : null;
    const offered = act ? offeredActControls(m.actions[act], act, {
      word: label(`measure_kind_${m.asset_kind}`, act), attrs: { 'data-measure-action': act, 'data-for': m.id },
      boxClass: 'offered-form', onActed: (made) => onActed(m, act, made),
    }) : null;
    const sent = submitted.get(m.id);
    const tr = h('tr', {
      'data-measure-id': m.id, 'data-state': state,
      class: [state === 'due' ? 'is-due' : '', state === 'lapsed' ? 'is-lapsed' : '', state === 'awaiting_approval' ? 'is-awaiting' : ''],
    },
    h('th', { scope: 'row' }, h('a', { href: `/ui/cases/${m.case_id}` }, m.case_number)),
    h('td', {}, label(`measure_kind_${m.asset_kind}`, m.kind), h('div', { class: 'muted small' }, m.notice_number)),
    h('td', {}, objectCell(m)),
    h('td', { class: 'num' }, amountCell(m)),
    h('td', {}, state === 'awaiting_approval'
      ? [stateTag(m), h('div', { class: 'muted small' }, t('requested_by', { who: m.judge_name || m.requested_by }))]
      : [expiryCell(m, today), sent ? h('div', { class: 'muted small', [`data-${sent.act}-submitted`]: sent.made.id },
        t(`alert_${sent.act}_submitted`, { notice: sent.made.notice_number || '' }))
        : m.pending_follow_up
          ? h('div', { class: 'muted small' }, t('follow_up_pending', { what: label(`measure_kind_${m.asset_kind}`, m.pending_follow_up) })) : null]),
    h('td', {}, state === 'awaiting_approval'
      ? decisionButtons(m, { mayApprove, mayReject, caseNumber: m.case_number, done: reload }) || '—'
      : (m.judge_name || m.judge)),
    acting ? h('td', { class: 'actions-cell' }, offered ? offered.button : null) : null);
    return offered ? [tr, h('tr', { class: 'control-form-row offered-form-row', 'data-form-for': m.id },
      h('td', { colspan: '7' }, offered.box))] : [tr];
  });
  const cols = ['col_case_number', 'col_measure', 'col_object', 'col_measure_amount',
    state === 'awaiting_approval' ? 'col_status' : 'col_measure_expires',
    state === 'awaiting_approval' ? 'col_action' : 'col_judge', acting ? 'col_action' : null].filter(Boolean);
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': `group-${state}` },
    h('table', { class: 'data court-measures' },
      h('thead', {}, h('tr', {}, cols.map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, rows)));
}

export async function render(ctx) {
  const { main } = ctx;
  const status = h('p', { class: 'muted small', role: 'status', id: 'measures-status' });
  const body = h('div', {}, h('p', { class: 'loading' }, t('loading')));
  const court = session.can('list_court_cases');
  // Renewals and releases sent from this page (by control id): {act, made}, until their agency answers.
  const submitted = new Map();
  replace(main, h('section', { class: 'page court-measures-page' },
    h('div', { class: 'page-head' }, h('h1', {}, t(court ? 'court_measures_title' : 'my_measures_title'))),
    h('p', { class: 'muted' }, t('court_measures_intro')), status, body));
  const load = async (notice) => {
    let data;
    try {
      data = await api.get('/api/v1/measures');
    } catch (err) {
      replace(body, h('p', { class: 'empty' }, messageOf(err)));
      showError(err);
      return;
    }
    if (!ctx.isCurrent()) return;
    const byState = Object.fromEntries(GROUPS.map((g) => [g, []]));
    for (const m of data.measures || []) (byState[m.state] || []).push(m);
    status.textContent = notice || t('court_measures_stamp', { date: fmtDate(data.today), days: data.notice_days });
    const options = { reload: load, submitted, onActed };
    replace(body, GROUPS.map((g) => h('section', { class: ['panel', `measures-${g}`], 'aria-labelledby': `group-${g}`, 'data-group': g },
      h('div', { class: 'panel-head' }, h('h2', { id: `group-${g}` }, t(`court_measures.${g}`, { days: data.notice_days })),
        h('span', { class: ['tag', byState[g].length ? (g === 'lapsed' ? 'tag-alert' : 'tag-warn') : 'tag-muted'] }, dash(byState[g].length))),
      byState[g].length ? groupTable(g, byState[g], data.today, options) : h('p', { class: 'empty' }, t(`court_measures_none.${g}`)))));
  };
  // Sent: the list again (the row shows it submitted, with its notice number), then its answer
  // looked for, less often each time, until the agency gives it: the list once more, and what became of it.
  function onActed(control, act, made) {
    submitted.set(control.id, { act, made });
    load(t(`alert_${act}_submitted`, { notice: made.notice_number || '' }));
    const watch = async (delay) => {
      if (!ctx.isCurrent()) return;
      let got;
      try {
        got = await api.get(`/api/v1/measures/${made.id}`);
      } catch (err) {
        showError(err);
        return;
      }
      if (['pending', 'awaiting_approval'].includes(got.status)) {
        setTimeout(() => watch(Math.min(delay * 1.5, 30000)), delay);
        return;
      }
      submitted.delete(control.id);
      load(t(`alert_${act}_${got.status === 'done' ? 'done' : 'failed'}`, { notice: got.notice_number || '' }));
    };
    setTimeout(() => watch(1000), 1000);
  }
  await load();
  return undefined;
}
