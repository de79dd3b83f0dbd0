"""The ledger of an inbox: every file once, with its fate, and one file per province.

The rule that picks a province's file when it sent several (documented in docs/statistician-guide.md):
the file the province saved last (the file's own "modified" property), then the latest file time in the
inbox, then the name. The files it replaces are "superseded", with the cells in which they differ. A
province is never counted twice, and two provinces are never merged: files are grouped by province code
*with its code list*.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .result import CheckResult
from .findings import Finding, Verdict, make

__all__ = ["Entry", "build_ledger", "FATES"]

FATES = {"accepted": "Chấp nhận", "accepted_with_warnings": "Chấp nhận (có cảnh báo)",
         "rejected": "Không chấp nhận", "superseded": "Đã được thay thế", "unidentified": "Không nhận dạng được"}


@dataclass
class Entry:
    result: CheckResult
    fate: str  # a key of FATES
    reason: str = ""  # why rejected / which file supersedes it
    differences: list[tuple[str, object, object]] = field(default_factory=list)  # (field, this file, used file)

    @property
    def used(self) -> bool:
        return self.fate in ("accepted", "accepted_with_warnings")


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


def build_ledger(results: list[CheckResult], year: int) -> list[Entry]:
    """One entry per file, in the order of ``results``; exactly one non-superseded file per province."""
    by_province: dict[str, list[CheckResult]] = {}
    entries: dict[int, Entry] = {}
    for i, res in enumerate(results):
        if res.province is None or res.year != year:
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
            entries[index[id(res)]] = Entry(res, "superseded", reason, diffs)
            res.findings.append(make("L01", file=res.display, detail=reason))
            res.findings.extend(_diff_findings(res, diffs))
        verdict = chosen.verdict
        fate = {Verdict.ACCEPTED: "accepted", Verdict.WARNINGS: "accepted_with_warnings"}.get(verdict, "rejected")
        entries[index[id(chosen)]] = Entry(chosen, fate, _first_error(chosen) if fate == "rejected" else "")
    return [entries[i] for i in range(len(results))]


def _diff_findings(res: CheckResult, diffs) -> list[Finding]:
    out = []
    for fid, old, new in diffs[:50]:
        sheet, cell = res.sources.get(fid, ("", ""))
        out.append(make("L02", file=res.display, sheet=sheet, cell=cell, field=fid,
                        detail=f"{_short(old)} → {_short(new)}"))
    return out


def _short(v: object) -> str:
    text = "(trống)" if v is None else str(v)
    return text if len(text) <= 60 else text[:57] + "…"
