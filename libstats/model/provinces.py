"""Province reference data: the 2004 and 2025 code lists, names in force, regions, old→new mapping.

A province code is never used alone: a :class:`Province` carries the code list it belongs to, because codes
15, 24, 44, 52, 80, 82 and 91 name different territories in the two lists.
"""

from __future__ import annotations

import csv
import re
import datetime as dt
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "Province",
    "code_list_for_year",
    "provinces_for_year",
    "province",
    "successor_code",
    "size",
    "components",
    "receiving_unit",
    "Sender",
    "defunct_names",
    "sender",
    "name_key",
    "one_spelling",
    "slug",
]


@dataclass(frozen=True, order=True)
class Province:
    code_list: str  # "2004" (63 provinces) or "2025" (34 provinces)
    code: str  # two digits, e.g. "01"
    name: str  # short name in force for the year asked, e.g. "Hà Nội"
    full_name: str  # e.g. "Thành phố Hà Nội"
    region: str

    @property
    def key(self) -> str:
        """Code with its list, e.g. '2025:15' — the only form in which a code is stored."""
        return f"{self.code_list}:{self.code}"


def _data(name: str) -> str:
    return resources.files("libstats.data").joinpath(name).read_text(encoding="utf-8")


@cache
def _years() -> dict:
    return tomllib.loads(_data("years.toml"))


def _applies(entry: dict, year: int) -> bool:
    return entry.get("from", 0) <= year <= entry.get("until", 9999)


def code_list_for_year(year: int) -> str:
    """The code list a report year uses: '2004' up to 2024, '2025' from 2025."""
    for entry in _years()["code_lists"]:
        if _applies(entry, year):
            return entry["id"]
    raise ValueError(f"no province code list is configured for report year {year}")


def receiving_unit(year: int) -> str:
    for entry in _years()["receiving_units"]:
        if _applies(entry, year):
            return entry["name"]
    raise ValueError(f"no receiving unit is configured for report year {year}")


@dataclass(frozen=True)
class Sender:
    """Who signs the report: the department's name, the symbol of its reports, the place on the date line."""

    name: str  # e.g. "Sở Văn hóa và Thể thao"
    symbol: str  # e.g. "BC-SVHTT" (the number before the slash is left for the department's office)
    place: str  # e.g. "Hà Nội" in "Hà Nội, ngày … tháng … năm …"


@cache
def _departments() -> dict:
    return tomllib.loads(_data("departments.toml"))


def _entry_for(entries: list[dict], p: Province, year: int) -> dict:
    for entry in entries:
        if entry["code_list"] == p.code_list and entry["code"] == p.code and _applies(entry, year):
            return entry
    return {}


def sender(p: Province, year: int) -> Sender:
    """The department that sends ``p``'s report for ``year`` (data: departments.toml), default when unknown."""
    data = _departments()
    dept = {**data["default"], **_entry_for(data.get("departments", []), p, year)}
    place = _entry_for(data.get("places", []), p, year).get("place", p.name)
    return Sender(unicodedata.normalize("NFC", dept["name"]), dept["symbol"], unicodedata.normalize("NFC", place))


def defunct_names(year: int) -> tuple[str, ...]:
    """Names of bodies that no longer exist in ``year`` (data: defunct_names.toml); no form of that year may
    mention one."""
    names = tomllib.loads(_data("defunct_names.toml"))["names"]
    return tuple(unicodedata.normalize("NFC", n["name"]) for n in names if n["since"] <= year)


@cache
def _rows(code_list: str) -> tuple[dict, ...]:
    entry = next(e for e in _years()["code_lists"] if e["id"] == code_list)
    rows = csv.DictReader(_data(entry["file"]).splitlines())
    return tuple({k: one_spelling(v or "") for k, v in r.items()} for r in rows)


