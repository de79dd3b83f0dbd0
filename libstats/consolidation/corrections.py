"""Corrections of last year's figures, typed in the form's correction column ("số đúng năm N−1 (đính chính)").

A correction never vanishes, with or without a collection folder: it is a finding at its cell (C02, a warning),
a row of the dataset (``kind`` "correction", ``status`` "requested" until the Ministry decides) and so a line
of the summary. Only the Ministry's decision in a collection's register applies it (``collect.apply_corrections``);
the figures of the dataset are never changed by a correction that was only requested.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from libstats.checks.result import CheckResult
from libstats.model.findings import Finding, fmt_number, make
from libstats.model.form import Form, TableRow

__all__ = ["Correction", "requested_corrections", "correction_rows", "CORRECTION", "STATUSES"]

CORRECTION = "correction"  # the dataset's ``kind`` of a correction's row
STATUSES = {None: "requested", "accepted": "accepted", "refused": "refused"}  # the register's decision → status


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass(frozen=True)
class Correction:
    """A corrected N−1 figure of one return: the row, what the return's N−1 column says, the corrected figure."""

    result: CheckResult
    row: TableRow
    reported: int | float | None
    corrected: int | float
    status: str = "requested"  # a value of STATUSES

    @property
    def where(self) -> tuple[str, str]:
        pc = self.row.pc
        return self.result.sources.get(pc.id, (pc.sheet, pc.cell))

    def finding(self) -> Finding:
        sheet, cell = self.where
        return make("C02", file=self.result.display, sheet=sheet, cell=cell, field=self.row.pc.id,
                    label=self.row.p.label, expected=fmt_number(self.corrected),
                    value=fmt_number(self.reported) if self.reported is not None else "(trống)")

    def decided(self, decision: str | None) -> Correction:
        return dataclasses.replace(self, status=STATUSES.get(decision, "requested"))


def requested_corrections(res: CheckResult, form: Form) -> list[Correction]:
    """Every figure of the correction column of ``res`` (a return of ``form``'s year) that differs from its
    N−1 figure."""
    out = []
    for r in form.rows:
        if r.pc is None:
            continue
        new, old = res.values.get(r.pc.id), res.values.get(r.p.id)
        if _number(new) and new != old:
            out.append(Correction(res, r, old if _number(old) else None, new))
    return out


def correction_rows(corrections: list[Correction]) -> list[dict]:
    """The dataset's rows of the corrections (year N−1; ``value`` the corrected figure; ``text`` what the return's
    N−1 column says), each at the cell the correction was typed in."""
    rows = []
    for c in corrections:
        res, r, (sheet, cell) = c.result, c.row, c.where
        p = res.province
        whole = float(c.corrected).is_integer()
        rows.append({"province_code": p.code, "code_list": p.code_list, "province_name": p.name, "region": p.region,
                     "section": r.pc.section, "table": r.table, "kind": CORRECTION, "indicator": r.indicator,
                     "label": r.label, "dim": r.dim, "dim_label": r.dim_label, "unit": r.unit, "year": res.year - 1,
                     "value": int(c.corrected) if whole else None, "status": c.status,
                     "text": f"số năm {res.year - 1} đã ghi: "
                             + (fmt_number(c.reported) if c.reported is not None else "(trống)")
                             + ("" if whole else f"; số đính chính: {fmt_number(c.corrected)}"),
                     "source_file": res.display, "sheet": sheet, "cell": cell, "field_id": r.pc.id})
    return rows
