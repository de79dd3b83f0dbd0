"""Consolidate an inbox of returns into national tables, from one tidy dataset.

Totals and year-over-year figures are computed here from the figures read, never from formula cells. A
missing province is a row marked "chưa báo cáo", never zeros; every national figure says how many provinces
it covers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from libstats.checks.batch import WorkerLimits
from libstats.model.coerce import NOT_COUNTED
from libstats.consolidation.corrections import correction_rows
from libstats.consolidation.dataset import PreviousDifference, figures, finding_rows, tidy_frame, tidy_rows
from libstats.checks.result import CheckResult
from libstats.model.form import build_form
from libstats.model.provinces import provinces_for_year
from libstats.consolidation.review import Review, review_inbox
from libstats.consolidation.rollover import carry_map, rebase_frame
from libstats.model.rules import pct_change
from libstats.model.spec import Headline, Spec

__all__ = ["Consolidation", "consolidate", "consolidate_review", "from_dataset", "headline_dim", "national_table",
           "province_table", "headline_frame", "sum_present"]


@dataclass
class Consolidation:
    review: Review
    tidy: pd.DataFrame
    previous_diffs: pd.DataFrame = field(default_factory=pd.DataFrame)
    reported: frozenset[str] | None = None  # provinces of a consolidation rebuilt from its dataset (no ledger)

    year = property(lambda self: self.review.year)
    form = property(lambda self: self.review.form)
    expected = property(lambda self: self.review.expected)
    ledger = property(lambda self: self.review.ledger)
    used = property(lambda self: self.review.used)
    missing = property(lambda self: [p for p in self.expected if p.code not in self.reporting])

    @cached_property
    def reporting(self) -> set[str]:
        """The provinces counted (asked for by every table and sheet: computed once from the ledger)."""
        return set(self.reported) if self.reported is not None else self.review.reporting

    @cached_property
    def derived(self) -> pd.DataFrame:
        """The tidy figures with the headline sums (e.g. visits = at the library + outside) added as rows."""
        return _derive(self.tidy, self.form.spec)

    @cached_property
    def figure_index(self) -> tuple[dict[tuple, dict], set[tuple]]:
        """(indicator, dim, year) → province code → figure, of the derived figures, and the (indicator, dim, year,
        province code) marked x: every table reads these (one pass over the figures, not a filter per table)."""
        tidy, values, uncounted = self.derived, {}, set()
        for code, ind, dim, year, value, status in zip(tidy["province_code"], tidy["indicator"], tidy["dim"],
                                                       tidy["year"], tidy["value"], tidy["status"], strict=True):
            values.setdefault((ind, dim, year), {})[code] = value
            if status == NOT_COUNTED:
                uncounted.add((ind, dim, year, code))
        return values, uncounted


def from_dataset(df: pd.DataFrame, spec: Spec | None = None) -> Consolidation:
    """The consolidation a dataset was written from (its tables; no ledger): the report year is the dataset's
    latest, the provinces counted are those with figures of that year. ValueError when it cannot be."""
    figs = figures(df)
    if figs.empty or figs["year"].isna().all():
        raise ValueError("bộ dữ liệu không có số liệu nào")
    year = int(figs["year"].max())
    form = build_form(year, spec)
    lists = set(figs.loc[figs["year"] == year, "code_list"])
    if lists != {form.code_list}:
        raise ValueError(f"bộ dữ liệu năm {year} dùng danh mục tỉnh {', '.join(sorted(lists))}, "
                         f"không phải danh mục {form.code_list} của năm {year}")
    reported = frozenset(figs.loc[figs["year"] == year, "province_code"])
    return Consolidation(Review(year, form, list(provinces_for_year(year)), []), df.reset_index(drop=True),
                         reported=reported)


def headline_dim(spec: Spec, h: Headline) -> str:
    """The dimension a headline is published for: its own, or the total of the levels."""
    return h.dim or spec.total.id


_KEYS = ["province_code", "code_list", "province_name", "region", "dim", "dim_label", "year"]


def _derive(tidy: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The figure rows, with the headline indicators (sums of indicators, e.g. visits = at the library +
    outside) added as rows."""
    tidy = figures(tidy)
    frames = [tidy]
    for h in spec.headlines:
        if list(h.sum) == [h.id]:
            continue
        part = tidy[tidy["indicator"].isin(h.sum)]
        # a part marked x (không thống kê) is not a zero: the sum is over the parts counted; all parts
        # x gives x; a blank part gives no figure (never a partial sum)
        sums: dict[tuple, list] = {}  # key → [sum of the figures, a part blank, parts, parts marked x]
        for *key, value, status in zip(*(part[k] for k in _KEYS), part["value"], part["status"], strict=True):
            acc = sums.setdefault(tuple(key), [0, False, 0, 0])
            uncounted = status == NOT_COUNTED
            if pd.isna(value):
                acc[1] = acc[1] or not uncounted
            else:
                acc[0] += int(value)
            acc[2], acc[3] = acc[2] + 1, acc[3] + uncounted
        rows = []
        for key, (total, blank, parts, xs) in sums.items():
            whole = not blank and parts == len(h.sum)
            rows.append([*key, total if whole and xs < parts else pd.NA, NOT_COUNTED if whole and xs == parts else "",
                         h.id])
        summed = pd.DataFrame(rows, columns=[*_KEYS, "value", "status", "indicator"])
        frames.append(summed.astype({"value": "Int64", "year": tidy["year"].dtype}))
    return pd.concat(frames, ignore_index=True)


