"""Identification numbers: normalization and check characters (DOMAIN.md section 3).

Each ``normalize_*`` function takes what a user typed (full-width characters and spaces are
tolerated), returns the canonical form, or raises ``InvalidIdentifier`` naming the rule that
failed; the error carries a masked form only, never the number itself. The ``*_check_char``
helpers and the ``make_*`` generators (for seeds and tests) raise ``ValueError`` on bad
arguments: they are for programmers, not for user input.

Standards: resident ID GB 11643-1999 (ISO 7064 MOD 11-2); unified social credit code
GB 32100-2015 with its organization code GB 11714; VIN GB 16735 / ISO 3779; bank cards ISO/IEC
7812 (Luhn); plates GA 36-2018.
"""

from __future__ import annotations

import operator
import re
from datetime import date
from typing import Literal

from enforcement.domain.errors import InvalidIdentifier
from enforcement.domain.privacy import mask_account, mask_id_number

__all__ = [
    "PLATE_PROVINCES",
    "PROVINCE_CODES",
    "credit_code_check_char",
    "luhn_check_digit",
    "make_bank_card",
    "make_credit_code",
    "make_resident_id",
    "make_vin",
    "normalize_bank_card",
    "normalize_corporate_account",
    "normalize_credit_code",
    "normalize_plate",
    "normalize_resident_id",
    "normalize_vin",
    "org_code_check_char",
    "resident_id_birth_date",
    "resident_id_check_char",
    "resident_id_gender",
    "vin_check_char",
]

DIGITS = "0123456789"
# Full-width ASCII (U+FF01-FF5E) to ASCII, ideographic space to space: what IMEs produce.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPACES = re.compile(r"\s+")
_MAX_SHOWN = 64  # longer inputs are not echoed even masked


def _clean(raw: str, drop: str = "") -> str:
    s = _SPACES.sub("", raw.translate(_HALF_WIDTH))
    for ch in drop:
        s = s.replace(ch, "")
    # ASCII only: str.upper() would turn some non-ASCII letters into ASCII ones ("ſ" -> "S").
    return s.translate(_ASCII_UPPER)


def _fail(kind: str, rule: str, value: str, *, position: int | None = None) -> InvalidIdentifier:
    masker = mask_account if kind in ("bank_card", "corporate_account") else mask_id_number
    shown = masker(value) if len(value) <= _MAX_SHOWN else None
    if shown is not None and not shown.isprintable():
        shown = "".join(c if c.isprintable() else "?" for c in shown)
    return InvalidIdentifier(kind=kind, rule=rule, masked=shown or None, position=position)


def _first_outside(s: str, allowed: str) -> int | None:
    """1-based position of the first character not in ``allowed``."""
    return next((i for i, c in enumerate(s, 1) if c not in allowed), None)


# --- Resident ID (GB 11643-1999) ---------------------------------------------------------------

PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47))]
    + [str(n) for n in (*range(50, 55), *range(61, 66), 71, 81, 82, 83)]
)
_RID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_RID_CHECK = "10X98765432"


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID."""
    if len(first17) != 17 or _first_outside(first17, DIGITS) is not None:
        raise ValueError("expected 17 ASCII digits")
    # map over the 17 digits (checked above) and 17 weights: no Python call per digit (issue 19)
    return _RID_CHECK[sum(map(operator.mul, map(int, first17), _RID_WEIGHTS)) % 11]


def normalize_resident_id(raw: str, *, today: date | None = None) -> str:
    """The 18-character resident ID for ``raw`` (an 18-character or old 15-digit number)."""
    s = _clean(raw)
    if not s:
        raise _fail("resident_id", "empty", s)
    if len(s) not in (15, 18):
        raise _fail("resident_id", "length", s)
    body = s if len(s) == 15 else s[:17]
    bad = _first_outside(body, DIGITS)
    if bad is None and len(s) == 18 and s[17] not in _RID_CHECK:
        bad = 18
    if bad is not None:
        raise _fail("resident_id", "charset", s, position=bad)
    if s[:2] not in PROVINCE_CODES:
        raise _fail("resident_id", "address_code", s)
    birth_text = "19" + s[6:12] if len(s) == 15 else s[6:14]
    try:
        birth = date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:]))
    except ValueError:
        raise _fail("resident_id", "birth_date", s) from None
    if birth.year < 1800:  # the century digits are 18, 19 or 20; GB 11643's own sample is born 1880
        raise _fail("resident_id", "birth_date_too_early", s)
    if birth > (today or date.today()):
        raise _fail("resident_id", "future_birth_date", s)
    if len(s) == 15:
        first17 = s[:6] + "19" + s[6:]
        return first17 + resident_id_check_char(first17)
    if resident_id_check_char(s[:17]) != s[17]:
        raise _fail("resident_id", "check_digit", s)
    return s


def make_resident_id(address_code: str, birth: date, sequence: int) -> str:
    """A valid 18-character resident ID (for seeds and tests). Odd sequence = male."""
    if len(address_code) != 6 or _first_outside(address_code, DIGITS) is not None:
        raise ValueError("address_code must be 6 digits")
    if address_code[:2] not in PROVINCE_CODES:
        raise ValueError("address_code must begin with a province code")
    if birth.year < 1800:
        raise ValueError("birth must be in 1800 or later")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be within 0..999")
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def resident_id_birth_date(id18: str) -> date:
    """The birth date encoded in a resident ID (validated first)."""
    s = normalize_resident_id(id18)
    return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


def resident_id_gender(id18: str) -> Literal["male", "female"]:
    """``male`` when the sequence (characters 15-17) is odd, else ``female``."""
    return "male" if int(normalize_resident_id(id18)[16]) % 2 else "female"


# --- Unified social credit code (GB 32100-2015) and organization code (GB 11714) ---------------

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I, O, S, V, Z
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_CHARSET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31
_ORG_CHARSET = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters."""
    if len(first17) != 17 or _first_outside(first17, CREDIT_CHARSET) is not None:
        raise ValueError("expected 17 characters from the credit code character set")
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character for the first 8 characters of an organization code."""
    if len(first8) != 8 or _first_outside(first8, _ORG_CHARSET) is not None:
        raise ValueError("expected 8 digits or capital letters")
    # Digits count as themselves and letters A=10 .. Z=35: the index in _ORG_CHARSET.
    total = sum(_ORG_CHARSET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalize_credit_code(raw: str, *, allow_checksum_failure: bool = False) -> str:
    """The canonical unified social credit code for ``raw``.

    Both check characters must hold: the code's own (position 18) and the embedded
    organization code's (position 17). ``allow_checksum_failure`` is a supervisor's audited
    allowance for an early pilot code: length and character set are still enforced.
    """
    s = _clean(raw)
    if not s:
        raise _fail("credit_code", "empty", s)
    if len(s) != 18:
        raise _fail("credit_code", "length", s)
    bad = _first_outside(s, CREDIT_CHARSET)
    if bad is not None:
        raise _fail("credit_code", "charset", s, position=bad)
    if allow_checksum_failure:
        return s
    if credit_code_check_char(s[:17]) != s[17]:
        raise _fail("credit_code", "check_digit", s)
    if org_code_check_char(s[8:16]) != s[16]:
        raise _fail("credit_code", "org_code_check", s)
    return s


def make_credit_code(
    reg_authority: str, entity_type: str, region: str, org_code_first8: str
) -> str:
    """A fully valid credit code: the organization code's check, then the code's own check."""
    parts = (reg_authority, entity_type, region, org_code_first8)
    if tuple(map(len, parts)) != (1, 1, 6, 8):
        raise ValueError("expected 1 + 1 + 6 + 8 characters")
    head = "".join(parts).upper()
    if _first_outside(head, CREDIT_CHARSET) is not None:
        raise ValueError("characters must come from 0-9 and A-Z without I, O, S, V, Z")
    first17 = head + org_code_check_char(head[8:])
    return first17 + credit_code_check_char(first17)


# --- VIN (GB 16735 / ISO 3779) -----------------------------------------------------------------

VIN_CHARSET = DIGITS + "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_VIN_VALUE = {str(d): d for d in range(10)} | dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
        strict=True,
    )
)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_char(vin17: str) -> str:
    """The check digit (position 9) for a 17-character VIN; position 9 itself is ignored."""
    if len(vin17) != 17 or _first_outside(vin17[:8] + vin17[9:], VIN_CHARSET) is not None:
        raise ValueError("expected 17 characters from 0-9 and A-Z without I, O, Q")
    # Position 9 has weight 0: whatever stands there does not count.
    total = sum(
        _VIN_VALUE[c] * w
        for i, (c, w) in enumerate(zip(vin17, _VIN_WEIGHTS, strict=True))
        if i != 8
    )
    return "X" if total % 11 == 10 else str(total % 11)


def normalize_vin(raw: str) -> str:
    """The canonical VIN for ``raw``: 17 characters, check digit at position 9."""
    s = _clean(raw)
    if not s:
        raise _fail("vin", "empty", s)
    if len(s) != 17:
        raise _fail("vin", "length", s)
    bad = _first_outside(s, VIN_CHARSET)
    if bad is not None:
        raise _fail("vin", "charset", s, position=bad)
    if vin_check_char(s) != s[8]:
        raise _fail("vin", "vin_check_digit", s)
    return s


def make_vin(wmi3: str, vds5: str, vis8: str) -> str:
    """A valid VIN from its world manufacturer identifier, descriptor and indicator sections."""
    if (len(wmi3), len(vds5), len(vis8)) != (3, 5, 8):
        raise ValueError("expected 3 + 5 + 8 characters")
    head = (wmi3 + vds5).upper()
    tail = vis8.upper()
    if _first_outside(head + tail, VIN_CHARSET) is not None:
        raise ValueError("characters must come from 0-9 and A-Z without I, O, Q")
    return head + vin_check_char(head + "0" + tail) + tail


# --- Bank cards (Luhn) and corporate accounts ---------------------------------------------------


def _luhn_sum(digits: str, *, double_last: bool) -> int:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if (i % 2 == 0) == double_last:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit to append to ``payload`` (the card number without its last digit)."""
    if not payload or _first_outside(payload, DIGITS) is not None:
        raise ValueError("expected ASCII digits")
    return str(-_luhn_sum(payload, double_last=True) % 10)


