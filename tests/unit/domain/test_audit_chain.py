"""The audit chain, pure: sealing, canonical form, and verification naming the first broken record."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enforcement.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    canonical,
    canonical_halves,
    chain_hash,
    check_details,
    format_time,
    record_mac,
    seal,
    seal_signed,
    verify_chain,
)

KEY = b"k" * 32
T0 = datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)


def entry(i: int) -> AuditEntry:
    return AuditEntry(action="search" if i % 2 else "dossier_read", actor_login="zhangwei", actor_role="judge",
                      actor_court="辽0102", case_id=i, case_number=f"（2026）辽0102执{i}号", case_court="辽0102",
                      subject_key="person:210102197805141357", purpose="财产调查", request_id=f"r{i}",
                      details={"agencies": ["banks", "vehicles"], "n": i})


def chain(n: int, key: bytes = KEY) -> list[AuditRecord]:
    out: list[AuditRecord] = []
    seq, prev = 0, GENESIS_HASH
    for i in range(1, n + 1):
        rec = seal(key, seq, prev, T0 + timedelta(seconds=i), entry(i))
        out.append(rec)
        seq, prev = rec.seq, rec.hash
    return out


def head(records: list[AuditRecord]) -> tuple[int, str]:
    return (records[-1].seq, records[-1].hash) if records else (0, GENESIS_HASH)


def test_an_intact_chain_verifies() -> None:
    records = chain(10)
    result = verify_chain(KEY, records, head=head(records))
    assert result.ok and result.checked == 10 and result.last_seq == 10
    assert [r.seq for r in records] == list(range(1, 11))
    assert records[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))


def test_an_empty_chain_verifies_against_the_genesis_head() -> None:
    assert verify_chain(KEY, [], head=(0, GENESIS_HASH)).ok


def test_the_canonical_form_is_stable_and_covers_every_field() -> None:
    e = entry(3)
    text = canonical(3, T0, e)
    assert text == canonical(3, T0.astimezone(timezone(timedelta(hours=8))), e)  # same instant, any zone
    assert '"subject_key":"person:210102197805141357"' in text  # the real subject, not a masked one
    for changed in (replace(e, actor_login="lina"), replace(e, subject_key="person:x"), replace(e, purpose="下落查找"),
                    replace(e, details={"agencies": ["banks"], "n": 3}), replace(e, request_id="other")):
        assert chain_hash(KEY, GENESIS_HASH, 3, T0, changed) != chain_hash(KEY, GENESIS_HASH, 3, T0, e)
    later = T0 + timedelta(microseconds=1)
    assert chain_hash(KEY, GENESIS_HASH, 3, later, e) != chain_hash(KEY, GENESIS_HASH, 3, T0, e)


def test_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        format_time(datetime(2026, 1, 1))


@pytest.mark.parametrize("position", [0, 4, 9])
def test_a_changed_record_is_named(position: int) -> None:
    records = chain(10)
    records[position] = replace(records[position], entry=replace(records[position].entry, actor_login="intruder"))
    result = verify_chain(KEY, records, head=head(records))
    assert not result.ok and result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (position + 1, "content_changed")
    assert result.checked == position


@pytest.mark.parametrize("position", [0, 4])
def test_a_deleted_record_is_named(position: int) -> None:
    records = chain(10)
    del records[position]
    result = verify_chain(KEY, records, head=(10, chain(10)[-1].hash))
    assert result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (position + 2, "record_missing")
    assert str(position + 1) in result.broken.detail


def test_a_deleted_last_record_is_caught_by_the_head() -> None:
    full = chain(10)
    result = verify_chain(KEY, full[:-1], head=head(full))
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (10, "head_mismatch")


def test_an_inserted_record_is_named_even_with_the_chain_renumbered_around_it() -> None:
    """A forger inserts a record after record 4 and renumbers the rest: without the key the forged
    record cannot carry a valid hash, and an unkeyed SHA-256 does not help him."""
    import hashlib

    records = chain(10)
    forged_entry = replace(entry(99), actor_login="ghost")
    forged_hash = hashlib.sha256((records[3].hash + "\n" + canonical(5, T0, forged_entry)).encode()).hexdigest()
    forged = AuditRecord(5, T0, forged_entry, records[3].hash, forged_hash)
    renumbered = [replace(r, seq=r.seq + 1) for r in records[4:]]
    tampered = [*records[:4], forged, *renumbered]
    result = verify_chain(KEY, tampered, head=(11, renumbered[-1].hash))
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (5, "content_changed")


def test_a_record_appended_behind_the_head_is_caught() -> None:
    records = chain(5)
    extra = seal(b"x" * 32, 5, records[-1].hash, T0, entry(6))  # signed with another key
    result = verify_chain(KEY, [*records, extra], head=head(records))
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (6, "content_changed")
    extra_good = seal(KEY, 5, records[-1].hash, T0, entry(6))  # a real append the head does not know of
    result = verify_chain(KEY, [*records, extra_good], head=head(records))
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (6, "head_mismatch")


def test_a_relinked_record_is_named() -> None:
    records = chain(6)
    records[3] = replace(records[3], prev_hash=records[1].hash)
    result = verify_chain(KEY, records, head=head(records))
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (4, "link_broken")


def test_a_duplicated_seq_is_named() -> None:
    records = chain(6)
    result = verify_chain(KEY, [*records[:3], records[2], *records[3:]], head=head(records))
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (3, "duplicate_seq")


def test_another_key_does_not_verify() -> None:
    records = chain(3)
    result = verify_chain(b"y" * 32, records, head=head(records))
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (1, "content_changed")


def test_details_must_round_trip_through_json() -> None:
    check_details({"a": [1, "x", None, True, {"b": []}]})
    with pytest.raises(ValueError, match="float"):
        check_details({"amount": 1.5})
    with pytest.raises(ValueError, match="not a string"):
        check_details({"a": {1: "x"}})


def test_anchors_kept_outside_catch_a_cut_off_tail_and_a_rewritten_record() -> None:
    full = chain(8)
    anchors = {5: full[4].hash, 8: full[7].hash}
    assert verify_chain(KEY, full, head=head(full), anchors=anchors).ok
    cut = full[:6]  # records 7 and 8 gone, head moved back consistently
    assert verify_chain(KEY, cut, head=head(cut)).ok  # the chain alone cannot tell
    result = verify_chain(KEY, cut, head=head(cut), anchors=anchors)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (7, "anchor_missing")
    wrong = {5: "0" * 64}
    result = verify_chain(KEY, full, head=head(full), anchors=wrong)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (5, "anchor_mismatch")


# The chainer encodes a record's canonical form once for both of its HMACs (issue 19, p-chain):
# the halves must give exactly the reference form, whatever the fields hold.
_text = st.one_of(st.none(), st.text(max_size=12))
_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
_details = st.dictionaries(st.text(max_size=6), st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=6), max_size=4)


@settings(max_examples=300, deadline=None)
@given(action=st.text(max_size=10), login=st.text(max_size=10), court=_text,
       case_id=st.one_of(st.none(), st.integers()), number=_text, subject=_text, purpose=_text, reason=_text,
       target=_text, request_id=st.text(max_size=10),
       details=_details, seq=st.integers(min_value=0, max_value=2**62),
       micros=st.integers(min_value=0, max_value=10**12))
def test_the_halves_give_the_canonical_form_and_the_same_hmacs(
        action: str, login: str, court: str | None, case_id: int | None, number: str | None, subject: str | None,
        purpose: str | None, reason: str | None, target: str | None, request_id: str, details: dict[str, object],
        seq: int, micros: int) -> None:
    e = AuditEntry(action=action, actor_login=login, actor_role="judge", actor_court=court, case_id=case_id,
                   case_number=number, case_court=court, subject_key=subject, purpose=purpose, reason=reason,
                   target=target, request_id=request_id, details={**details, "seq": seq})
    at = T0 + timedelta(microseconds=micros)
    head_, tail = canonical_halves(at, e)
    assert head_ + str(seq) + tail == canonical(seq, at, e)
    reference_mac = hmac.new(KEY, ("unchained\n" + canonical(0, at, e)).encode(), hashlib.sha256).hexdigest()
    assert record_mac(KEY, at, e) == reference_mac
    assert seal_signed(KEY, GENESIS_HASH, seq, at, e, reference_mac) == chain_hash(KEY, GENESIS_HASH, seq, at, e)


def test_a_record_without_the_writers_signature_is_not_sealed() -> None:
    e = entry(4)
    mac = record_mac(KEY, T0, e)
    assert seal_signed(KEY, GENESIS_HASH, 1, T0, e, mac) == seal(KEY, 0, GENESIS_HASH, T0, e).hash
    assert seal_signed(KEY, GENESIS_HASH, 1, T0, e, None) is None
    assert seal_signed(KEY, GENESIS_HASH, 1, T0, e, record_mac(b"o" * 32, T0, e)) is None
    assert seal_signed(KEY, GENESIS_HASH, 1, T0, e, record_mac(KEY, T0 + timedelta(microseconds=1), e)) is None
    assert seal_signed(KEY, GENESIS_HASH, 1, T0, replace(e, purpose="下落查找"), mac) is None