# The tone mark of a word-final "oa", "oe", "uy" sits on its first vowel in libstats' one spelling style
# ("hóa", "khóa", "Hòa", "thủy"), as in the outline; "quý" keeps it on the y ("qu" is one consonant).
_OLD_STYLE = re.compile(r"(?<![qQ])([oO])([aAeE])([\u0301\u0300\u0309\u0303\u0323])(?![^\W\d_]|[\u0300-\u036f])"
                        r"|(?<![qQ])([uU])([yY])([\u0301\u0300\u0309\u0303\u0323])(?![^\W\d_]|[\u0300-\u036f])")


def one_spelling(text: str) -> str:
    """NFC text with word-final "oá/oà/uý…" written the one way libstats uses: "Hoà Bình" → "Hòa Bình"."""
    decomposed = unicodedata.normalize("NFD", text)
    fixed = _OLD_STYLE.sub(lambda m: "".join((m[1], m[3], m[2])) if m[1] else "".join((m[4], m[6], m[5])),
                           decomposed)
    return unicodedata.normalize("NFC", fixed)


def _row_province(code_list: str, row: dict, year: int) -> Province:
    if code_list == "2004":
        code, name, full, region = row["ma_tinh_cu"], row["ten_ngan"], row["ten_day_du_2024"], row[
            "vung_ktxh_NQ81_2023"]
    else:
        code, name, full, region = row["ma_tinh"], row["ten_ngan"], row["ten_day_du"], row[
            "vung_ktxh(nhom_gan_dung)"]
    year_end = dt.date(year, 12, 31)
    for change in _years().get("name_changes", []):
        if change["code_list"] == code_list and change["code"] == code and change["effective"] <= year_end:
            name, full = change["short"], change["full"]
    return Province(code_list, code, name, full, region)


@cache
def provinces_for_year(year: int) -> tuple[Province, ...]:
    """Every province that reports for ``year``, with the names in force on 31 December of that year."""
    code_list = code_list_for_year(year)
    return tuple(sorted(_row_province(code_list, r, year) for r in _rows(code_list)))


def province(year: int, code: str) -> Province:
    """The province of ``year``'s code list with this code; ValueError if there is none."""
    code = code.strip().zfill(2)
    for p in provinces_for_year(year):
        if p.code == code:
            return p
    raise ValueError(f"mã tỉnh {code!r} không có trong danh mục {code_list_for_year(year)} (năm {year})")


@cache
def _successors() -> dict[str, str]:
    return {r["ma_tinh_cu"]: r["ma_tinh_moi_2025"] for r in _rows("2004")}


def size(p: Province) -> tuple[int, int]:
    """(district-level units, commune-level units) of a province: the scale of its library network.
    The 2025 list has no districts (0)."""
    for r in _rows(p.code_list):
        if p.code_list == "2004" and r["ma_tinh_cu"] == p.code:
            return (int(r["so_don_vi_cap_huyen(vietnamadminunits 1.0.4 legacy)"]),
                    int(r["so_don_vi_cap_xa_truoc_sap_xep(dvhcvn v20250301)"]))
        if p.code_list == "2025" and r["ma_tinh"] == p.code:
            return 0, int(r["tong_cap_xa(CV1027/CTK-CSCL)"])
    raise KeyError(p.key)


def successor_code(old_code: str) -> str:
    """The 2025-list code of the province that a 2004-list province merged into (whole-province mergers)."""
    return _successors()[old_code]


def components(new_code: str) -> tuple[str, ...]:
    """The 2004-list codes whose territory makes up this 2025-list province."""
    return tuple(sorted(old for old, new in _successors().items() if new == new_code))


_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def name_key(text: str) -> str:
    """A matching key that ignores case, spacing and the tone marks, whose placement varies
    ('Hoà Bình' == 'Hòa Bình'), but keeps the letters' own marks (â, ă, ê, ô, ơ, ư, đ)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
    return unicodedata.normalize("NFC", " ".join(bare.replace("-", " ").split()))


def slug(text: str) -> str:
    """ASCII file-name form: 'Bà Rịa - Vũng Tàu' → 'ba-ria-vung-tau'."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if ch.isascii())
    return "-".join("".join(ch if ch.isalnum() else " " for ch in bare).split())
