from __future__ import annotations

from datetime import UTC, datetime, timedelta

from enforcement.domain.dossier import Observation, Provenance, merge

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def obs(kind: str, key: str, data: dict, agency: str, answer_id: int, minutes: int = 0, *,
        new: bool = False, reused: bool = False) -> Observation:
    return Observation(kind, key, data, Provenance(agency, answer_id, T0 + timedelta(minutes=minutes), reused), new)


def test_same_asset_from_two_answers_is_one_entry_with_both_provenances_and_latest_data() -> None:
    dossier = merge([
        obs("bank_account", "工行:6222:CNY", {"balance": "100.00", "currency": "CNY"}, "banks", 1, 0, reused=True),
        obs("bank_account", "工行:6222:CNY", {"balance": "250.50", "currency": "CNY"}, "banks", 2, 5),
    ])
    [entry] = dossier.sections["bank_account"]
    assert entry.data["balance"] == "250.50"
    assert [p.answer_id for p in entry.provenance] == [2, 1]
    assert dossier.entry_count == 1


def test_new_flags_and_counts() -> None:
    dossier = merge([
        obs("vehicle", "VIN-A", {"status_codes": "A"}, "vehicles", 1, new=True),
        obs("vehicle", "VIN-B", {"status_codes": "K", "seizure_count": 1}, "vehicles", 1),
        obs("hotel_stay", "H:1", {"star_rating": 4, "checked_in_at": "2026-10-01T12:00:00+00:00"}, "hotels", 2),
    ])
    assert dossier.new_count == 1
    assert {e.natural_key: e.is_new for e in dossier.sections["vehicle"]} == {"VIN-A": True, "VIN-B": False}
    assert dossier.totals["vehicle"]["seized"] == 1
    assert dossier.totals["hotel_stay"]["star_rated"] == 1


def test_bank_totals_per_currency_include_frozen_amounts() -> None:
    dossier = merge([
        obs("bank_account", "a", {"currency": "CNY", "balance": "1000.00", "available_balance": "400.00",
                                  "freezes": [{"amount": "600.00"}]}, "banks", 1),
        obs("bank_account", "b", {"currency": "CNY", "balance": "50.25", "available_balance": "50.25",
                                  "freezes": []}, "banks", 1),
        obs("bank_account", "c", {"currency": "USD", "balance": "10.00", "available_balance": "10.00"}, "banks", 1),
    ])
    totals = dossier.totals["bank_account"]["by_currency"]
    assert totals["CNY"] == {"balance": "1050.25", "available_balance": "450.25", "frozen": "600.00"}
    assert totals["USD"]["balance"] == "10.00"


def test_the_contribution_base_adds_only_the_current_employers() -> None:
    dossier = merge([
        obs("employment", "A", {"employer_name": "现单位", "status": "正常参保", "contribution_base": "8000.00",
                                "last_paid_month": "2026-10"}, "social_insurance", 1),
        obs("employment", "B", {"employer_name": "十年前的单位", "status": "终止", "contribution_base": "3000.00",
                                "last_paid_month": "2016-05"}, "social_insurance", 1),
        obs("employment", "C", {"employer_name": "停缴单位", "status": "暂停缴费", "contribution_base": "5000.00",
                                "last_paid_month": "2024-01"}, "social_insurance", 1),
    ])
    totals = dossier.totals["employment"]
    assert totals["contribution_base"] == "8000.00"
    assert (totals["current_employers"], totals["former_employers"]) == (1, 2)


def test_unknown_kinds_from_plugins_merge_too() -> None:
    dossier = merge([obs("real_estate", "辽(2020)沈阳市不动产权第1号", {"area": "89.5"}, "real_estate", 7)])
    assert dossier.totals["real_estate"] == {"count": 1, "new": 0}
    assert dossier.to_dict()["sections"]["real_estate"][0]["provenance"][0]["agency"] == "real_estate"


def test_empty_dossier() -> None:
    assert merge([]).to_dict() == {"entry_count": 0, "new_count": 0, "sections": {}, "totals": {}}


def test_securities_holdings_merge_by_account_and_code_with_market_value_totals() -> None:
    held = {"market": "SH", "account_number": "A123456789", "security_code": "600519", "quantity": 300,
            "frozen_quantity": 100, "market_value": "457050.00", "valued_on": "2026-01-05"}
    dossier = merge([
        obs("securities_holding", "SH:A123456789:600519", {**held, "market_value": "450000.00",
                                                           "valued_on": "2025-07-04"}, "securities", 1),
        obs("securities_holding", "SH:A123456789:600519", held, "securities", 2, 5),
        obs("securities_holding", "SZ:0012345678:000001", {"market": "SZ", "account_number": "0012345678",
                                                           "frozen_quantity": 0, "market_value": "1150.50",
                                                           "valued_on": "2026-01-05"}, "securities", 2, 5),
    ])
    assert [e.natural_key for e in dossier.sections["securities_holding"]] == ["SH:A123456789:600519",
                                                                               "SZ:0012345678:000001"]
    assert dossier.totals["securities_holding"] == {"count": 2, "new": 0, "market_value": "458200.50",
                                                    "accounts": 2, "frozen": 1, "valued_on": "2026-01-05"}
