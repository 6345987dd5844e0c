"""``enforcement search`` sums up each agency's answer by the sections' Chinese names."""

from __future__ import annotations

from enforcement.commands.search import _summary


def test_an_agencys_answer_is_summed_up_by_section_name() -> None:
    prov = [{"agency": "securities"}]
    view = {"dossier": {"sections": {"securities_holding": [{"is_new": True, "provenance": prov},
                                                            {"is_new": False, "provenance": prov}]}}}
    assert _summary(view, "securities") == "证券账户与持有证券×2（新增1）"
    assert _summary(view, "banks") == "查无信息"
