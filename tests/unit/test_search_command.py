"""``enforcement search`` prints each dossier section under its Chinese and English name."""

from __future__ import annotations

from enforcement.commands.search import _summary, totals_line


def test_a_securities_section_is_named_in_both_languages() -> None:
    line = totals_line("securities_holding", {"count": 2, "market_value": "458200.50"})
    assert line.startswith("证券账户与持有证券 / Securities accounts and holdings (securities_holding): ")
    assert '"market_value": "458200.50"' in line
    assert totals_line("vessel", {"count": 1}).startswith("vessel / vessel (vessel)")  # a plug-in's own kind


def test_an_agencys_answer_is_summed_up_by_section_name() -> None:
    prov = [{"agency": "securities"}]
    view = {"dossier": {"sections": {"securities_holding": [{"is_new": True, "provenance": prov},
                                                            {"is_new": False, "provenance": prov}]}}}
    assert _summary(view, "securities") == "证券账户与持有证券×2（新增1）"
    assert _summary(view, "banks") == "查无信息"
