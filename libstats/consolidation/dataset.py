"""The tidy dataset: one row per figure or text of an accepted return, traceable to the cell it came from.

Every national table and the national report are derived from it; it is written as CSV (UTF-8 with BOM, so
Excel opens it correctly) beside the summary, and next year's ``--previous`` reads it back.

Rows by ``kind``: ``figure`` (a number of a table, year N or N-1, in ``value``), ``explanation`` (the
province's explanation beside a table row), ``narrative`` (a bullet of the outline) and ``cover`` (who prepared
the report, phone, e-mail, date), the last three with their text in ``text``. Only texts a province wrote
are rows. ``correction`` rows are last year's figures a province asked to correct (``consolidation.corrections``;
never read as figures). ``finding``: a warning of the checks on a table row that is still open (a swing without
explanation, R04; a figure far from the other provinces', B02), its code and message in ``text`` ("R04: …"); the
warnings the Ministry reviewed in a collection's register are not rows (they count as explained). ``label``,
``dim_label`` and ``unit`` are the Vietnamese labels, so the CSV pivots as it is.

Formula safety: a text cell that Excel or LibreOffice would run as a formula when the CSV is opened (it
begins with = + - @, a tab or a carriage return) is written with a ZERO WIDTH SPACE (U+200B) in front, which
shows nothing and makes it plain text; a text that itself begins with U+200B gets one more. Reading the
dataset back removes exactly one leading U+200B from such texts, so every text round-trips exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from libstats.atomic import atomic_path
from libstats.model.coerce import NOT_COUNTED, is_not_counted
from libstats.consolidation.datapackage import check_dataset, refuse_workbook, write_descriptor
from libstats.model.findings import Finding, fmt_number, make
from libstats.model.form import Field, Form, TableRow, build_form
from libstats.checks.result import CheckResult
from libstats.consolidation.rollover import carry_map, rebase_frame
from libstats.model.spec import Spec, default_spec

__all__ = ["COLUMNS", "FIGURE", "EXPLANATION", "NARRATIVE", "COVER", "FINDING", "FLAG_CODES", "tidy_rows",
           "finding_rows", "tidy_frame", "figures",
           "write_dataset", "dataset_path", "load_dataset", "escape_text", "unescape_text", "previous_differences",
           "PreviousDifference", "previous_figures"]

COLUMNS = ["province_code", "code_list", "province_name", "region", "section", "table", "kind", "indicator",
           "label", "dim", "dim_label", "unit", "year", "value", "status", "text", "source_file", "sheet", "cell",
           "field_id"]
# status: "x" where the province typed x (không thống kê): the value is then blank, never 0; empty otherwise
_NUMERIC = {"year", "value"}
_DTYPES = {c: ("Int64" if c in _NUMERIC else str) for c in COLUMNS}
FIGURE, EXPLANATION, NARRATIVE, COVER, FINDING = "figure", "explanation", "narrative", "cover", "finding"
FLAG_CODES = ("R04", "B02")  # the warnings that make a figure "đang xác minh" until explained or reviewed
_ESCAPE = "\u200b"
_RUNS = ("=", "+", "-", "@", "\t", "\r", _ESCAPE)
_FIRST = frozenset(_RUNS)


def escape_text(text: str) -> str:
    """A text made safe to open in a spreadsheet program (it never starts a formula); see the module doc."""
    return _ESCAPE + text if text.startswith(_RUNS) else text


def unescape_text(text: str) -> str:
    """The exact text ``escape_text`` was given."""
    return text[1:] if text.startswith(_ESCAPE) and text[1:].startswith(_RUNS) else text


def _text(value: object) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def tidy_rows(res: CheckResult, form: Form) -> list[dict]:
    """The figures and texts of one accepted return, each with the file, sheet and cell it was read from."""
    p, rows = res.province, []

    def add(f: Field, kind: str, year: int, label: str, value: object = None, text: str | None = None,
            table: str | None = None, row: TableRow | None = None):
        status = NOT_COUNTED if is_not_counted(value) else ""
        sheet, cell = res.sources.get(f.id, (f.sheet, f.cell))
        rows.append({"province_code": p.code, "code_list": p.code_list, "province_name": p.name,
                     "region": p.region, "section": f.section, "table": table, "kind": kind,
                     "indicator": row.indicator if row else None, "label": label,
                     "dim": row.dim if row else None, "dim_label": row.dim_label if row else None,
                     "unit": row.unit if row else None, "year": year, "value": None if status else value,
                     "status": status, "text": text, "source_file": res.display, "sheet": sheet, "cell": cell,
                     "field_id": f.id})

    for f in form.fields_of("field"):
        if text := _text(res.values.get(f.id)):
            add(f, COVER, form.year, f.label, text=text)
    for r in form.rows:
        for f, year in ((r.n, form.year), (r.p, form.year - 1)):
            add(f, FIGURE, year, r.label, value=res.values.get(f.id), table=r.table, row=r)
        if text := _text(res.values.get(r.gc.id)):
            add(r.gc, EXPLANATION, form.year, r.label, text=text, table=r.table, row=r)
    for f in form.fields_of("narrative"):
        if text := _text(res.values.get(f.id)):
            add(f, NARRATIVE, form.year, f.label, text=text)
    return rows


def finding_rows(res: CheckResult, findings: list[Finding], form: Form) -> list[dict]:
    """The open warnings of ``FLAG_CODES`` among ``findings`` (a ledger entry's, the reviewed ones left out), one
    row each, on the table row whose year-N cell they point at."""
    p, by_cell = res.province, {r.n.id: r for r in form.rows}
    rows = []
    for f in findings:
        r = by_cell.get(f.field)
        if f.code not in FLAG_CODES or r is None:
            continue
        rows.append({"province_code": p.code, "code_list": p.code_list, "province_name": p.name, "region": p.region,
                     "section": r.n.section, "table": r.table, "kind": FINDING, "indicator": r.indicator,
                     "label": r.label, "dim": r.dim, "dim_label": r.dim_label, "unit": r.unit, "year": form.year,
                     "value": None, "status": "", "text": f"{f.code}: {f.message}", "source_file": res.display,
                     "sheet": f.sheet, "cell": f.cell, "field_id": r.n.id})
    return rows


def tidy_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df.astype({"year": "Int64", "value": "Int64"})


def figures(df: pd.DataFrame) -> pd.DataFrame:
    """The figure rows of a dataset (datasets written before texts were carried have figures only, and a row
    without a kind is a figure)."""
    return df[df["kind"].isna() | (df["kind"] == FIGURE)] if "kind" in df else df


def dataset_path(summary: Path) -> Path:
    """Where the tidy dataset of a summary workbook goes: beside it, same stem, ``…_du-lieu.csv``."""
    return Path(summary).with_name(Path(summary).stem + "_du-lieu.csv")


def _escape_rows(values: list) -> list[int]:
    """The positions of the texts escape_text changes: each distinct value looked at once (a column repeats its
    codes, sheet names and units row after row), then only the rows holding one of the few that need it."""
    try:
        distinct = set(values)
    except TypeError:  # an unhashable value (never a text): every row looked at
        distinct = values
    risky = {v for v in distinct if v.__class__ is str and v[:1] in _FIRST}
    return [i for i, v in enumerate(values) if v.__class__ is str and v in risky] if risky else []


def write_dataset(df: pd.DataFrame, path: Path, spec: Spec | None = None, describe: bool = True) -> Path:
    """Write the CSV atomically, every text column safe to open in a spreadsheet program, and its description
    (fields, ``spec``, code lists) in the folder's datapackage.json (not with ``describe=False``: a caller that
    writes the CSV in a staging folder describes it where it ends up)."""
    out = df
    for col in df.columns:
        if col not in _NUMERIC and not pd.api.types.is_numeric_dtype(df[col]):
            runs = _escape_rows(df[col].tolist())
            if runs:  # the few texts that need it (a copy only then)
                out = df.copy() if out is df else out
                out.iloc[runs, out.columns.get_loc(col)] = [escape_text(v) for v in out[col].iloc[runs]]
    with atomic_path(path) as tmp:
        # CRLF rows: the csv writer then quotes every text holding a CR or LF, so a lone CR never splits a row
        out.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    if describe:
        write_descriptor(df, Path(path), spec or default_spec())
    return path


def load_dataset(path: Path, spec: Spec | None = None, report_year: int | None = None,
                 texts: bool = False) -> pd.DataFrame:
    """Read a tidy dataset written by ``consolidate`` (of ``report_year`` when given): its figure rows, or every
    row with ``texts``; its description is checked against ``spec``. ValueError names what is wrong; notes for
    the user are in ``df.attrs["notes"]``."""
    refuse_workbook(Path(path))
    try:
        df = pd.read_csv(path, dtype={k: v for k, v in _DTYPES.items() if k not in _NUMERIC} | {"year": "Int64"},
                         encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    except UnicodeDecodeError as exc:  # saved again by a spreadsheet program in another encoding
        raise ValueError(f"không đọc được bộ dữ liệu {path}: tệp không ở mã UTF-8 như lệnh consolidate ghi (byte "
                         f"thứ {exc.start + 1}); hãy dùng tệp gốc, không lưu lại bằng chương trình khác") from exc
    except pd.errors.ParserError as exc:  # e.g. saved again with semicolons, a text with a comma
        line = re.search(r"line (\d+)", str(exc))
        raise ValueError(_not_comma_separated(path, f" (dòng {line[1]})" if line else "")) from exc
    except (OSError, ValueError) as exc:
        raise ValueError(f"không đọc được bộ dữ liệu {path}: {exc}") from exc
    if len(df.columns) == 1 and ";" in str(df.columns[0]):  # saved again with semicolons, no text with a comma
        raise ValueError(_not_comma_separated(path, " (dòng 1 phân cách bằng dấu chấm phẩy)"))
    missing = [c for c in ("province_code", "code_list", "indicator", "dim", "year", "value") if c not in df]
    if missing:
        raise ValueError(f"{path}: không phải bộ dữ liệu của libstats (thiếu cột {', '.join(missing)})")
    try:
        df["value"] = df["value"].astype("Int64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: cột value có giá trị không phải số nguyên ({exc})") from exc
    for col in df.columns:
        if col not in _NUMERIC and not pd.api.types.is_numeric_dtype(df[col]):
            escaped = df[col].str.startswith(_ESCAPE, na=False)  # only these few cells can need it
            if escaped.any():
                df.loc[escaped, col] = df.loc[escaped, col].map(unescape_text)
    df["province_code"] = df["province_code"].str.zfill(2)
    notes = check_dataset(Path(path), df, spec or default_spec(), report_year)
    # datasets before "x" have no status; an all-empty column may come back as floats
    df["status"] = [v if isinstance(v, str) else "" for v in df["status"]] if "status" in df else ""
    out = df if texts else figures(df).reset_index(drop=True)
    out.attrs["notes"] = notes
    return out


def _not_comma_separated(path: Path, where: str) -> str:
    return (f"không đọc được bộ dữ liệu {path}: không đúng dạng CSV phân cách bằng dấu phẩy như lệnh consolidate "
            f"ghi{where}; hãy dùng tệp gốc, không lưu lại bằng chương trình khác")


def previous_figures(df: pd.DataFrame, year: int, code_list: str,
                     carry: dict[str, str] | None = None) -> dict[tuple[str, str, str], int]:
    """Last year's accepted year-N figures on ``code_list``'s basis: (province code, indicator, dim) → value.

    A 2004-list dataset asked for on the 2025 basis is summed over the old provinces of each new one
    (every merger is a whole-province merger; see libstats.consolidation.rollover for the district level)."""
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
