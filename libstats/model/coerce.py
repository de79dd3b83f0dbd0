"""Strict coercion of what a person typed into a cell, saying what was done.

Accept what is unambiguous (with a note); refuse what is ambiguous or impossible. Never guess silently:
a number published nationally must be the number the province meant.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from libstats.model.findings import fmt_number

__all__ = ["Coerced", "coerce_count", "coerce_decimal", "coerce_number", "NUMBER_TYPES", "NOT_COUNTED",
           "is_not_counted", "coerce_text", "coerce_date", "clean_text", "EXCEL_ERRORS"]

EXCEL_ERRORS = {"#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "Err:502", "Err:504", "Err:508", "Err:522"}
_ODD_SPACES = re.compile("[\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000\t\r]")
_ZERO_WORDS = {"không có", "không", "ko có", "chưa có", "-", "–", "—", "0"}
_NA_WORDS = {"x", "X"}
NOT_COUNTED = "x"  # the value of a number cell where the officer typed x: "không thống kê" (blank, never 0)
# Linear: the body is the longest run of ASCII digits and marks, and the rest (re.S) takes everything after it
# with no choice left to backtrack over. Only ASCII 0-9 are digits: Arabic-Indic or full-width digits typed as
# text are not numbers to LibreOffice either.
_NUMBER = re.compile(r"([+-]?)([0-9][0-9.,' ]*)(.*)", re.S)


class Coerced(NamedTuple):  # a named tuple: made for every field of every return, it must be cheap
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
    if "\n" not in text:
        return text.strip()
    return "\n".join(line.strip() for line in text.strip().split("\n")).strip()


def is_not_counted(value: object) -> bool:
    """A number cell the province marked "x" (không thống kê): no figure, and not a zero."""
    return value == NOT_COUNTED


def _grouped(text: str, sep: str) -> bool:
    """Thousands groups: 1-3 digits (never a leading 0: "0.500" and "01.234" group nothing), then groups of 3."""
    groups = text.split(sep)
    return (groups[0].isdigit() and len(groups[0]) <= 3 and not (len(groups) > 1 and groups[0].startswith("0"))
            and all(g.isdigit() and len(g) == 3 for g in groups[1:]))


@dataclass(frozen=True)
class _Reading:
    """How a run of digits and marks can be read: ``value`` when it has one reading, else ``readings``."""

    value: float | None = None
    readings: tuple[str, ...] = ()  # the possible readings, in Vietnamese, when there is more than one
    grouped: bool = False  # read with a thousands mark


def _read_digits(body: str, decimal: bool) -> _Reading | None:
    """Digits with separators, read as a whole count (``decimal`` False) or a decimal figure. None: not a number.

    Marks that group thousands ("1.234.567", "1 234 567") have one reading. Both marks: the last one is the
    decimal mark ("1.234,5" Vietnamese, "1,234.5" English). One mark before exactly three digits ("5.731",
    "1,234") groups thousands in a count (nobody counts 5.731 cards) but is ambiguous in a decimal field.
    One mark before other than three digits ("1,5", "12.5") can only be a decimal mark."""
    body = body.replace("'", " ").strip()
    if " " in body:  # "1 234 567": spaces only ever group thousands
        groups = body.split()
        if all(g.isdigit() for g in groups) and all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3:
            return _Reading(float("".join(groups)), grouped=True)
        return None
    dots, commas = body.count("."), body.count(",")
    if dots == 0 and commas == 0:
        return _Reading(float(body))
    if dots and commas:
        dec, thou = (",", ".") if body.rfind(",") > body.rfind(".") else (".", ",")
        whole, _, frac = body.rpartition(dec)
        if body.count(dec) != 1 or not _grouped(whole, thou) or not frac.isdigit():
            return None  # mixed marks that do not group thousands
        return _Reading(float(whole.replace(thou, "") + "." + frac), grouped=True)
    sep = "." if dots else ","
    parts = body.split(sep)
    if len(parts) > 2:  # "1.234.567": several marks can only group thousands
        return _Reading(float("".join(parts)), grouped=True) if _grouped(body, sep) else None
    whole, frac = parts
    if not (whole.isdigit() and frac.isdigit()):
        return None
    if len(frac) == 3 and len(whole) <= 3:
        if not decimal and not whole.startswith("0"):  # "0.500", "01.234" group no thousands: not a count
            return _Reading(float(whole + frac), grouped=True)
        if not decimal:
            return _Reading(float(whole + "." + frac))
        return _Reading(readings=(f"{fmt_number(int(whole + frac))} (dấu '{sep}' ngăn cách hàng nghìn)",
                                  f"{whole},{frac} (dấu '{sep}' là dấu thập phân)"))
    return _Reading(float(whole + "." + frac))


def _text_number(raw: object, units: set[str], decimal: bool) -> tuple[Coerced | None, str, _Reading | None]:
    """What every number rule shares: empty, booleans, error values, words for 0, "x", the shape, the unit."""
    if raw is None:
        return Coerced(None), "", None
    if isinstance(raw, bool):
        return Coerced(None, "V05", str(raw).upper()), "", None
    text = clean_text(str(raw))
    if text == "":
        return Coerced(None), text, None
    if text in EXCEL_ERRORS or text.startswith("#"):
        return Coerced(None, "V06", text), text, None
    low = text.casefold().rstrip(".")
    if low in _ZERO_WORDS and low != "0":
        return Coerced(0, "V07", text, "0"), text, None
    if text in _NA_WORDS:
        return Coerced(NOT_COUNTED, "V08", text), text, None
    m = _NUMBER.fullmatch(text)
    if not m:
        return Coerced(None, "V05", text), text, None
    sign, body, rest = m[1], m[2], m[3].strip()
    if rest and rest.casefold() not in {u.casefold() for u in units}:
        return Coerced(None, "V05", text), text, None
    reading = _read_digits(body, decimal)
    if reading is None:
        return Coerced(None, "V05", text), text, None
    if sign == "-" and reading.value is not None:
        reading = _Reading(-reading.value, reading.readings, reading.grouped)
    return None, text, reading


def coerce_count(raw: object, units: set[str] = frozenset(), maximum: int = 10**9) -> Coerced:
    """A whole count ≥ 0 from a cell value (number, text, bool, or None): the rule of ``count`` fields.

    Text in the Vietnamese way is read with a note ("5.731", "20.060", "32.713 thẻ", "1,234" → 5731...);
    what cannot be a whole count ("1,5", "12.5", "1.2345") is refused, never rounded."""
    if type(raw) is float and raw.is_integer() and 0 <= raw <= maximum:
        return Coerced(int(raw))  # the common case: a whole number in a number cell
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _check_count(float(raw), _fmt_raw(raw), maximum, typed=False)
    done, text, reading = _text_number(raw, units, decimal=False)
    if done is not None:
        return done
    return _check_count(reading.value, text, maximum, typed=True)


def coerce_decimal(raw: object, units: set[str] = frozenset(), maximum: float = 10**12) -> Coerced:
    """A figure ≥ 0 that may have a fraction (a budget in million đồng): the rule of ``decimal`` fields.

    The last of two different marks is the decimal mark ("1.234,5" → 1234,5; "1,234.5" → 1234,5); a lone
    mark before other than three digits is a decimal mark ("1,5" → 1,5; "12.5" → 12,5); a lone mark before
    exactly three digits ("1.234", "1,234") is refused as ambiguous, with both readings in the message."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _check_decimal(float(raw), _fmt_raw(raw), maximum, typed=False)
    done, text, reading = _text_number(raw, units, decimal=True)
    if done is not None:
        return done
    if reading.value is None:
        return Coerced(None, "V02", text, " hay ".join(reading.readings))
    return _check_decimal(reading.value, text, maximum, typed=True)


