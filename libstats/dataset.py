"""The tidy dataset: one row per figure, traceable to the cell it came from.

Every national table is derived from it; it is written as CSV (UTF-8 with BOM, so Excel opens it correctly)
beside the summary, and next year's ``--previous`` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .coerce import NOT_COUNTED, is_not_counted
from .datapackage import check_dataset, refuse_workbook, write_descriptor
from .findings import Finding, fmt_number, make
from .form import Form, TableRow, build_form
from .result import CheckResult
from .rollover import carry_map, rebase_frame
from .spec import Spec, default_spec

__all__ = ["COLUMNS", "tidy_rows", "tidy_frame", "write_dataset", "load_dataset", "previous_differences",
           "PreviousDifference", "previous_figures"]

COLUMNS = ["province_code", "code_list", "province_name", "region", "section", "table", "indicator", "dim",
           "dim_label", "unit", "year", "value", "status", "source_file", "sheet", "cell", "field_id"]
# status: "x" where the province typed x (không thống kê): the value is then blank, never 0; empty otherwise
_DTYPES = {"province_code": str, "code_list": str, "year": "Int64", "value": "Int64", "cell": str, "dim": str,
           "status": str}


def tidy_rows(res: CheckResult, form: Form) -> list[dict]:
    """The figures of one accepted return, each with the file, sheet and cell it was read from."""
    p, rows = res.province, []
    for r in form.rows:
        for f, year in ((r.n, form.year), (r.p, form.year - 1)):
            value = res.values.get(f.id)
            status = NOT_COUNTED if is_not_counted(value) else ""
            value = None if status else value
            sheet, cell = res.sources.get(f.id, (f.sheet, f.cell))
            rows.append({"province_code": p.code, "code_list": p.code_list, "province_name": p.name,
                         "region": p.region, "section": f.section, "table": r.table, "indicator": r.indicator,
                         "dim": r.dim, "dim_label": r.dim_label, "unit": r.unit, "year": year,
                         "value": value, "status": status, "source_file": res.display, "sheet": sheet, "cell": cell,
                         "field_id": f.id})
    return rows


def tidy_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df.astype({"year": "Int64", "value": "Int64"})


def write_dataset(df: pd.DataFrame, path: Path, spec: Spec | None = None) -> Path:
    """The CSV, and its description (fields, ``spec``, code lists) in the folder's datapackage.json."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")
    write_descriptor(df, Path(path), spec or default_spec())
    return path


def load_dataset(path: Path, spec: Spec | None = None, report_year: int | None = None) -> pd.DataFrame:
    """Read a tidy dataset written by ``consolidate`` (of ``report_year`` when given) and check its description
    against ``spec``; ValueError names what is wrong. Notes for the user are in ``df.attrs["notes"]``."""
    refuse_workbook(Path(path))
    try:
        df = pd.read_csv(path, dtype=_DTYPES, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"không đọc được bộ dữ liệu {path}: {exc}") from exc
    missing = [c for c in ("province_code", "code_list", "indicator", "dim", "year", "value") if c not in df]
    if missing:
        raise ValueError(f"{path}: không phải bộ dữ liệu của libstats (thiếu cột {', '.join(missing)})")
    df["province_code"] = df["province_code"].str.zfill(2)
    df.attrs["notes"] = check_dataset(Path(path), df, spec or default_spec(), report_year)
    df["status"] = df["status"].fillna("") if "status" in df else ""  # datasets before "x" have no status
    return df


def previous_figures(df: pd.DataFrame, year: int, code_list: str,
                     carry: dict[str, str] | None = None) -> dict[tuple[str, str, str], int]:
    """Last year's accepted year-N figures on ``code_list``'s basis: (province code, indicator, dim) → value.

    A 2004-list dataset asked for on the 2025 basis is summed over the old provinces of each new one
    (every merger is a whole-province merger; see libstats.rollover for the district level)."""
    rows = df[df["year"] == year]
    if rows.empty:
        return {}
    if set(rows["code_list"]) != {code_list}:
        rows = rebase_frame(rows, code_list, carry)
    rows = rows[rows["value"].notna()]
    return {(r.province_code, r.indicator, r.dim): int(r.value) for r in rows.itertuples()}


@dataclass(frozen=True)
class PreviousDifference:
    """A year N-1 figure of this year's return that differs from what the province reported last year."""

    result: CheckResult
    row: TableRow
    now: int
    before: int

    def finding(self) -> Finding:
        r, res = self.row, self.result
        sheet, cell = res.sources.get(r.p.id, (r.p.sheet, r.p.cell))
        return make("B01", file=res.display, sheet=sheet, cell=cell, field=r.p.id, label=r.p.label,
                    value=fmt_number(self.now), expected=fmt_number(self.before))


def previous_differences(results: list[CheckResult], df: pd.DataFrame, spec: Spec | None = None
                         ) -> list[PreviousDifference]:
    """Every N-1 figure that differs from what the province reported last year (on the returns' own code-list
    basis); the results are not changed (``PreviousDifference.finding`` gives the B01 finding)."""
    figures: dict[tuple[int, str], dict] = {}  # one (possibly rebased) lookup per year and code list
    found = []
    for res in results:
        if res.province is None or res.year is None or res.errors:
            continue
        form = build_form(res.year, spec)
        key = (res.year, res.province.code_list)
        if key not in figures:
            figures[key] = previous_figures(df, res.year - 1, key[1], carry_map(form.spec, res.year))
        for r in form.rows:
            before = figures[key].get((res.province.code, r.indicator, r.dim))
            now = res.values.get(r.p.id)
            if before is not None and isinstance(now, int) and now != before:
                found.append(PreviousDifference(res, r, now, before))
    return found