def _change(n, p) -> tuple:
    if pd.isna(n) or pd.isna(p):
        return pd.NA, pd.NA
    pct = pct_change(int(n), int(p))
    return int(n) - int(p), (round(pct, 1) if pct is not None else pd.NA)


def sum_present(values) -> object:
    """Sum of the figures present; NA when none is (never a 0 that nobody reported)."""
    present = [int(v) for v in values if not pd.isna(v)]
    return sum(present) if present else pd.NA


def _present(values) -> dict:
    """Province code → figure, of the figures present (a Series or a dict)."""
    return {k: int(v) for k, v in values.items() if not pd.isna(v)}


def _totals(n, p, year: int) -> dict:
    """Sums of year N and N-1 over the provinces that gave them (``n``, ``p``: province code → figure, a Series or a
    dict), and the change only when both years cover the same provinces: a change between different sets of
    provinces is not published (the note says why)."""
    n, p = _present(n), _present(p)
    has_n, has_p = set(n), set(p)
    total_n, total_p = (sum(v.values()) if v else pd.NA for v in (n, p))
    diff, pct = _change(total_n, total_p)
    note = ""
    if has_n and has_p and has_n != has_p:
        diff, pct = pd.NA, pd.NA
        note = (f"Không tính tăng/giảm: năm {year} có số liệu của {len(has_n)} tỉnh, năm {year - 1} của "
                f"{len(has_p)} tỉnh (khác nhau).")
    return {"n": total_n, "p": total_p, "diff": diff, "pct": pct, "provinces_n": len(has_n),
            "provinces_p": len(has_p), "note": note}


def _carried_part(con: Consolidation, last_year: pd.DataFrame | None) -> dict[tuple[str, str], pd.Series]:
    """(indicator, ended level) → last year's figures of a level that ended (the 2024 district libraries), per
    reporting province on this year's code list: the part of the N−1 column carried into another level."""
    carry = carry_map(con.form.spec, con.year)
    if last_year is None or not carry:
        return {}
    rows = last_year[(last_year["year"] == con.year - 1) & last_year["dim"].isin(carry)]
    if rows.empty:
        return {}
    if set(rows["code_list"]) != {con.form.code_list}:
        rows = rebase_frame(rows, con.form.code_list, carry={})  # the ended level kept as itself
    rows = _derive(rows[rows["province_code"].isin(con.reporting)], con.form.spec)
    return {key: g.set_index("province_code")["value"] for key, g in rows.groupby(["indicator", "dim"])}


