"""The task rules kept in Python (the rest of the task state machine is in SQL, checked by
tests/integration/test_task_queue.py): one outcome per task per flush, and a task past its
deadline ends as expired with its last error."""

from __future__ import annotations

from datetime import UTC, datetime

from enforcement.searches.dispatcher import expired
from enforcement.searches.store.tasks import Settlement, Success, one_outcome_per_task
from tests.unit.searches.fakes import claimed

NOW = datetime(2025, 4, 2, tzinfo=UTC)


def test_an_answer_wins_over_any_other_outcome_of_the_same_task() -> None:
    answered = Success(1, {"a": 1}, NOW, None, [])
    successes, settlements = one_outcome_per_task(
        [answered], [Settlement(1, "retry", delay_seconds=1.0), Settlement(2, "waiting", ticket="T")]
    )
    assert successes == [answered]
    assert [(s.task_id, s.outcome) for s in settlements] == [(2, "waiting")]


def test_the_latest_of_two_outcomes_of_a_task_is_kept() -> None:
    first, later = Success(1, {"n": 1}, NOW, None, []), Success(1, {"n": 2}, NOW, None, [])
    successes, _ = one_outcome_per_task([first, later], [])
    assert successes == [later]
    _, settlements = one_outcome_per_task([], [Settlement(3, "retry"), Settlement(3, "expired")])
    assert [s.outcome for s in settlements] == ["expired"]


def test_an_expired_task_says_why_with_its_last_error() -> None:
    s = expired(claimed(5, "hotels", last_error="timeout"))
    assert (s.task_id, s.outcome, s.error_code) == (5, "expired", "deadline")
    assert s.error_message is not None and "timeout" in s.error_message and "截止期限" in s.error_message
    bare = expired(claimed(6, "hotels"))
    assert bare.error_message is not None and "last error" not in bare.error_message
