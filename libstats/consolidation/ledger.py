"""The ledger of an inbox: every file once, with its fate, and one file per province.

The rule that picks a province's file when it sent several (documented in docs/huong-dan-chuyen-vien-bo.md):
the file the province saved last (the file's own "modified" property), then the latest file time in the
inbox, then the name. The files it replaces are "superseded", with the cells in which they differ; a file
refused on its own findings stays "rejected" whatever came after it (a file's fate is its own verdict first). A
province is never counted twice, and two provinces are never merged: files are grouped by province code
*with its code list*. libstats' own outputs (feedback copies not edited since, summaries, datasets) and the
lock files of spreadsheet programs are set aside, never taken as returns.

An entry never changes its file's ``CheckResult``: what the batch finds about a file (superseded, different
from last year, unusual among the provinces) is kept in ``Entry.added``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from libstats.model.findings import Finding, Judged, Verdict, fmt_number, make
from libstats.checks.result import CheckResult

__all__ = ["Entry", "build_ledger", "FATES"]

FATES = {"accepted": "Chấp nhận", "accepted_with_warnings": "Chấp nhận (có cảnh báo)",
         "rejected": "Không chấp nhận", "superseded": "Đã được thay thế", "unidentified": "Không nhận dạng được",
         "set_aside": "Để riêng (không phải báo cáo)"}
SET_ASIDE_CODES = frozenset({"F11", "F12"})  # libstats' own output; a program's lock file


@dataclass
class Entry(Judged):
    result: CheckResult
    status: str  # "chosen" (the province's file), or a fate of FATES that does not depend on findings
    reason: str = ""  # why rejected / which file supersedes it / why set aside
    differences: list[tuple[str, object, object]] = field(default_factory=list)  # (field, this file, used file)
    added: list[Finding] = field(default_factory=list)  # what the batch found about this file
    hidden: list[Finding] = field(default_factory=list)  # withdrawn by the collection register (not shown)
    reviewed: list[tuple[Finding, str]] = field(default_factory=list)  # warnings the Ministry reviewed, with note

    @property
    def findings(self) -> list[Finding]:
        gone = [*self.hidden, *(f for f, _ in self.reviewed)]
        return [f for f in (*self.result.findings, *self.added) if f not in gone]

    @property
    def fate(self) -> str:
        """A key of FATES: for the province's chosen file, its verdict with every finding counted."""
        if self.status != "chosen":
            return self.status
        return {Verdict.ACCEPTED: "accepted", Verdict.WARNINGS: "accepted_with_warnings"}.get(self.verdict,
                                                                                             "rejected")

    @property
    def used(self) -> bool:
        return self.fate in ("accepted", "accepted_with_warnings")

    def as_dict(self) -> dict:
        """The file's result with every finding (its own and the batch's), its verdict and its fate."""
        return {**self.result.as_dict(), "verdict": self.verdict.value, "errors": self.errors,
                "warnings": self.warnings, "fate": self.fate, "reason": self.reason,
                "findings": [f.as_dict() for f in self.findings],
                "reviewed": [{**f.as_dict(), "note": note} for f, note in self.reviewed]}


def _saved_at(text: str) -> dt.datetime:
    """The file's own "modified" time, however the program wrote it ('…Z', '+07:00', fractions, none)."""
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")[:32])
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _key(res: CheckResult) -> tuple:
    return (_saved_at(res.saved), res.mtime, res.display)


def _first_error(res: CheckResult) -> str:
    err = next((f for f in res.findings if f.severity == "error"), None)
    return f"{err.code}: {err.message}" if err else ""


def _differences(old: CheckResult, new: CheckResult) -> list[tuple[str, object, object]]:
    fields = sorted(set(old.values) | set(new.values))
    return [(f, old.values.get(f), new.values.get(f)) for f in fields if old.values.get(f) != new.values.get(f)]


def build_ledger(results: list[CheckResult], year: int, labels: dict[str, str] | None = None) -> list[Entry]:
    """One entry per file, in the order of ``results``; exactly one non-superseded file per province. ``labels``
    (field id -> the label the form shows) name the cells in which a superseded file differs."""
    by_province: dict[str, list[CheckResult]] = {}
    entries: dict[int, Entry] = {}
    for i, res in enumerate(results):
        aside = next((f for f in res.findings if f.code in SET_ASIDE_CODES), None)
        if aside is not None:
            entries[i] = Entry(res, "set_aside", aside.message)
        elif res.province is None or res.year != year:
            entries[i] = Entry(res, "rejected" if res.errors else "unidentified", _first_error(res))
        else:
            by_province.setdefault(res.province.key, []).append(res)
    index = {id(r): i for i, r in enumerate(results)}
    for group in by_province.values():
        group.sort(key=_key)
        chosen = group[-1]
        for res in group[:-1]:
            diffs = _differences(res, chosen)
            same = res.sha256 == chosen.sha256
            reason = f"{chosen.display}" + (" (tệp trùng lặp)" if same else "")
            added = [make("L01", file=res.display, detail=reason), *_diff_findings(res, diffs, labels or {})]
            # a file's fate is its own verdict first: a file refused on its own findings is never "superseded"
            fate, why = ("rejected", _first_error(res)) if res.errors else ("superseded", reason)
            entries[index[id(res)]] = Entry(res, fate, why, diffs, added)
        entries[index[id(chosen)]] = Entry(chosen, "chosen", _first_error(chosen))
    return [entries[i] for i in range(len(results))]


def _diff_findings(res: CheckResult, diffs, labels: dict[str, str]) -> list[Finding]:
    out = []
    for fid, old, new in diffs[:50]:
        sheet, cell = res.sources.get(fid, ("", ""))
        out.append(make("L02", file=res.display, sheet=sheet, cell=cell, field=labels.get(fid, fid),
                        detail=f"{_short(old)} → {_short(new)}"))
    return out


def _short(v: object) -> str:
    text = "(trống)" if v is None else fmt_number(v)  # a number as the officer writes it: 8.470
    return text if len(text) <= 60 else text[:57] + "…"
