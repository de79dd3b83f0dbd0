"""Strict coercion of what a person typed into a cell, saying what was done.

Accept what is unambiguous (with a note); refuse what is ambiguous or impossible. Never guess silently:
a number published nationally must be the number the province meant.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .findings import fmt_number

__all__ = ["Coerced", "coerce_count", "coerce_text", "coerce_date", "clean_text", "EXCEL_ERRORS"]

EXCEL_ERRORS = {"#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "Err:502", "Err:504", "Err:508", "Err:522"}
_ODD_SPACES = re.compile("[\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000\t\r]")
_ZERO_WORDS = {"không có", "không", "ko có", "chưa có", "-", "–", "—", "0"}
_NA_WORDS = {"x", "X"}
_NUMBER = re.compile(r"^([+-]?)(\d[\d.,' ]*)\s*(.*)$")


@dataclass(frozen=True)
class Coerced:
    value: object  # int, str, date, or None (empty, not applicable, or refused)
    code: str | None = None  # a finding code (V01…V11) when something was done or refused
    detail: str = ""  # what was typed
    shown: str = ""  # how it was understood, for the message

    @property
    def refused(self) -> bool:
        return self.code in {"V02", "V03", "V04", "V05", "V06", "V10", "V11"}


def clean_text(text: str) -> str:
    """NFC, odd spaces made plain, outer space removed (inner line breaks kept)."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _ODD_SPACES.search(text):
        text = _ODD_SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.strip().split("\n")).strip()


def _parse_digits(body: str) -> tuple[float | None, bool]:
    """Digits with separators → (number, ambiguous). None when the shape is not a number."""
    body = body.replace("'", " ").strip()
    if " " in body:  # "1 234 567": spaces only ever group thousands
        groups = body.split()
        if all(g.isdigit() for g in groups) and all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3:
            return float("".join(groups)), False
        return None, False
    dots, commas = body.count("."), body.count(",")
    if dots == 0 and commas == 0:
        return float(body), False
    if dots and commas:  # both: the last one is the decimal mark ("12.345,5" VN; "12,345.5" EN)
        dec, thou = (",", ".") if body.rfind(",") > body.rfind(".") else (".", ",")
        whole, _, frac = body.rpartition(dec)
        if body.count(dec) != 1 or not _grouped(whole, thou) or not frac.isdigit():
            return None, False
        return float(whole.replace(thou, "") + "." + frac), False
    sep = "." if dots else ","
    parts = body.split(sep)
    if len(parts) > 2:  # "1.234.567": several marks can only group thousands
        return (float("".join(parts)), False) if _grouped(body, sep) else (None, False)
    whole, frac = parts
    if not (whole.isdigit() and frac.isdigit()):
        return None, False
    if len(frac) == 3 and len(whole) <= 3:  # "1.234" / "1,234": a thousands group or a decimal mark
        return float(whole + frac), True
    return float(whole + "." + frac), False


def _grouped(text: str, sep: str) -> bool:
    groups = text.split(sep)
    return groups[0].isdigit() and len(groups[0]) <= 3 and all(g.isdigit() and len(g) == 3 for g in groups[1:])


def coerce_count(raw: object, units: set[str] = frozenset(), maximum: int = 10**9) -> Coerced:
    """A whole count ≥ 0 from a cell value (number, text, bool, or None)."""
    if raw is None:
        return Coerced(None)
    if isinstance(raw, bool):
        return Coerced(None, "V05", str(raw).upper())
    if isinstance(raw, (int, float)):
        return _check_count(float(raw), _fmt_raw(raw), maximum, typed=False)
    text = clean_text(str(raw))
    if text == "":
        return Coerced(None)
    if text in EXCEL_ERRORS or text.startswith("#"):
        return Coerced(None, "V06", text)
    low = text.casefold().rstrip(".")
    if low in _ZERO_WORDS and low != "0":
        return Coerced(0, "V07", text, "0")
    if text in _NA_WORDS:
        return Coerced(None, "V08", text)
    m = _NUMBER.match(text)
    if not m:
        return Coerced(None, "V05", text)
    sign, body, rest = m.groups()
    if rest and rest.casefold() not in {u.casefold() for u in units}:
        return Coerced(None, "V05", text)
    number, ambiguous = _parse_digits(body)
    if number is None:
        return Coerced(None, "V05", text)
    if sign == "-":
        number = -number
    if ambiguous:
        whole, frac = re.split(r"[.,]", body.strip())
        return Coerced(None, "V02", text, f"{whole}{frac} hay {whole},{frac} (số lẻ)")
    return _check_count(number, text, maximum, typed=True)


def _fmt_raw(raw: float) -> str:
    return str(int(raw)) if float(raw).is_integer() else str(raw).replace(".", ",")


def _check_count(number: float, shown: str, maximum: int, typed: bool) -> Coerced:
    if number != number or number in (float("inf"), float("-inf")):
        return Coerced(None, "V05", shown)
    if number < 0:
        return Coerced(None, "V03", shown)
    if not float(number).is_integer():
        return Coerced(None, "V04", shown)
    value = int(number)
    if value > maximum:
        return Coerced(None, "V10", shown, fmt_number(maximum))
    return Coerced(value, "V01", shown, fmt_number(value)) if typed else Coerced(value)


def coerce_text(raw: object, max_chars: int) -> Coerced:
    """Text, NFC-normalised and kept whole; a warning when it passes the length limit."""
    if raw is None:
        return Coerced(None)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = clean_text(str(raw))
    if not text:
        return Coerced(None)
    if max_chars and len(text) > max_chars:
        return Coerced(text, "V09", str(len(text)), fmt_number(max_chars))
    return Coerced(text)


def coerce_date(raw: object, date1904: bool = False) -> Coerced:
    """A date from an Excel serial number or 'dd/mm/yyyy' text."""
    if raw is None or raw == "":
        return Coerced(None)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
        if 0 < raw < 2958466:
            return Coerced(epoch + dt.timedelta(days=int(raw)))
        return Coerced(None, "V11", str(raw))
    text = clean_text(str(raw))
    for pattern, (y, mo, d) in ((r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", (3, 2, 1)),
                                (r"^(\d{4})-(\d{2})-(\d{2})", (1, 2, 3))):
        m = re.match(pattern, text)
        if m:
            try:
                return Coerced(dt.date(int(m[y]), int(m[mo]), int(m[d])))
            except ValueError:
                break
    return Coerced(None, "V11", text)