def normalize_bank_card(raw: str) -> str:
    """The bank card number for ``raw``: 16-19 digits passing the Luhn check."""
    s = _clean(raw, drop="-")
    if not s:
        raise _fail("bank_card", "empty", s)
    bad = _first_outside(s, DIGITS)
    if bad is not None:
        raise _fail("bank_card", "charset", s, position=bad)
    if not 16 <= len(s) <= 19:
        raise _fail("bank_card", "length", s)
    if _luhn_sum(s, double_last=False) % 10:
        raise _fail("bank_card", "luhn", s)
    return s


def make_bank_card(bin6: str, length: int, account_part: str) -> str:
    """A valid card number: issuer BIN, account part of ``length - 7`` digits, Luhn digit."""
    if not 16 <= length <= 19:
        raise ValueError("length must be within 16..19")
    if len(bin6) != 6 or len(account_part) != length - 7:
        raise ValueError("expected a 6-digit BIN and an account part of length - 7 digits")
    payload = bin6 + account_part
    return payload + luhn_check_digit(payload)


def normalize_corporate_account(raw: str) -> str:
    """A corporate bank account number: 8-32 digits (banks publish no common check digit)."""
    s = _clean(raw, drop="-")
    if not s:
        raise _fail("corporate_account", "empty", s)
    bad = _first_outside(s, DIGITS)
    if bad is not None:
        raise _fail("corporate_account", "charset", s, position=bad)
    if not 8 <= len(s) <= 32:
        raise _fail("corporate_account", "length", s)
    return s


# --- Plates (GA 36-2018) ------------------------------------------------------------------------

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_CHARSET = DIGITS + "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
PLATE_SUFFIXES = "学警挂港澳领使"
_PLATE_SEPARATORS = "·•・‧∙⋅.-"


def normalize_plate(raw: str) -> str:
    """The plate number for ``raw``, upper-case, without spaces or the middle dot.

    A province abbreviation, an authority letter (A-Z except I, O), then 5 characters (the last
    may be one of 学警挂港澳领使) or, for a new-energy vehicle, 6 with D or F first or last.
    """
    s = _clean(raw, drop=_PLATE_SEPARATORS)
    if not s:
        raise _fail("plate", "empty", s)
    if len(s) not in (7, 8):
        raise _fail("plate", "length", s)
    if s[0] not in PLATE_PROVINCES:
        raise _fail("plate", "plate_province", s)
    if s[1] not in PLATE_CHARSET or s[1] in DIGITS:
        raise _fail("plate", "plate_authority", s)
    serial = s[2:]
    if len(serial) == 5 and serial[-1] in PLATE_SUFFIXES:
        serial = serial[:-1]
    bad = _first_outside(serial, PLATE_CHARSET)
    if bad is not None:  # also 学警挂港澳领使 anywhere but last of an ordinary plate
        raise _fail("plate", "charset", s, position=bad + 2)
    if len(serial) == 6 and serial[0] not in "DF" and serial[-1] not in "DF":
        raise _fail("plate", "plate_format", s)
    return s
