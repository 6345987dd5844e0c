"""Submitting a search loads the token's user with the case, in the search's first statement
(issue 19: one round trip less per search; ``api.auth.PendingActor``). Nothing a caller sees may
change: a user deactivated a moment ago is refused at once in the same process, the 401 comes
before anything about the body, the role in the database is authoritative, the API gate still
answers 403, every refusal is audited, and no refusal consumes a 协助查询通知书 number."""

from __future__ import annotations

from typing import Any

from enforcement.api.keys import POOL
from enforcement.seeds import CASES

NUMBER, _, JUDGE, *_ = CASES[0]
DEBTOR = CASES[0][-1][0]
SUBJECT = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}


async def submit(api: Any, token: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, answer = await api.request("POST", "/api/v1/searches", headers=headers,
                                       **({"json": body} if body is not None else kwargs))
    return status, answer


async def serials(api: Any) -> int:
    return int(await api.app[POOL].fetchval("SELECT coalesce(sum(last), 0) FROM document_serial"))


async def refusals(api: Any) -> list[tuple[str, str, str, str | None]]:
    rows = await api.app[POOL].fetch(
        "SELECT actor_login, actor_role, reason, target FROM audit_log WHERE action = 'refusal' ORDER BY id")
    return [(r["actor_login"], r["actor_role"], r["reason"], r["target"]) for r in rows]


async def test_the_user_looked_up_with_the_case_is_refused_as_before(make_api: Any) -> None:
    api = await make_api()
    pool = api.app[POOL]
    case_id = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", NUMBER)
    body = {"case_id": case_id, "subject": SUBJECT}
    token = api.token(JUDGE, "judge")

    status, answer = await submit(api, token, body)
    assert status == 202, answer
    taken = await serials(api)
    assert taken == 1

    # Deactivated: the same token (already verified, remembered) stops working at once.
    await pool.execute("UPDATE app_user SET active = false WHERE login = $1", JUDGE)
    status, answer = await submit(api, token, body)
    assert (status, answer["error"]["code"]) == (401, "unknown_user")
    # ... and the 401 comes first, whatever is wrong with the body.
    status, answer = await submit(api, token, None, data=b"{not json")
    assert (status, answer["error"]["code"]) == (401, "unknown_user")
    status, answer = await submit(api, token, {**body, "purpose": "好奇"})
    assert (status, answer["error"]["code"]) == (401, "unknown_user")
    await pool.execute("UPDATE app_user SET active = true WHERE login = $1", JUDGE)
    status, answer = await submit(api, token, {**body, "force_fresh": True})
    assert status == 202, answer
    assert await serials(api) == taken + 1

    # The role in the database decides: a token claiming another role is refused, takes no number.
    status, answer = await submit(api, api.token(JUDGE, "supervisor"), body)
    assert (status, answer["error"]["code"]) == (401, "role_mismatch")
    status, answer = await submit(api, api.token("nobody", "judge"), {"case_id": "x"})
    assert (status, answer["error"]["code"]) == (401, "unknown_user")
    # The API gate: an ops account may not submit (403, audited with the actor), body or not.
    status, answer = await submit(api, api.token("ops", "ops"), body)
    assert (status, answer["error"]["code"]) == (403, "role_not_allowed")
    status, answer = await submit(api, api.token("ops", "ops"), {"case_id": "x"})
    assert (status, answer["error"]["code"]) == (403, "role_not_allowed")
    # A judge's refusals past the user are unchanged: the body, then the case's rule.
    status, answer = await submit(api, token, None, data=b"{not json")
    assert (status, answer["error"]["code"]) == (400, "malformed_json")
    status, answer = await submit(api, api.token("lina", "judge"), body)
    assert (status, answer["error"]["code"]) == (403, "not_case_judge")
    assert await serials(api) == taken + 1, "a refusal took a notice number"

    target = "POST /api/v1/searches"
    assert await refusals(api) == [
        (JUDGE, "anonymous", "unknown_user", target), (JUDGE, "anonymous", "unknown_user", target),
        (JUDGE, "anonymous", "unknown_user", target), (JUDGE, "anonymous", "role_mismatch", target),
        ("nobody", "anonymous", "unknown_user", target),
        ("ops", "ops", "role_not_allowed", target), ("ops", "ops", "role_not_allowed", target),
        ("lina", "judge", "not_case_judge", target),
    ]
