"""Identification numbers: the standards' own samples, every rule, and the checksums' power.

Every valid sample below was verified by hand (the sums are in the comments) and again by an
independent formulation of the algorithm written in this file, not imported from the code.
"""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable
from datetime import date

import pytest

from enforcement.domain.errors import DomainError, InvalidIdentifier
from enforcement.domain.identifiers import (
    PLATE_PROVINCES,
    PROVINCE_CODES,
    credit_code_check_char,
    luhn_check_digit,
    make_bank_card,
    make_credit_code,
    make_resident_id,
    make_vin,
    normalize_bank_card,
    normalize_corporate_account,
    normalize_credit_code,
    normalize_plate,
    normalize_resident_id,
    normalize_vin,
    org_code_check_char,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_gender,
    vin_check_char,
)

TODAY = date(2025, 6, 1)
CREDIT_SET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VIN_SET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


# --- independent formulations (not the code under test) -----------------------------------------


def iso7064_mod11_2(digits17: str) -> str:
    """ISO 7064 MOD 11-2 in its recursive (Horner) form, which GB 11643 adopts."""
    p = 0
    for c in digits17:
        p = (p + int(c)) * 2 % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


def gb32100_check(first17: str) -> str:
    """GB 32100 with the weights computed as 3^i mod 31 instead of read from the table."""
    total = sum(CREDIT_SET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    c = 31 - total % 31
    return CREDIT_SET[0 if c == 31 else c]


def luhn_valid(number: str) -> bool:
    """Luhn, written the textbook way: double every second digit from the right."""
    digits = [int(c) for c in number][::-1]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def with_rid_check(first17: str) -> str:
    return first17 + iso7064_mod11_2(first17)


# --- resident ID (GB 11643-1999) ----------------------------------------------------------------


def test_gb11643_appendix_sample() -> None:
    # 11010519491231002X: digits 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2, weights
    # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; products 7 9 0 5 0 20 2 9 24 27 7 18 30 5 0 0 4;
    # S = 167; 167 mod 11 = 2; "10X98765432"[2] = "X".
    assert resident_id_check_char("11010519491231002") == "X"
    assert iso7064_mod11_2("11010519491231002") == "X"
    assert normalize_resident_id("11010519491231002X", today=TODAY) == "11010519491231002X"
    assert resident_id_gender("11010519491231002X") == "female"  # sequence 002: even
    assert resident_id_birth_date("11010519491231002X") == date(1949, 12, 31)


def test_weights_are_powers_of_two_mod_11() -> None:
    assert [2 ** (17 - i) % 11 for i in range(17)] == [
        7,
        9,
        10,
        5,
        8,
        4,
        2,
        1,
        6,
        3,
        7,
        9,
        10,
        5,
        8,
        4,
        2,
    ]


def test_fifteen_digit_number_is_converted() -> None:
    # 110105 491231 002 -> 110105 19491231 002 + check: the appendix sample's first 17 digits.
    assert normalize_resident_id("110105491231002", today=TODAY) == "11010519491231002X"
    assert resident_id_gender("110105491231002") == "female"


def test_gb11643_second_sample_is_valid() -> None:
    # The standard's other sample, 440524188001010014 (born 1880-01-01): its check character is
    # right (S = 4+36+0+25+16+16+2+8+48+0+0+0+10+0+0+4+2 = 171 -> 171 mod 11 = 6 -> "4"). The law
    # asks only for a real date not in the future, so the standard's own sample must pass.
    assert resident_id_check_char("44052418800101001") == "4"
    assert iso7064_mod11_2("44052418800101001") == "4"
    assert normalize_resident_id("440524188001010014", today=TODAY) == "440524188001010014"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "\t11010519491231002X\n",
        "１１０１０５１９４９１２３１００２Ｘ",  # full width, as some IMEs type it
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_resident_id_normalization(raw: str) -> None:
    assert normalize_resident_id(raw, today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1101051949123100", "length"),
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100", "length"),
        ("11010519491231002Y", "charset"),
        ("110105I9491231002X", "charset"),
        ("11010519491231O02X", "charset"),
        ("X1010519491231002X", "charset"),
        ("11010519491231002-", "charset"),
        ("11010549123100X", "charset"),
        ("110105194912310021", "check_digit"),
        ("110105194912310020", "check_digit"),
        ("11010519491231003X", "check_digit"),
        (with_rid_check("99010519491231002"), "address_code"),
        (with_rid_check("10010519491231002"), "address_code"),
        (with_rid_check("72010519491231002"), "address_code"),
        (with_rid_check("00000019491231002"), "address_code"),
        ("990105491231002", "address_code"),
        (with_rid_check("11010519900230001"), "birth_date"),  # 30 February
        (with_rid_check("11010519890229001"), "birth_date"),  # 1989 is not a leap year
        (with_rid_check("11010519491301002"), "birth_date"),  # month 13
        (with_rid_check("11010519491200002"), "birth_date"),  # day 0
        ("110105490230002", "birth_date"),
        (with_rid_check("11010520300101001"), "future_birth_date"),
        (with_rid_check("11010520250602001"), "future_birth_date"),  # tomorrow
        (with_rid_check("11010517991231001"), "birth_date_too_early"),
    ],
)
def test_resident_id_rules(raw: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_resident_id(raw, today=TODAY)
    assert info.value.rule == rule
    assert info.value.code == "invalid_resident_id"
    assert info.value.kind == "resident_id"


def test_resident_id_boundaries_accepted() -> None:
    born_today = with_rid_check("11010520250601001")
    assert normalize_resident_id(born_today, today=TODAY) == born_today
    leap = with_rid_check("11010520000229001")
    assert normalize_resident_id(leap, today=TODAY) == leap
    first = with_rid_check("11010519000101001")
    assert normalize_resident_id(first, today=TODAY) == first
    for province in ("11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71"):
        number = with_rid_check(province + "010519491231002")
        assert normalize_resident_id(number, today=TODAY) == number
    assert sorted(PROVINCE_CODES)[-3:] == ["81", "82", "83"]
    assert len(PROVINCE_CODES) == 5 + 3 + 7 + 6 + 5 + 5 + 4


def test_make_resident_id() -> None:
    number = make_resident_id("110105", date(1949, 12, 31), 2)
    assert number == "11010519491231002X"
    male = make_resident_id("440305", date(1990, 1, 1), 1)
    assert resident_id_gender(male) == "male"
    assert resident_id_birth_date(male) == date(1990, 1, 1)
    assert male[-1] == iso7064_mod11_2(male[:17])


@pytest.mark.parametrize(
    "args",
    [
        ("11010", date(1990, 1, 1), 1),
        ("99010", date(1990, 1, 1), 1),
        ("990105", date(1990, 1, 1), 1),
        ("110105", date(1799, 12, 31), 1),
        ("110105", date(1990, 1, 1), 1000),
        ("110105", date(1990, 1, 1), -1),
    ],
)
def test_make_resident_id_refuses_bad_arguments(args: tuple[str, date, int]) -> None:
    with pytest.raises(ValueError):
        make_resident_id(*args)


@pytest.mark.parametrize(
    "bad", ["", "1101051949123100", "1101051949123100X", "１１０１０５１９４９１２３１００"]
)
def test_resident_id_check_char_refuses_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        resident_id_check_char(bad)


# --- unified social credit code (GB 32100-2015) and organization code (GB 11714) ----------------


def test_credit_code_samples() -> None:
    # 91350100M000100Y43: values 9 1 3 5 0 1 0 0 21 0 0 0 1 0 0 30 4 (M=21, Y=30 in the 31-set);
    # products with 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28: 9 3 27 135 0 26 0 0 420 0 0 0
    # 8 0 0 900 112; sum 1640; 1640 mod 31 = 28; C = 31 - 28 = 3 -> "3".
    # Organization code M000100Y-4: M=22, Y=34 (A=10..Z=35); 66+0+0+0+5+0+0+68 = 139;
    # 139 mod 11 = 7; C = 11 - 7 = 4 -> "4".
    assert credit_code_check_char("91350100M000100Y4") == "3" == gb32100_check("91350100M000100Y4")
    assert org_code_check_char("M000100Y") == "4"
    assert normalize_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    # 91110108551385082Q: values 9 1 1 1 0 1 0 8 5 5 1 3 8 5 0 8 2; products 9 3 9 27 0 26 0 136
    # 100 145 25 39 64 120 0 240 56; sum 999; 999 mod 31 = 7; C = 24 -> "Q" (index 24).
    # Organization code 55138508-2: 15+35+9+30+40+40+0+16 = 185; 185 mod 11 = 9; C = 2.
    assert credit_code_check_char("91110108551385082") == "Q" == gb32100_check("91110108551385082")
    assert org_code_check_char("55138508") == "2"
    assert normalize_credit_code("91110108551385082Q") == "91110108551385082Q"


def test_credit_code_check_edge_values() -> None:
    # Sum 0: C = 31 - 0 = 31, which becomes 0.
    assert credit_code_check_char("0" * 17) == "0" == gb32100_check("0" * 17)
    # Organization code: sum 0 -> C = 11 -> "0";
    # "00000006": 6*2 = 12, 12 mod 11 = 1 -> C = 10 -> "X".
    assert org_code_check_char("00000000") == "0"
    assert org_code_check_char("00000006") == "X"
    assert org_code_check_char("00000005") == "1"  # 10 mod 11 = 10 -> C = 1


@pytest.mark.parametrize(
    "raw",
    ["91350100m000100y43", " 9135 0100 M000 100Y 43 ", "９１３５０１００Ｍ０００１００Ｙ４３"],
)
def test_credit_code_normalization(raw: str) -> None:
    assert normalize_credit_code(raw) == "91350100M000100Y43"


def _with_org_check(first16: str, org_check: str) -> str:
    first17 = first16 + org_check
    return first17 + gb32100_check(first17)


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "empty"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100I000100Y43", "charset"),
        ("91350100O000100Y43", "charset"),
        ("91350100S000100Y43", "charset"),
        ("91350100V000100Y43", "charset"),
        ("91350100Z000100Y43", "charset"),
        ("9135010-M000100Y43", "charset"),
        ("91350100M000100Y44", "check_digit"),
        ("91350100M000100Y4Q", "check_digit"),
        ("91110108551385082R", "check_digit"),
        (_with_org_check("91350100M000100Y", "5"), "org_code_check"),
        (_with_org_check("9111010855138508", "X"), "org_code_check"),
    ],
)
def test_credit_code_rules(raw: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_credit_code(raw)
    assert info.value.rule == rule
    assert info.value.code == "invalid_credit_code"


def test_charset_error_names_the_position() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_credit_code("91350100I000100Y43")
    assert info.value.details["position"] == 9
    assert "position 9" in info.value.message_en
    assert "第9位" in info.value.message_zh


def test_allow_checksum_failure_still_enforces_length_and_charset() -> None:
    bad_check = "91350100M000100Y44"
    bad_org = _with_org_check("91350100M000100Y", "5")
    assert normalize_credit_code(bad_check, allow_checksum_failure=True) == bad_check
    assert normalize_credit_code(bad_org.lower(), allow_checksum_failure=True) == bad_org
    for raw, rule in (("91350100M000100Y4", "length"), ("91350100O000100Y43", "charset")):
        with pytest.raises(InvalidIdentifier) as info:
            normalize_credit_code(raw, allow_checksum_failure=True)
        assert info.value.rule == rule


def test_make_credit_code() -> None:
    assert make_credit_code("9", "1", "350100", "M000100Y") == "91350100M000100Y43"
    assert make_credit_code("9", "1", "110108", "55138508") == "91110108551385082Q"
    assert make_credit_code("9", "1", "110108", "00000006")[16] == "X"
    with pytest.raises(ValueError):
        make_credit_code("9", "1", "35010", "M000100Y")
    with pytest.raises(ValueError):
        make_credit_code("9", "1", "350100", "M000100O")


def test_org_check_alone_misses_substitutions_that_the_overall_check_catches() -> None:
    # "0" (value 0) -> "B" (value 11 in GB 11714) changes the organization sum by a multiple of
    # 11, so the organization check still holds; the GB 32100 mod-31 check does not.
    assert org_code_check_char("MB00100Y") == org_code_check_char("M000100Y") == "4"
    with pytest.raises(InvalidIdentifier) as info:
        normalize_credit_code("91350100MB00100Y43")
    assert info.value.rule == "check_digit"


# --- VIN (GB 16735 / ISO 3779) ------------------------------------------------------------------


def test_vin_samples() -> None:
    # 1M8GDM9AXKP042788: values 1 4 8 7 4 4 9 1 (X) 2 7 0 4 2 7 8 8, weights
    # 8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2: 8+28+48+35+16+12+18+10+0+18+56+0+24+10+28+24+16 = 351;
    # 351 mod 11 = 10 -> "X".
    assert vin_check_char("1M8GDM9AXKP042788") == "X"
    assert normalize_vin("1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"
    assert normalize_vin(" 1m8gdm9axkp042788 ") == "1M8GDM9AXKP042788"
    # 11111111111111111: the sum of the weights, 89; 89 mod 11 = 1 -> "1".
    assert normalize_vin("11111111111111111") == "11111111111111111"
    # Position 9 does not count, whatever stands there.
    assert vin_check_char("1M8GDM9A?KP042788") == vin_check_char("1M8GDM9A0KP042788") == "X"


@pytest.mark.parametrize(
    ("raw", "rule", "position"),
    [
        ("", "empty", None),
        ("1M8GDM9AXKP04278", "length", None),
        ("1M8GDM9AXKP0427888", "length", None),
        ("IM8GDM9AXKP042788", "charset", 1),
        ("1M8GDM9AXKP0427O8", "charset", 16),
        ("1M8GDM9AXKQ042788", "charset", 11),
        ("1M8GDM9A1KP042788", "vin_check_digit", None),
        ("1M8GDM9AAKP042788", "vin_check_digit", None),
        ("1M8GDM9AXKP042789", "vin_check_digit", None),
    ],
)
def test_vin_rules(raw: str, rule: str, position: int | None) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_vin(raw)
    assert info.value.rule == rule
    assert info.value.code == "invalid_vin"
    assert info.value.details.get("position") == position


def test_make_vin() -> None:
    assert make_vin("1M8", "GDM9A", "KP042788") == "1M8GDM9AXKP042788"
    assert make_vin("lsv", "am418", "c2184847") == make_vin("LSV", "AM418", "C2184847")
    with pytest.raises(ValueError):
        make_vin("1M8", "GDM9A", "KP04278")
    with pytest.raises(ValueError):
        make_vin("1M8", "GDM9A", "KP04278Q")


# --- bank cards and corporate accounts ----------------------------------------------------------


def test_luhn_samples() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert normalize_bank_card("4111111111111111") == "4111111111111111"
    assert normalize_bank_card("4111 1111 1111 1111") == "4111111111111111"
    assert normalize_bank_card("4111-1111-1111-1111") == "4111111111111111"
    assert luhn_check_digit("411111111111111") == "1"
    assert luhn_check_digit("7992739871") == "3"  # the classic 79927398713
    card = make_bank_card("622202", 19, "000012345678")
    assert len(card) == 19 and luhn_valid(card)
    assert normalize_bank_card(card) == card


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "empty"),
        ("4111111111111112", "luhn"),
        ("4111111111111121", "luhn"),
        ("411111111111111", "length"),
        ("41111111111111111111", "length"),
        ("4111111111111A11", "charset"),
        ("4111_1111_1111_1111", "charset"),
    ],
)
def test_bank_card_rules(raw: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_bank_card(raw)
    assert info.value.rule == rule
    assert info.value.code == "invalid_bank_card"


def test_make_bank_card_refuses_bad_arguments() -> None:
    for args in (
        ("622202", 15, "00001234"),
        ("62220", 16, "000012345"),
        ("622202", 16, "00001234"),
    ):
        with pytest.raises(ValueError):
            make_bank_card(*args)
    with pytest.raises(ValueError):
        make_bank_card("62220A", 16, "000012345")
    with pytest.raises(ValueError):
        luhn_check_digit("")


def test_corporate_account() -> None:
    assert normalize_corporate_account("1101 0200 0900 0123 456") == "1101020009000123456"
    assert normalize_corporate_account("12345678") == "12345678"
    assert normalize_corporate_account("1" * 32) == "1" * 32
    for raw, rule in (
        ("1234567", "length"),
        ("1" * 33, "length"),
        ("1101A200", "charset"),
        (" ", "empty"),
    ):
        with pytest.raises(InvalidIdentifier) as info:
            normalize_corporate_account(raw)
        assert (info.value.rule, info.value.code) == (rule, "invalid_corporate_account")


# --- plates (GA 36-2018) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("京A12345", "京A12345"),
        ("京a 12345", "京A12345"),
        ("粤B·D12345", "粤BD12345"),  # new energy, small vehicle: D first
        ("沪AD12345", "沪AD12345"),
        ("沪A・F1234X", "沪AF1234X"),
        ("粤B12345D", "粤B12345D"),  # new energy, large vehicle: D last
        ("京A1234学", "京A1234学"),
        ("粤Z1234港", "粤Z1234港"),
        ("京A0001警", "京A0001警"),
        ("苏E8B3C2", "苏E8B3C2"),
        ("京Ａ１２３４５", "京A12345"),
    ],
)
def test_plates_accepted(raw: str, expected: str) -> None:
    assert normalize_plate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "empty"),
        ("京A1234", "length"),
        ("京A1234567", "length"),
        ("京I12345", "plate_authority"),
        ("京O12345", "plate_authority"),
        ("京112345", "plate_authority"),
        ("京京12345", "plate_authority"),
        ("台A12345", "plate_province"),
        ("AA12345", "plate_province"),
        ("京A1234I", "charset"),
        ("京A12O45", "charset"),
        ("京A学1234", "charset"),
        ("京AD1234学", "charset"),
        ("京A123456", "plate_format"),
        ("京AA12345", "plate_format"),
    ],
)
def test_plate_rules(raw: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_plate(raw)
    assert info.value.rule == rule
    assert info.value.code == "invalid_plate"


def test_plate_provinces() -> None:
    assert len(PLATE_PROVINCES) == len(set(PLATE_PROVINCES)) == 31


# --- the checksums' power: any single substitution is caught ------------------------------------
# Resident ID: weights 2^k mod 11 are never 0 mod 11 and two digits differ by 1..9, so a changed
# digit changes S mod 11 (11 is prime); the check map S mod 11 -> "10X98765432" is one-to-one.
# Credit code: weights 3^i mod 31 are never 0 and values differ by 1..30 < 31 (prime): same
# argument. VIN: true only when the transliterated value changes (A, J and 1 all count 1).
# Luhn: the doubling map 0..9 -> 0 2 4 6 8 1 3 5 7 9 is one-to-one, so every digit change shows.


def _rng(seed: int) -> random.Random:
    return random.Random(seed)


def test_resident_id_single_substitutions_always_fail() -> None:
    rng = _rng(11643)
    provinces = sorted(PROVINCE_CODES)
    for _ in range(150):
        address = rng.choice(provinces) + f"{rng.randrange(10000):04d}"
        birth = date.fromordinal(rng.randrange(date(1900, 1, 1).toordinal(), TODAY.toordinal()))
        number = make_resident_id(address, birth, rng.randrange(1000))
        assert normalize_resident_id(number, today=TODAY) == number
        for pos in range(18):
            for char in "0123456789X" if pos == 17 else "0123456789":
                if char == number[pos]:
                    continue
                mutated = number[:pos] + char + number[pos + 1 :]
                assert resident_id_check_char(mutated[:17]) != mutated[17]
                with pytest.raises(InvalidIdentifier):
                    normalize_resident_id(mutated, today=TODAY)


def test_credit_code_single_substitutions_always_fail() -> None:
    rng = _rng(32100)
    for _ in range(100):
        chars = [rng.choice(CREDIT_SET) for _ in range(16)]
        code = make_credit_code(chars[0], chars[1], "".join(chars[2:8]), "".join(chars[8:]))
        assert normalize_credit_code(code) == code
        for pos in range(18):
            for char in CREDIT_SET:
                if char == code[pos]:
                    continue
                mutated = code[:pos] + char + code[pos + 1 :]
                assert credit_code_check_char(mutated[:17]) != mutated[17]
                with pytest.raises(InvalidIdentifier) as info:
                    normalize_credit_code(mutated)
                assert info.value.rule in {"check_digit", "org_code_check"}


# GB 16735 transliteration table, typed in from the standard.
VIN_VALUES = {
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
} | {str(d): d for d in range(10)}  # fmt: skip


def test_vin_single_substitutions_fail_when_the_value_changes() -> None:
    rng = _rng(16735)
    for _ in range(150):
        vin = make_vin(*("".join(rng.choice(VIN_SET) for _ in range(n)) for n in (3, 5, 8)))
        assert normalize_vin(vin) == vin
        for pos in range(17):
            for char in "0123456789X" if pos == 8 else VIN_SET:
                if char == vin[pos] or (pos != 8 and VIN_VALUES[char] == VIN_VALUES[vin[pos]]):
                    continue
                mutated = vin[:pos] + char + vin[pos + 1 :]
                with pytest.raises(InvalidIdentifier) as info:
                    normalize_vin(mutated)
                assert info.value.rule == "vin_check_digit"


def test_vin_transliteration_collisions_are_not_detected() -> None:
    # The documented limit: A, J and 1 share the value 1, so swapping them keeps the check.
    assert vin_check_char("1M8GDM9JXKP042788") == vin_check_char("1M8GDM9AXKP042788") == "X"
    assert normalize_vin("1M8GDM9JXKP042788") == "1M8GDM9JXKP042788"


def test_bank_card_single_digit_substitutions_always_fail() -> None:
    rng = _rng(7812)
    for _ in range(200):
        length = rng.randrange(16, 20)
        account = "".join(rng.choice("0123456789") for _ in range(length - 7))
        card = make_bank_card(f"{rng.randrange(100000, 1000000)}", length, account)
        assert luhn_valid(card) and normalize_bank_card(card) == card
        for pos in range(length):
            for char in "0123456789":
                if char == card[pos]:
                    continue
                mutated = card[:pos] + char + card[pos + 1 :]
                assert not luhn_valid(mutated)
                with pytest.raises(InvalidIdentifier) as info:
                    normalize_bank_card(mutated)
                assert info.value.rule == "luhn"


# --- errors: the rule, both languages, never the number -----------------------------------------

REFUSED: list[tuple[Callable[[str], str], str]] = [
    (lambda s: normalize_resident_id(s, today=TODAY), "110105194912310021"),
    (lambda s: normalize_resident_id(s, today=TODAY), "11010519491231002"),
    (lambda s: normalize_resident_id(s, today=TODAY), with_rid_check("11010519900230001")),
    (lambda s: normalize_resident_id(s, today=TODAY), "110105490230002"),
    (normalize_credit_code, "91350100M000100Y44"),
    (normalize_credit_code, _with_org_check("91350100M000100Y", "5")),
    (normalize_credit_code, "91350100O000100Y43"),
    (normalize_vin, "1M8GDM9A1KP042788"),
    (normalize_bank_card, "4111111111111112"),
    (normalize_bank_card, "411111111111111"),
    (normalize_corporate_account, "1101020009000123456789012345678901"),
    (normalize_plate, "京I12345"),
    (normalize_plate, "京A123456"),
]


@pytest.mark.parametrize(("normalize", "raw"), REFUSED)
def test_errors_never_contain_the_number(normalize: Callable[[str], str], raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize(raw)
    exc = info.value
    texts = [str(exc), repr(exc), exc.message_en, exc.message_zh, repr(exc.details), repr(exc.args)]
    texts.append(repr(exc.to_dict()))
    for text in texts:
        assert raw not in text
        assert raw.upper() not in text
    # Both languages name the rule and the kind of number.
    assert f"[rule: {exc.rule}]" in exc.message_en
    assert f"[规则：{exc.rule}]" in exc.message_zh
    assert exc.message_en.startswith("Invalid ")
    assert "无效" in exc.message_zh


def test_error_messages_name_kind_and_rule() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_resident_id("110105194912310021", today=TODAY)
    exc = info.value
    assert isinstance(exc, DomainError)
    assert exc.message_en == (
        "Invalid resident ID number 110105********0021: the check character does not match "
        "the other characters [rule: check_digit]."
    )
    assert (
        exc.message_zh
        == "居民身份证号码（110105********0021）无效：校验码与其他各位不符。[规则：check_digit]"
    )
    assert str(exc) == exc.message_en
    assert exc.details == {
        "kind": "resident_id",
        "rule": "check_digit",
        "masked": "110105********0021",
    }


def test_very_long_input_is_not_echoed_even_masked() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_vin("A" * 500)
    assert "masked" not in info.value.details
    assert len(info.value.message_en) < 200


def test_control_characters_are_not_echoed() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_vin("\x1b[31m1M8GDM9AXKP0427\x07")
    assert "\x1b" not in info.value.message_en and "\x07" not in info.value.message_en


def test_invalid_identifier_pickles() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_plate("京I12345")
    copy = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own bytes
    assert type(copy) is InvalidIdentifier
    assert (copy.rule, copy.kind, copy.code, str(copy)) == (
        "plate_authority",
        "plate",
        "invalid_plate",
        str(info.value),
    )
    assert copy.message_zh == info.value.message_zh and copy.details == info.value.details