NUMBER_TYPES = {"count": coerce_count, "decimal": coerce_decimal}


def coerce_number(raw: object, number_type: str, units: set[str] = frozenset(), maximum: float = 10**9) -> Coerced:
    """The rule of a number field's spec type (``count`` or ``decimal``)."""
    return NUMBER_TYPES[number_type](raw, units, maximum)


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


def _check_decimal(number: float, shown: str, maximum: float, typed: bool) -> Coerced:
    if number != number or number in (float("inf"), float("-inf")):
        return Coerced(None, "V05", shown)
    if number < 0:
        return Coerced(None, "V03", shown)
    if number > maximum:
        return Coerced(None, "V10", shown, fmt_number(maximum))
    value = int(number) if number.is_integer() else number
    return Coerced(value, "V01", shown, _fmt_decimal(value)) if typed else Coerced(value)


def _fmt_decimal(value: float) -> str:
    """1234.5 → "1.234,5": every decimal kept, none added."""
    whole, _, frac = f"{value:.10f}".rstrip("0").rstrip(".").partition(".")
    return fmt_number(int(whole)) + ("," + frac if frac else "")


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
    for pattern, (y, mo, d) in ((r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$", (3, 2, 1)),
                                (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})", (1, 2, 3))):
        m = re.match(pattern, text)
        if m:
            try:
                return Coerced(dt.date(int(m[y]), int(m[mo]), int(m[d])))
            except ValueError:
                break
    return Coerced(None, "V11", text)
