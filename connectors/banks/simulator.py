"""A simulator of the 总对总 bank gateway: batches in, tickets out, answers after a delay.

Wire format: see ``connectors.banks.wire``. Errors: an HTTP status plus
``{"ErrorCode": "...", "ErrorMessage": "..."}`` (also for the kit's injected faults).

- ``POST /cxkz/v1/QueryBatches`` checks the envelope (a bad envelope refuses the whole batch:
  400 ``BATCH_INVALID``, 413 ``BATCH_TOO_LARGE``), then each item. A valid item is accepted
  once per ``IdempotencyKey`` (``state.effective``: a re-submitted key gets its first ticket
  back and counts as one effective query); an invalid one gets a ticket that polls as
  ``REJECTED`` with the reason (``ITEM_FIELD_MISSING``, ``ID_NUMBER_INVALID``, ...), and is never
  called back: the batch answer already said it.
- ``GET /cxkz/v1/Tickets/{Ticket}``: ``PROCESSING`` until the ticket is due, then ``DONE`` with
  the accounts; 404 ``TICKET_NOT_FOUND`` for a ticket it never issued.
- ``POST /cxkz/v1/Controls``: one control operation (FREEZE, RENEW, UNFREEZE, DEDUCT) on an
  account the gateway holds for the subject, accepted for processing: 202 with a ``Ticket``
  (``PROCESSING``, ``PollAfterSeconds``); a re-sent ``IdempotencyKey`` gets its first ticket back
  (202 while processing, 200 with the answer once done). ``control_delay_seconds`` of simulated
  time later the bank processes it against the state in ``state.controls`` (the SDK's
  ``ControlLedger``), once per key: freezes take what earlier freezes leave (the rest 轮候), a
  released freeze lets those behind it rise, a deduction moves money to the court's funds
  account. Queries answer the accounts as the ledger holds them.
- ``GET /cxkz/v1/ControlTickets/{Ticket}``: ``PROCESSING`` until processed, then the answer
  (``SUCCESS``, ``PARTIAL`` or ``REFUSED``, the same on every poll); 404 ``TICKET_NOT_FOUND``.
- ``GET /_sim/accounts/{AccountNo}``: the account's balance and freezes as the bank holds them;
  ``POST /_sim/accounts/{AccountNo}/withdraw {"Amount"}``: the debtor takes money out (409
  ``BALANCE_FROZEN`` beyond what no freeze covers).
- ``GET /_sim/callbacks``: callback delivery counts (see ``sim_tickets``).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from connectors.banks.sim_tickets import (
    BankSimulatorState,
    ControlTicket,
    SimTicket,
    beijing_time,
    callback_context,
    new_number,
)
from connectors.banks.simdata import accounts_for, in_range
from connectors.banks.wire import AUTH_HEADER, DONE, PROCESSING, SUBJECT_TYPES
from connectors.sdk import (
    ControlLedger,
    Effect,
    InvalidIdentifier,
    SimulatorConfig,
    make_simulator_app,
    normalize_credit_code,
    normalize_resident_id,
)
from connectors.sdk.control_kit import Account, refused

MAX_BATCH = 200
REQUIRED = (
    "IdempotencyKey",
    "RequestNo",
    "CaseNo",
    "CourtCode",
    "JudgeName",
    "JudgeOfficerNo",
    "DocumentNo",
    "SubjectType",
    "IdType",
    "IdNo",
    "Name",
)
FIELD_NAMES = {
    "IdempotencyKey": "幂等键",
    "RequestNo": "请求单号",
    "CaseNo": "案号",
    "CourtCode": "法院代码",
    "JudgeName": "承办人姓名",
    "JudgeOfficerNo": "承办人警号/工作证号",
    "DocumentNo": "协助查询通知书文号",
    "SubjectType": "主体类型",
    "IdType": "证件类型",
    "IdNo": "证件号码",
    "Name": "名称",
}
KIT_CODES = {
    "service_unavailable": "SYSTEM_BUSY",
    "unauthorized": "AUTH_FAILED",
    "rate_limited": "TOO_MANY_REQUESTS",
}
BANK_STATE = web.AppKey("bank_state", BankSimulatorState)


def bank_error_style(status: int, code: str, message: str) -> tuple[str, bytes]:
    body = {"ErrorCode": KIT_CODES.get(code, code), "ErrorMessage": message}
    return "application/json", json.dumps(body, ensure_ascii=False).encode()


def error(status: int, code: str, message: str) -> web.Response:
    ctype, body = bank_error_style(status, code, message)
    return web.Response(status=status, body=body, content_type=ctype)


def authorized(request: web.Request) -> bool:
    return request.headers.get(AUTH_HEADER) == request.app[BANK_STATE].config.api_key


def _wire_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return datetime.strptime(str(value), "%Y%m%d").date()


def item_problem(item: Mapping[str, Any]) -> tuple[str, str] | None:
    """(ErrorCode, ErrorMessage) when the gateway refuses the item, else None."""
    for name in REQUIRED:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            return "ITEM_FIELD_MISSING", f"缺少必填项：{FIELD_NAMES[name]}（{name}）"
    kinds = {v: k for k, v in SUBJECT_TYPES.items()}
    kind = kinds.get((item["SubjectType"], item["IdType"]))
    if kind is None:
        return "SUBJECT_TYPE_INVALID", "主体类型与证件类型不符"
    try:
        if kind == "person":
            normalize_resident_id(item["IdNo"])
        else:
            normalize_credit_code(item["IdNo"])
    except InvalidIdentifier as exc:
        return "ID_NUMBER_INVALID", f"证件号码校验未通过：{exc.message_zh}"
    try:
        date_from, date_to = _wire_date(item.get("DateFrom")), _wire_date(item.get("DateTo"))
    except ValueError:
        return "DATE_RANGE_INVALID", "查询起止日期格式应为yyyyMMdd"
    if date_from and date_to and date_from > date_to:
        return "DATE_RANGE_INVALID", "查询起始日期晚于截止日期"
    return None


def envelope_problem(body: Any) -> tuple[int, str, str] | None:
    if not isinstance(body, Mapping):
        return 400, "BATCH_INVALID", "批次报文应为JSON对象"
    if not isinstance(body.get("BatchNo"), str) or not body["BatchNo"].strip():
        return 400, "BATCH_INVALID", "缺少批次号（BatchNo）"
    items = body.get("Items")
    if not isinstance(items, list) or not items:
        return 400, "BATCH_INVALID", "批次明细（Items）为空"
    if len(items) > MAX_BATCH:
        return 413, "BATCH_TOO_LARGE", f"单批次最多{MAX_BATCH}条，本批次{len(items)}条"
    seqs = [i.get("SeqNo") if isinstance(i, Mapping) else None for i in items]
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in seqs):
        return 400, "BATCH_INVALID", "明细序号（SeqNo）缺失或非整数"
    if len(set(seqs)) != len(seqs):
        return 400, "BATCH_INVALID", "明细序号（SeqNo）重复"
    return None


def held_view(ledger: ControlLedger, account: dict[str, Any]) -> dict[str, Any]:
    """The account as the bank holds it now: balance and freezes after the controls it took."""
    held = ledger.accounts.get(account["AccountNo"])
    if held is None:
        return account
    active = [h for h in held.holds if h.active]
    freezes = [
        {"FreezeSeq": n, "FreezeOrg": h.authority, "FreezeDocNo": "", "FreezeAmount": f"{h.amount:.2f}",
         "FreezeStartDate": "", "FreezeEndDate": f"{h.until:%Y%m%d}" if h.until else ""}
        for n, h in enumerate(active, 1)
    ]
    return {**account, "Balance": f"{held.balance:.2f}", "AvailableBalance": f"{held.available:.2f}",
            "AccountStatus": "F" if held.frozen > 0 else account["AccountStatus"], "FreezeList": freezes}


def ledger_account(ledger: ControlLedger, kind: str, id_number: str, number: str) -> Account | None:
    """The ledger's account for one of the subject's accounts (made on first sight), or None."""
    for account in accounts_for(kind, id_number):
        if account["AccountNo"] == number and account["AccountStatus"] != "C":
            others = [(f["FreezeOrg"], Decimal(f["FreezeAmount"])) for f in account["FreezeList"]]
            return ledger.account(number, Decimal(account["Balance"]), others)
    return None


def answer_for(ticket: SimTicket, item: Mapping[str, Any], ledger: ControlLedger | None = None) -> dict[str, Any]:
    """The DONE body of an accepted item: fixed when the item is accepted."""
    kind = "person" if item["SubjectType"] == SUBJECT_TYPES["person"][0] else "organization"
    date_from, date_to = _wire_date(item.get("DateFrom")), _wire_date(item.get("DateTo"))
    accounts = [a for a in accounts_for(kind, item["IdNo"]) if in_range(a, date_from, date_to)]
    if ledger is not None:
        accounts = [held_view(ledger, a) for a in accounts]
    return {
        "Ticket": ticket.ticket,
        "BankBatchNo": ticket.bank_batch_no,
        "SeqNo": ticket.seq_no,
        "RequestNo": item["RequestNo"],
        "Status": DONE,
        "StatusName": "已反馈",
        "AnswerNo": new_number("FK", ticket.ready_at),
        "AnsweredAt": beijing_time(ticket.ready_at),
        "ResultCode": "0000" if accounts else "0001",
        "ResultMessage": "查询成功" if accounts else "查无信息",
        "AccountCount": len(accounts),
        "Accounts": accounts,
    }


def accept_item(
    state: BankSimulatorState, bank_batch_no: str, item: Mapping[str, Any], now: float
) -> str:
    ticket = SimTicket(
        ticket=new_number("CX", now),
        bank_batch_no=bank_batch_no,
        seq_no=item["SeqNo"],
        accepted_at=now,
        ready_at=now + state.real_delay(),
    )
    ticket.answer = answer_for(ticket, item, state.controls)
    state.add(ticket)
    return ticket.ticket


def reject_item(
    state: BankSimulatorState,
    bank_batch_no: str,
    item: Mapping[str, Any],
    now: float,
    problem: tuple[str, str],
) -> str:
    key = item.get("IdempotencyKey")
    if isinstance(key, str) and key in state.rejected_keys:
        return state.rejected_keys[key]
    ticket = SimTicket(
        new_number("CX", now), bank_batch_no, item["SeqNo"], now, now, rejection=problem
    )
    # The refusal was already said in the batch answer: the ticket polls as REJECTED, but the
    # gateway does not call back about it (the court side never registered such a ticket).
    state.tickets[ticket.ticket] = ticket
    if isinstance(key, str) and key:
        state.rejected_keys[key] = ticket.ticket
    return ticket.ticket


def accepter(
    state: BankSimulatorState, bank_batch_no: str, item: Mapping[str, Any], now: float
) -> Callable[[], str]:
    """The ``compute`` for ``state.effective``: runs once per idempotency key."""
    return lambda: accept_item(state, bank_batch_no, item, now)


async def health(request: web.Request) -> web.Response:
    if not authorized(request):
        return error(401, "AUTH_FAILED", "AppKey无效或已过期")
    return web.json_response(
        {"Status": "UP", "GatewayNo": "ZDZ-YHCK-01", "ServerTime": beijing_time(time.time())}
    )


async def submit_batch(request: web.Request) -> web.Response:
    state = request.app[BANK_STATE]
    if not authorized(request):
        return error(401, "AUTH_FAILED", "AppKey无效或已过期")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "BATCH_INVALID", "批次报文不是合法的JSON")
    problem = envelope_problem(body)
    if problem is not None:
        return error(*problem)
    now = time.time()
    state.settle_controls(now)  # a query answers the accounts as the bank holds them now
    bank_batch_no = new_number("YHPC", now)
    answers: list[dict[str, Any]] = []
    for item in body["Items"]:
        refused = item_problem(item)
        if refused is not None:
            ticket = reject_item(state, bank_batch_no, item, now, refused)
            answers.append(
                {
                    "SeqNo": item["SeqNo"],
                    "Ticket": ticket,
                    "ItemStatus": "REJECTED",
                    "ErrorCode": refused[0],
                    "ErrorMessage": refused[1],
                }
            )
            continue
        ticket = await state.effective(
            item["IdempotencyKey"], accepter(state, bank_batch_no, item, now)
        )
        wait = max(0.0, state.tickets[ticket].ready_at - now) if ticket in state.tickets else 0.0
        answers.append(
            {
                "SeqNo": item["SeqNo"],
                "Ticket": ticket,
                "ItemStatus": "ACCEPTED",
                "PollAfterSeconds": round(wait, 3),
            }
        )
    return web.json_response(
        {
            "BatchNo": body["BatchNo"],
            "BankBatchNo": bank_batch_no,
            "AcceptedAt": beijing_time(now),
            "ItemCount": len(answers),
            "Items": answers,
        },
        status=202,
    )


async def poll_ticket(request: web.Request) -> web.Response:
    state = request.app[BANK_STATE]
    if not authorized(request):
        return error(401, "AUTH_FAILED", "AppKey无效或已过期")
    ticket = state.tickets.get(request.match_info["ticket"])
    if ticket is None:
        return error(404, "TICKET_NOT_FOUND", "查询流水号不存在")
    return web.json_response(ticket.view(time.time()))


CONTROL_REQUIRED = ("IdempotencyKey", "RequestNo", "Op", "CaseNo", "CourtCode", "JudgeName", "JudgeOfficerNo",
                    "RulingNo", "DocumentNo", "SubjectType", "IdType", "IdNo", "Name", "AccountNo")
STATUS_WORDS = {"accepted": "SUCCESS", "partial": "PARTIAL", "refused": "REFUSED"}


def _wire_effect(effect: Effect) -> dict[str, Any]:
    return {
        "Status": STATUS_WORDS[effect.status],
        "ControlNo": effect.reference or "",
        "Amount": "" if effect.amount is None else f"{effect.amount:.2f}",
        "QueueSeq": effect.queue_position,
        "EndDate": f"{effect.until:%Y%m%d}" if effect.until else "",
        "TransferNo": effect.transfer_reference or "",
        "ErrorCode": effect.code or "",
        "ErrorMessage": effect.reason or "",
    }


def apply_control(state: BankSimulatorState, item: Mapping[str, Any]) -> Effect:
    """One control operation on the ledger (run once per idempotency key)."""
    ledger = state.controls
    for name in CONTROL_REQUIRED:
        if not isinstance(item.get(name), str) or not item[name].strip():
            return refused("ITEM_FIELD_MISSING", f"缺少必填项：{name}")
    try:
        amount = Decimal(item["Amount"]) if item.get("Amount") else None
        until = _wire_date(item.get("EndDate"))
    except (ArithmeticError, ValueError):
        return refused("FIELD_INVALID", "金额或日期格式错误")
    if amount is not None and (not amount.is_finite() or amount <= 0):
        return refused("AMOUNT_INVALID", "金额应大于零")
    op = item["Op"]
    if op == "FREEZE":
        kind = "person" if item["SubjectType"] == SUBJECT_TYPES["person"][0] else "organization"
        account = ledger_account(ledger, kind, item["IdNo"], item["AccountNo"])
        if account is None:
            return refused("ACCOUNT_NOT_FOUND", "该主体名下无此账户或账户已销户")
        return ledger.freeze(account, f"{item['CourtCode']}人民法院", amount, until)
    if op == "RENEW":
        return ledger.renew(str(item.get("ControlNo") or ""), until)
    if op == "UNFREEZE":
        return ledger.release(str(item.get("ControlNo") or ""))
    if op == "DEDUCT":
        if amount is None:
            return refused("AMOUNT_INVALID", "扣划须填写金额")
        return ledger.deduct(str(item.get("ControlNo") or ""), amount, str(item.get("FundsAccount") or ""))
    return refused("OP_INVALID", f"不支持的控制类型：{op}")


def control_view(ticket: ControlTicket, now: float) -> dict[str, Any]:
    """What the gateway answers about a control ticket at ``now``: processing, or the answer."""
    head = {"Ticket": ticket.ticket, "RequestNo": str(ticket.item.get("RequestNo") or ""),
            "AcceptedAt": beijing_time(ticket.accepted_at)}
    effect = ticket.effect
    if effect is None:
        return {**head, "Status": PROCESSING, "StatusName": "处理中",
                "PollAfterSeconds": round(max(0.0, ticket.ready_at - now), 3)}
    return {**head, **_wire_effect(effect), "AnsweredAt": beijing_time(effect.answered_at or now)}


async def submit_control(request: web.Request) -> web.Response:
    state = request.app[BANK_STATE]
    if not authorized(request):
        return error(401, "AUTH_FAILED", "AppKey无效或已过期")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "CONTROL_INVALID", "控制报文不是合法的JSON")
    if not isinstance(body, Mapping):
        return error(400, "CONTROL_INVALID", "控制报文应为JSON对象")
    key = body.get("IdempotencyKey")
    if not isinstance(key, str) or not key:
        return error(400, "CONTROL_INVALID", "缺少幂等键（IdempotencyKey）")
    now = time.time()
    state.settle_controls(now)
    known = state.control_keys.get(key)
    if known is None:
        ticket = ControlTicket(new_number("KZ", now), key, dict(body), now, now + state.control_delay())
        state.add_control(ticket)  # processed when due, never in this call: accepted for processing
    else:
        ticket = state.control_tickets[known]
    view = control_view(ticket, now)
    return web.json_response(view, status=202 if view["Status"] == PROCESSING else 200)


async def poll_control(request: web.Request) -> web.Response:
    state = request.app[BANK_STATE]
    if not authorized(request):
        return error(401, "AUTH_FAILED", "AppKey无效或已过期")
    now = time.time()
    state.settle_controls(now)
    ticket = state.control_tickets.get(request.match_info["ticket"])
    if ticket is None:
        return error(404, "TICKET_NOT_FOUND", "控制流水号不存在")
    return web.json_response(control_view(ticket, now))


async def account_view(request: web.Request) -> web.Response:
    request.app[BANK_STATE].settle_controls(time.time())
    held = request.app[BANK_STATE].controls.accounts.get(request.match_info["number"])
    if held is None:
        return error(404, "ACCOUNT_NOT_HELD", "该账户未被采取控制措施")
    return web.json_response({
        "AccountNo": held.number, "Balance": f"{held.balance:.2f}", "Frozen": f"{held.frozen:.2f}",
        "AvailableBalance": f"{held.available:.2f}",
        "Freezes": [{"ControlNo": h.reference, "FreezeOrg": h.authority, "Amount": f"{h.amount:.2f}",
                     "Asked": "" if h.asked is None else f"{h.asked:.2f}", "Active": h.active,
                     "EndDate": f"{h.until:%Y%m%d}" if h.until else ""} for h in held.holds],
    })


async def withdraw(request: web.Request) -> web.Response:
    state = request.app[BANK_STATE]
    body = await request.json()
    state.settle_controls(time.time())
    if not state.controls.withdraw(request.match_info["number"], Decimal(str(body["Amount"]))):
        return error(409, "BALANCE_FROZEN", "取款金额超过未冻结余额")
    return web.json_response({"Status": "SUCCESS"})


async def callback_stats(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[BANK_STATE].callbacks))


def create_simulator(config: SimulatorConfig | None = None) -> web.Application:
    state = BankSimulatorState(config or SimulatorConfig())
    state.apply_control = functools.partial(apply_control, state)
    routes = [
        web.get("/cxkz/v1/Health", health),
        web.post("/cxkz/v1/QueryBatches", submit_batch),
        web.get("/cxkz/v1/Tickets/{ticket}", poll_ticket),
        web.post("/cxkz/v1/Controls", submit_control),
        web.get("/cxkz/v1/ControlTickets/{ticket}", poll_control),
        web.get("/_sim/accounts/{number}", account_view),
        web.post("/_sim/accounts/{number}/withdraw", withdraw),
        web.get("/_sim/callbacks", callback_stats),
    ]
    app = make_simulator_app(state, routes, error_style=bank_error_style)
    app[BANK_STATE] = state
    app.cleanup_ctx.append(callback_context(state))
    return app


__all__ = ["BANK_STATE", "MAX_BATCH", "bank_error_style", "create_simulator", "item_problem"]