def national_table(con: Consolidation, last_year: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every indicator by level and library type: N, N-1, change, %, provinces covered each year. With last
    year's dataset, a level that ended (2024's district libraries) shows its N−1 figures, carried into the
    level that continues, as their own line under it ("trong đó: thư viện cấp huyện cũ"): a level-by-level
    comparison then does not read the carried part as growth."""
    carried = _carried_part(con, last_year)
    ended = [lv for lv in con.form.spec.levels if lv.id in carry_map(con.form.spec, con.year)]
    rows = []
    order = [(r.indicator, r.dim, r.label, r.dim_label, r.unit, r.table) for r in con.form.rows]
    for h in con.form.spec.headlines:
        if list(h.sum) != [h.id]:
            unit = con.form.spec.indicators[h.sum[0]].unit
            for lv in (*con.form.levels, con.form.spec.total):
                order.append((h.id, lv.id, h.label, lv.label, unit, "headline"))
    values = con.figure_index[0]
    for ind, dim, label, dim_label, unit, table in order:
        n, p = values.get((ind, dim, con.year), {}), values.get((ind, dim, con.year - 1), {})
        rows.append({"table": table, "indicator": ind, "label": label, "dim": dim, "dim_label": dim_label,
                     "unit": unit, **_totals(n, p, con.year)})
        for lv in ended:
            part = carried.get((ind, lv.id))
            if lv.carried_into != dim or part is None:
                continue
            rows.append({"table": table, "indicator": ind, "label": label, "dim": lv.id,
                         "dim_label": f"trong đó: thư viện {lv.label.lower()} cũ", "unit": unit,
                         "n": pd.NA, "p": sum_present(part), "diff": pd.NA, "pct": pd.NA, "provinces_n": pd.NA,
                         "provinces_p": int(part.notna().sum()),
                         "note": f"Phần đã cộng vào {dim_label.lower()} năm {con.year - 1} "
                                 f"({lv.label.lower()} đã bỏ)."})
    return pd.DataFrame(rows)


def headline_frame(con: Consolidation, indicator: str, dim: str) -> pd.DataFrame:
    """One indicator, one dimension: a row per expected province (missing ones marked), N, N-1, change, %."""
    values, uncounted = con.figure_index
    n, p = values.get((indicator, dim, con.year), {}), values.get((indicator, dim, con.year - 1), {})
    rows, reporting = [], con.reporting
    for prov in con.expected:
        reported = prov.code in reporting
        vn = n.get(prov.code, pd.NA) if reported else pd.NA
        vp = p.get(prov.code, pd.NA) if reported else pd.NA
        diff, pct = _change(vn, vp)
        x = (indicator, dim, con.year, prov.code) in uncounted
        status = ("không thống kê (x)" if x else "") if reported else "chưa báo cáo"
        rows.append({"province_code": prov.code, "province_name": prov.name, "region": prov.region,
                     "status": status, "n": vn, "p": vp, "diff": diff, "pct": pct})
    df = pd.DataFrame(rows)
    df["rank"] = df["n"].astype("Float64").rank(ascending=False, method="min").astype("Int64")
    return df


def province_table(con: Consolidation, indicator: str, dim: str) -> pd.DataFrame:
    """Provinces grouped by region, with regional subtotals and the national total (coverage counted)."""
    df = headline_frame(con, indicator, dim)
    columns = list(df.columns)
    provinces = [dict(zip(columns, values, strict=True)) for values in zip(*(df[c] for c in columns), strict=True)]
    regions: dict[str, list[dict]] = {}
    for r in provinces:
        regions.setdefault(r["region"], []).append(r)
    rows = []
    for region, group in regions.items():
        rows += [{**r, "kind": "province"} for r in group]
        rows.append(_subtotal(group, f"Cộng {region}", region, "region", con.year))
    rows.append(_subtotal(provinces, con.form.spec.national_label, "", "national", year=con.year))
    out = pd.DataFrame(rows, columns=[*df.columns, "kind"], dtype=object)  # figures stay whole numbers or NA
    return out.astype({c: str for c in ("province_code", "province_name", "region", "status", "kind")})


def _subtotal(group: list[dict], name: str, region: str, kind: str, year: int = 0) -> dict:
    t = _totals({r["province_code"]: r["n"] for r in group}, {r["province_code"]: r["p"] for r in group}, year)
    covered = f"{t['provinces_n']}/{len(group)} tỉnh" + (" — " + t["note"] if t["note"] else "")
    return {"province_code": "", "province_name": name, "region": region, "status": covered, "n": t["n"],
            "p": t["p"], "diff": t["diff"], "pct": t["pct"], "rank": pd.NA, "kind": kind}


def _previous_frame(diffs: list[PreviousDifference], used: list[CheckResult]) -> pd.DataFrame:
    ids = {id(r) for r in used}
    return pd.DataFrame([{"province_code": d.result.province.code, "province_name": d.result.province.name,
                          "indicator": d.row.label, "dim": d.row.dim_label, "reported_now": d.now,
                          "reported_last_year": d.before, "diff": d.now - d.before, "source_file": d.result.display,
                          "sheet": d.result.sources.get(d.row.p.id, ("", ""))[0],
                          "cell": d.result.sources.get(d.row.p.id, ("", ""))[1]}
                         for d in diffs if id(d.result) in ids])


def consolidate(inputs: list[Path], year: int, previous: Path | None = None, spec: Spec | None = None,
                limits: WorkerLimits | None = None,
                progress: Callable[[Iterable], Iterable] = lambda it: it) -> Consolidation:
    """Review every file under ``inputs`` and build the tidy dataset from the files the ledger uses."""
    return consolidate_review(review_inbox(inputs, year, spec, previous, limits, progress))


def consolidate_review(review: Review) -> Consolidation:
    """The tidy dataset and tables of a reviewed inbox (only the files the ledger uses)."""
    rows = [row for e in review.ledger if e.used
            for row in (*tidy_rows(e.result, review.form), *finding_rows(e.result, e.findings, review.form))]
    used = {id(r) for r in review.used}
    rows += correction_rows([c for c in review.requested if id(c.result) in used])  # requested, not applied
    con = Consolidation(review, tidy_frame(rows))
    con.previous_diffs = _previous_frame(review.previous, con.used)
    return con
