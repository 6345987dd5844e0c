"""Labels for the asset records, in Chinese and English: each record kind's name, its fields'
headings, and the codes agencies answer with (vehicle status letters, plate types, account and
document types). Pure data, read by the command line (and meant for every screen: the workbench
keeps its own copy in ``web/js`` until one shared place serves both).

``field_label`` never returns a raw key for a field listed here; a field a plug-in connector adds
falls back to its key with underscores as spaces.
"""

from __future__ import annotations

from typing import Any

Pair = tuple[str, str]  # (zh, en)

KIND_LABELS: dict[str, Pair] = {
    "bank_account": ("银行账户", "Bank accounts"),
    "vehicle": ("机动车", "Vehicles"),
    "travel_document": ("出入境证件", "Travel documents"),
    "border_crossing": ("出入境记录", "Border crossings"),
    "exit_restriction": ("限制出境", "Exit restriction"),
    "employment": ("参保单位", "Employment"),
    "pension": ("养老金", "Pension"),
    "hotel_stay": ("住宿记录", "Hotel stays"),
    "real_estate": ("不动产", "Real estate"),
}

# Per kind, the fields shown, in order, with their headings. Fields not listed are not shown in a table.
FIELD_LABELS: dict[str, dict[str, Pair]] = {
    "bank_account": {
        "bank_name": ("开户行", "Bank"), "branch": ("网点", "Branch"), "account_number": ("账号", "Account number"),
        "account_type": ("类型", "Type"), "currency": ("币种", "Currency"), "balance": ("余额", "Balance"),
        "available_balance": ("可用余额", "Available"), "status": ("状态", "Status"),
        "freezes": ("已有冻结", "Existing freezes"),
    },
    "vehicle": {
        "plate_number": ("号牌", "Plate"), "plate_type": ("号牌种类", "Plate type"),
        "make_model": ("品牌型号", "Make and model"), "vin": ("车辆识别代号", "VIN"),
        "engine_number": ("发动机号", "Engine number"), "colour": ("颜色", "Colour"), "use": ("使用性质", "Use"),
        "first_registered_on": ("初次登记", "First registered"), "status_codes": ("机动车状态", "Status"),
        "mortgaged": ("抵押", "Mortgaged"), "seizure_count": ("已查封次数", "Seizures"),
    },
    "travel_document": {
        "document_type": ("证件类型", "Document"), "document_number": ("证件号码", "Number"),
        "issued_on": ("签发日期", "Issued"), "expires_on": ("有效期至", "Expires"), "status": ("状态", "Status"),
    },
    "border_crossing": {
        "crossed_at": ("时间", "When"), "direction": ("出/入境", "Direction"), "port": ("口岸", "Port"),
        "destination": ("前往/来自", "Destination"), "document_number": ("证件号码", "Document"),
    },
    "exit_restriction": {
        "in_force": ("限制出境", "Exit restriction"), "authority": ("决定机关", "Authority"),
        "since": ("起始日期", "Since"),
    },
    "employment": {
        "employer_name": ("参保单位", "Employer"), "employer_credit_code": ("统一社会信用代码", "Credit code"),
        "insurance_types": ("险种", "Insurance"), "contribution_base": ("缴费基数", "Contribution base"),
        "status": ("参保状态", "Status"), "last_paid_month": ("最近缴费月", "Last paid month"),
    },
    "pension": {
        "paying_agency": ("发放机构", "Paying agency"), "monthly_amount": ("月领取额", "Monthly amount"),
        "since": ("起始日期", "Since"),
    },
    "hotel_stay": {
        "hotel_name": ("旅馆", "Hotel"), "star_rating": ("星级", "Stars"), "address": ("地址", "Address"),
        "checked_in_at": ("入住", "Check-in"), "checked_out_at": ("离店", "Check-out"), "room": ("房号", "Room"),
    },
    "real_estate": {
        "unit_number": ("不动产单元号", "Unit number"), "certificate_number": ("权证号", "Certificate"),
        "property_type": ("类型", "Type"), "address": ("坐落", "Address"), "area_sqm": ("面积(㎡)", "Area (m²)"),
        "use": ("用途", "Use"), "right_type": ("权利类型", "Right"), "ownership": ("共有情况", "Ownership"),
        "share": ("份额", "Share"), "registered_on": ("登记日期", "Registered"), "mortgaged": ("抵押", "Mortgaged"),
        "mortgage_amount": ("抵押金额", "Mortgage amount"), "seized": ("查封", "Seized"),
        "seizure_count": ("已查封次数", "Seizures"),
    },
}

