"""Which metric names a PromQL expression reads, and which names the service exports.

Not a PromQL parser: strings, label matchers, ranges, grouping clauses and template variables
are blanked out, then every identifier not followed by ``(`` and not a keyword is a metric.
"""

from __future__ import annotations

import re

from enforcement.kernel import metrics

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
            "group_right", "inf", "nan", "atan2"}
# Series Prometheus makes itself for every target.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
             "scrape_series_added"}

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_OFFSET = re.compile(r"\boffset\s+-?\w+")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:[smhdwy]|ms)?\b", re.IGNORECASE)
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()(?![a-zA-Z0-9_:])")


def metric_names(expr: str) -> set[str]:
    text = _STRING.sub(" ", expr)
    text = _VARIABLE.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    return {name for name in _IDENT.findall(text) if name.lower() not in KEYWORDS}


_LABEL_MATCH = r'\b{label}\s*(=~|=)\s*"((?:\\.|[^"\\])*)"'


def label_values(expr: str, label: str) -> set[str]:
    """The values an expression selects for ``label`` (``label="a"``, ``label=~"a|b"``);
    template variables (``$court``) are left out."""
    values: set[str] = set()
    for op, value in re.findall(_LABEL_MATCH.format(label=re.escape(label)), expr):
        for one in value.split("|") if op == "=~" else [value]:
            if one and "$" not in one:
                values.add(one)
    return values


def exported_names() -> set[str]:
    """Every series name the service's registry can produce, even for families with no children yet."""
    names: set[str] = set()
    for family in metrics.REGISTRY.collect():
        names.update(s.name for s in family.samples)
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type in ("histogram", "summary"):
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


def unknown_names(expr: str) -> set[str]:
    return metric_names(expr) - exported_names() - SYNTHETIC


__all__ = ["exported_names", "label_values", "metric_names", "unknown_names"]
