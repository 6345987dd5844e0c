"""Masking of personal data for logs, tracebacks and error messages.

Results and subjects are confidential (DOMAIN.md section 6): an identification number, a name
or an account number is never written in clear outside the store. These helpers give the masked
forms; ``redact`` masks a whole log event (a mapping) by key, recursively.

Every mask preserves the length of what it hides (one ``*`` per hidden character) except the
catch-all ``***``. Apart from the customary 18-character ID form (address code and last 4, the
birth date and most of the sequence hidden), no mask shows more than half of a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "REDACTED_KEYS",
    "mask_account",
    "mask_id_number",
    "mask_name",
    "redact",
    "scrub_identifiers",
]

# Keys whose values are identification numbers: masked with mask_id_number.
ID_KEYS: frozenset[str] = frozenset(
    {
        "id_number",
        "subject_id_number",
        "debtor_id_number",
        "applicant_id_number",
        "id_card",
        "id_card_number",
        "passport_no",
        "passport_number",
        "permit_no",
        "permit_number",
        "document_number",
        "travel_document_number",
        "vin",
        "engine_number",
    }
)
# Keys whose values are names of people (or of organizations standing as subjects).
NAME_KEYS: frozenset[str] = frozenset(
    {
        "name",
        "subject_name",
        "debtor_name",
        "applicant_name",
        "person_name",
        "full_name",
        "holder_name",
        "account_name",
        "account_holder",
        "guest_name",
        "party_name",
    }
)
# Keys whose values are account or card numbers: last 4 visible.
ACCOUNT_KEYS: frozenset[str] = frozenset(
    {
        "account_number",
        "account_no",
        "card_number",
        "card_no",
        "bank_account",
        "bank_card",
    }
)
# Other personal data: replaced by a constant "***" (not even the length shows).
OTHER_KEYS: frozenset[str] = frozenset(
    {
        "phone",
        "phone_number",
        "mobile",
        "telephone",
        "email",
        "address",
        "home_address",
        "residence_address",
        "plate_number",
        "plate",
        "birth_date",
        "date_of_birth",
    }
)

REDACTED_KEYS: frozenset[str] = ID_KEYS | NAME_KEYS | ACCOUNT_KEYS | OTHER_KEYS

_MAX_DEPTH = 32


def mask_id_number(s: str) -> str:
    """Mask an identification number.

    An 18-character number keeps its first 6 (the address code) and last 4 characters:
    ``110105********002X``. Any other length keeps at most the first 2 and last 2, never more
    than half of the value; 4 characters or fewer become all ``*``.
    """
    n = len(s)
    if n <= 4:
        return "*" * n
    if n == 18:
        return s[:6] + "*" * 8 + s[-4:]
    keep = min(2, (n - 1) // 4)
    return s[:keep] + "*" * (n - 2 * keep) + s[-keep:]


def mask_name(s: str) -> str:
    """Mask a name: ``张三`` -> ``张*``, ``欧阳娜娜`` -> ``欧***``, ``Zhang San`` -> ``Z***``.

    A name written only in Latin script keeps its first letter followed by ``***`` (its length
    does not show); any other name keeps its first character and one ``*`` per remaining
    character. A one-character name becomes ``*``.
    """
    s = s.strip()
    if not s:
        return ""
    if all(ord(c) < 0x250 for c in s):  # Basic Latin to Latin Extended-B
        return s[0] + "***"
    if len(s) == 1:
        return "*"
    return s[0] + "*" * (len(s) - 1)


def mask_account(s: str) -> str:
    """Mask an account or card number, keeping the last 4 digits (at most half of it) visible."""
    n = len(s)
    if n <= 4:
        return "*" * n
    keep = min(4, n // 2)
    return "*" * (n - keep) + s[-keep:]


def _mask_other(_: str) -> str:
    return "***"


def _masker_for(key: object) -> Callable[[str], str] | None:
    k = str(key).lower()
    if k in ID_KEYS or k.endswith("id_number"):
        return mask_id_number
    if k in NAME_KEYS:
        return mask_name
    if k in ACCOUNT_KEYS or k.endswith(("account_number", "card_number")):
        return mask_account
    if k in OTHER_KEYS or k.endswith("phone"):
        return _mask_other
    return None


def redact(mapping: Mapping[str, object]) -> dict[str, object]:
    """A copy of ``mapping`` with the values of sensitive keys masked, recursively.

    Keys are matched case-insensitively against ``REDACTED_KEYS`` (and a few suffixes such as
    ``*_id_number``). Nested mappings, lists and tuples are walked; an object with a
    ``masked()`` method (a ``Subject``) is replaced by what that method returns. The input is
    not modified.
    """
    return _redact_mapping(mapping, 0)


def _redact_mapping(mapping: Mapping[Any, object], depth: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in mapping.items():
        masker = _masker_for(key)
        if masker is None:
            out[key] = _walk(value, depth + 1)
        else:
            out[key] = _mask_value(value, masker, depth + 1)
    return out


def _walk(value: object, depth: int) -> object:
    if depth > _MAX_DEPTH:
        return "***"
    if isinstance(value, Mapping):
        return _redact_mapping(value, depth)
    if isinstance(value, list | tuple):
        walked = [_walk(v, depth + 1) for v in value]
        return tuple(walked) if isinstance(value, tuple) else walked
    masked = getattr(value, "masked", None)
    if callable(masked) and not isinstance(value, type):
        result: object = masked()
        return result
    return value


def _mask_value(value: object, masker: Callable[[str], str], depth: int) -> object:
    if value is None:
        return None
    if depth > _MAX_DEPTH:
        return "***"
    if isinstance(value, str):
        return masker(value)
    if isinstance(value, bool | int | float):
        return masker(str(value))
    if isinstance(value, Mapping):
        return {k: _mask_value(v, masker, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v, masker, depth + 1) for v in value]
    return "***"


# An 18-character resident ID or unified social credit code (two characters, six digits of
# address or region code, ten more), or an old 15-digit resident ID, standing alone in a text.
_ID_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}[0-9A-HJ-NPQRTUWXYx]|[0-9]{15})"
    r"(?![0-9A-Za-z])"
)


def scrub_identifiers(text: str) -> str:
    """Mask every identification number found in free text (an exception message, a database
    error's detail): the net under ``redact``, which masks by key. Names cannot be found this way;
    they must never reach a message in the first place."""
    return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)