# Codes an agency answers with, and what they mean.
VALUE_LABELS: dict[str, dict[str, Pair]] = {
    "status_codes": {
        "A": ("正常", "normal"), "B": ("转出", "transferred out"), "C": ("被盗抢", "stolen"),
        "D": ("停驶", "off the road"), "E": ("注销", "deregistered"), "G": ("违法未处理", "unsettled violations"),
        "H": ("海关监管", "customs control"), "I": ("事故未处理", "unsettled accident"), "J": ("嫌疑车", "suspect"),
        "K": ("查封", "sealed"), "L": ("暂扣", "detained"), "M": ("强制注销", "forcibly deregistered"),
        "N": ("事故逃逸", "hit and run"), "O": ("锁定", "locked"), "P": ("达到报废标准", "due for scrapping"),
        "Q": ("逾期未检验", "inspection overdue"),
    },
    "plate_type": {
        "01": ("大型汽车", "large vehicle"), "02": ("小型汽车", "small vehicle"), "03": ("使馆汽车", "embassy"),
        "05": ("境外汽车", "foreign"), "07": ("摩托车", "motorcycle"), "13": ("低速车", "low-speed"),
        "15": ("挂车", "trailer"), "16": ("教练汽车", "driving school"), "23": ("警用汽车", "police"),
        "51": ("新能源大型车", "new-energy large"), "52": ("新能源小型车", "new-energy small"),
    },
    "account_type": {
        "current": ("活期", "current"), "fixed": ("定期", "fixed"), "card": ("银行卡", "card"),
        "wealth": ("理财产品", "wealth product"),
    },
    "document_type": {
        "passport": ("护照", "passport"), "hk_macao_permit": ("往来港澳通行证", "HK/Macao permit"),
        "taiwan_permit": ("往来台湾通行证", "Taiwan permit"),
    },
    "direction": {"exit": ("出境", "exit"), "entry": ("入境", "entry")},
    "property_type": {"parcel": ("宗地", "land parcel"), "building": ("房屋", "building")},
}

YES_NO: dict[bool, Pair] = {True: ("是", "yes"), False: ("否", "no")}


def _pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def kind_label(kind: str, lang: str = "zh") -> str:
    pair = KIND_LABELS.get(kind)
    return _pick(pair, lang) if pair else kind.replace("_", " ")


def fields_of(kind: str, data: dict[str, Any] | None = None) -> list[str]:
    """The fields of ``kind`` a table shows, in order (a plug-in's unknown kind: its data's keys)."""
    known = FIELD_LABELS.get(kind)
    if known is not None:
        return list(known)
    return list(data or {})


def field_label(kind: str, name: str, lang: str = "zh") -> str:
    pair = FIELD_LABELS.get(kind, {}).get(name)
    return _pick(pair, lang) if pair else name.replace("_", " ")


def value_label(name: str, value: Any, lang: str = "zh") -> str:
    """A coded or boolean value in words; anything else as text ('—' for none)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _pick(YES_NO[value], lang)
    codes = VALUE_LABELS.get(name)
    if codes is not None:
        if name == "status_codes":
            return "、".join(_pick(codes[c], lang) if c in codes else c for c in str(value))
        pair = codes.get(str(value))
        return _pick(pair, lang) if pair else str(value)
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) if value and not isinstance(value[0], dict) else str(len(value))
    return str(value)


__all__ = ["FIELD_LABELS", "KIND_LABELS", "VALUE_LABELS", "field_label", "fields_of", "kind_label", "value_label"]
