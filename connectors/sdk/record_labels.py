"""What a person reads for a record kind and its fields, in Chinese and English: the one source the
workbench (served by ``GET /api/v1/record-kinds``) and the command line both read.

The words live in the record kind's JSON Schema itself (``schemas/records/<kind>.schema.json``,
or the connector package's own for a plug-in), as annotations a validator ignores:

- ``"x-label": {"zh": ..., "en": ...}`` on the schema (the kind) and on every property;
- ``"x-values": {code: {"zh": ..., "en": ...}}`` on a property whose values are codes;
- ``"x-format"``: ``money``, ``date``, ``datetime`` or ``area``, how to show the value, or
  ``letters``: the value is a string of one-letter codes, each read through ``x-values``
  (a vehicle's status ``KQ``: 查封、逾期未检验).

So a new kind, built in or plugged in, brings its words with it (``kind_labels(kind)`` finds the
package of a registered connector that produces the kind by itself), and
``missing_labels(schema)`` (a test runs it over every kind of every registered connector, and the
conformance kit can) names any field a person would otherwise see as a raw key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from connectors.sdk.record_schemas import find_record_schema

LANGS = ("zh", "en")
FORMATS = frozenset({"money", "date", "datetime", "area", "letters"})
YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No")}


@dataclass(frozen=True)
class FieldLabels:
    name: str
    zh: str
    en: str
    format: str = ""
    values: Mapping[str, Mapping[str, str]] | None = None
    fields: tuple[FieldLabels, ...] = ()  # an array of objects: its items' fields

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": {"zh": self.zh, "en": self.en}}
        if self.format:
            out["format"] = self.format
        if self.values:
            out["values"] = {code: dict(words) for code, words in self.values.items()}
        if self.fields:
            out["fields"] = [f.to_dict() for f in self.fields]
        return out


@dataclass(frozen=True)
class KindLabels:
    kind: str
    zh: str
    en: str
    fields: tuple[FieldLabels, ...]

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def field(self, name: str) -> FieldLabels | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": {"zh": self.zh, "en": self.en},
                "fields": [f.to_dict() for f in self.fields]}

    @classmethod
    def from_schema(cls, kind: str, schema: Mapping[str, Any]) -> KindLabels:
        words = _words(schema.get("x-label"))
        return cls(kind=kind, zh=words.get("zh") or kind, en=words.get("en") or kind,
                   fields=_fields(schema))


def _words(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {lang: value[lang] for lang in LANGS if isinstance(value.get(lang), str) and value[lang].strip()}


def _fields(schema: Mapping[str, Any]) -> tuple[FieldLabels, ...]:
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        words = _words(prop.get("x-label"))
        values = prop.get("x-values") if isinstance(prop.get("x-values"), Mapping) else None
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        out.append(FieldLabels(
            name=name, zh=words.get("zh") or name, en=words.get("en") or name,
            format=prop.get("x-format", "") if prop.get("x-format") in FORMATS else "",
            values={code: _words(w) for code, w in values.items()} if values else None,
            fields=_fields(items) if items.get("properties") else (),
        ))
    return tuple(out)


def missing_labels(schema: Mapping[str, Any], where: str = "") -> list[str]:
    """Every place of ``schema`` a person would see as a raw key: the kind, a property, an item's
    property, or a coded value (``enum``) without words in both languages."""
    missing = [f"{where or '(kind)'}: x-label.{lang}" for lang in LANGS
               if lang not in _words(schema.get("x-label"))] if not where else []
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{where}.{name}" if where else name
        words = _words(prop.get("x-label"))
        missing += [f"{path}: x-label.{lang}" for lang in LANGS if lang not in words]
        fmt = prop.get("x-format")
        if fmt is not None and fmt not in FORMATS:
            missing.append(f"{path}: x-format {fmt!r} (one of {sorted(FORMATS)})")
        codes = [c for c in prop.get("enum") or [] if isinstance(c, str)]
        labelled = prop.get("x-values") or {}
        for code in codes:
            missing += [f"{path}: x-values.{code}.{lang}" for lang in LANGS
                        if lang not in _words(labelled.get(code))]
        items = prop.get("items")
        if isinstance(items, Mapping) and items.get("properties"):
            missing += missing_labels(items, path)
    return missing


@cache
def _packages() -> dict[str, str]:
    """Record kind -> the package of the first registered connector producing it."""
    from connectors.sdk.registry import Registry  # the connectors load only when asked

    out: dict[str, str] = {}
    for spec in Registry.discover().values():
        for kind in spec.manifest.record_kinds:
            out.setdefault(kind, spec.manifest.package)
    return out


@cache
def kind_labels(kind: str, package: str = "") -> KindLabels:
    """The words of ``kind`` (its schema in ``package`` first, then the project's); without a
    package, that of a registered connector producing the kind (a plug-in's own schema). A kind
    with no schema at all gets its raw names, which ``missing_labels`` reports."""
    found = find_record_schema(kind, package or _packages().get(kind, ""))
    return KindLabels.from_schema(kind, found[0] if found else {})


def kind_name(kind: str, lang: str = "zh") -> str:
    """The kind's name as a person reads it (``不动产``, ``Real estate``)."""
    return kind_labels(kind).label(lang)


def display_value(field: FieldLabels | None, value: Any, lang: str = "zh") -> str:
    """A record's value as a person reads it: 是/否 (Yes/No) for booleans, a code's words, ¥ with
    separators for money, m² for an area, ``—`` for nothing. Times are the caller's to convert
    (Beijing time) when ``field.format == "datetime"``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        yes, no = YES_NO["en" if lang == "en" else "zh"]
        return yes if value else no
    if field is not None and field.values and str(value) in field.values:
        words = field.values[str(value)]
        return words.get(lang) or words.get("zh") or str(value)
    if field is not None and field.format == "letters" and isinstance(value, str) and field.values:
        return _joined([display_value(field, letter, lang) for letter in value], lang)
    if isinstance(value, Mapping):  # an item of an array of objects: its fields' words
        return " · ".join(f"{f.label(lang)} {display_value(f, value.get(f.name), lang)}"
                          for f in (field.fields if field is not None else ()))
    if field is not None and field.format in ("money", "area"):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        text = f"{amount:,.2f}"
        return f"¥{text}" if field.format == "money" else f"{text} m²"
    if isinstance(value, list):
        return _joined([display_value(field, v, lang) for v in value], lang) or "—"
    return str(value)


def _joined(parts: list[str], lang: str) -> str:
    return (", " if lang == "en" else "、").join(parts)


__all__ = ["FORMATS", "FieldLabels", "KindLabels", "display_value", "kind_labels", "kind_name", "missing_labels"]
