"""Review an inbox: the one entry point that every command (check, consolidate, demo, collect, serve) uses.

Order, always the same: every entry of the inbox is listed (nothing skipped) and checked in isolated workers;
libstats' own outputs and lock files are set aside; the ledger picks one file per province; then, over the
provinces' chosen files only, last year's figures are compared and unusual ratios are warned. A file's own
``CheckResult`` is never changed afterwards: what the batch adds is kept in its ledger entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from libstats.checks.batch import WorkerLimits, check_many, collect_files, outlier_findings
from libstats.consolidation.corrections import Correction, requested_corrections
from libstats.consolidation.datapackage import check_report_year
from libstats.consolidation.dataset import PreviousDifference, load_dataset, previous_differences
from libstats.model.form import Form, build_form
from libstats.consolidation.ledger import Entry, build_ledger
from libstats.model.provinces import Province, provinces_for_year
from libstats.checks.result import CheckResult
from libstats.model.spec import Spec, default_spec

__all__ = ["Review", "review_inbox", "WrongYear"]


class WrongYear(ValueError):
    """The inbox holds returns of another year than the one asked for: nothing is written."""


@dataclass
class Review:
    year: int | None  # None: no file said which year it is (and none was asked for)
    form: Form | None
    expected: list[Province]
    ledger: list[Entry]  # every entry of the inbox, once, in the order listed, with its fate
    previous: list[PreviousDifference] = field(default_factory=list)
    # set when the inbox is a collection folder's (collect.review_collection): its status (collect.Status),
    # the warnings the Ministry reviewed (the register's rows) and the accepted corrections of last year's figures
    collection: object | None = None
    reviewed: list[dict] = field(default_factory=list)
    corrections: list[dict] = field(default_factory=list)
    # the corrections of last year's figures typed in the chosen files (with the Ministry's decision in a collection)
    requested: list[Correction] = field(default_factory=list)

    @property
    def used(self) -> list[CheckResult]:
        return [e.result for e in self.ledger if e.used]

    @property
    def reporting(self) -> set[str]:
        return {r.province.code for r in self.used}

    @property
    def missing(self) -> list[Province]:
        return [p for p in self.expected if p.code not in self.reporting]

    @property
    def has_errors(self) -> bool:
        return any(e.errors for e in self.ledger)

    def counts(self) -> Counter:
        """How many files have each fate (a key of ledger.FATES)."""
        return Counter(e.fate for e in self.ledger)


def _year_of(results: Sequence[CheckResult], year: int | None) -> int | None:
    years = Counter(r.year for r in results if r.year is not None)
    if year is None:
        return years.most_common(1)[0][0] if years else None
    other, n = next(((y, n) for y, n in years.most_common() if y != year), (None, 0))
    if other is not None and n > years.get(year, 0):
        raise WrongYear(f"Các tệp trong hộp thư là báo cáo năm {other} ({n}/{sum(years.values())} tệp nhận dạng "
                        f"được), không phải năm {year} đã chọn (--year {year}). Chưa ghi tệp nào. Hãy chạy lại "
                        f"với --year {other}, hoặc kiểm tra lại hộp thư.")
    return year


def review_inbox(inputs: Sequence[Path], year: int | None, spec: Spec | None = None, previous: Path | None = None,
                 limits: WorkerLimits | None = None,
                 progress: Callable[[Iterable], Iterable] = lambda it: it,
                 choose: Callable[[list[Entry]], list[Entry]] | None = None, conversions: Path | None = None) -> Review:
    """Check every entry under ``inputs`` for report ``year`` (None: the year most files are of) and review them
    together. Raises WrongYear when most identified files are of another year; ValueError for a bad
    ``previous`` dataset (read before any file is checked). ``choose`` may replace the ledger's choice of each
    province's file (a collection's register does) before the batch compares the chosen files; ``conversions``:
    where .xls/.ods conversions are kept (a collection's converted/), so that they are read, not made again."""
    spec = spec or default_spec()
    if year is not None:
        build_form(year, spec)
    last_year = load_dataset(previous, spec, year - 1 if year else None) if previous is not None else None
    files = collect_files(list(inputs))
    results = check_many(files, spec, year, limits=limits or WorkerLimits(), progress=progress,
                         conversions=conversions)
    year = _year_of(results, year)
    labels = {f.id: f.label for f in build_form(year, spec).fields.values()} if year is not None else None
    ledger = build_ledger(results, year, labels)
    if choose is not None and year is not None:
        ledger = choose(ledger)
    if year is None:
        return Review(None, None, [], ledger)
    if last_year is not None:
        check_report_year(previous, last_year, year - 1)
    form = build_form(year, spec)
    chosen = [e for e in ledger if e.status == "chosen"]
    diffs = previous_differences([e.result for e in chosen], last_year, spec) if last_year is not None else []
    by_result = {id(e.result): e for e in chosen}
    for d in diffs:
        by_result[id(d.result)].added.append(d.finding())
    for i, found in outlier_findings([e.result for e in chosen], form).items():
        chosen[i].added.extend(found)
    requested = [c for e in chosen for c in requested_corrections(e.result, form)]
    for c in requested:  # a correction never vanishes: C02 at its cell (a collection's register already has it)
        entry = by_result[id(c.result)]
        if (found := c.finding()) not in entry.findings:
            entry.added.append(found)
    return Review(year, form, list(provinces_for_year(year)), ledger, diffs, requested=requested)
