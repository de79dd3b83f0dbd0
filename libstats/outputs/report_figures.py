"""The figures of the national report: Part I's year in figures, the tables under their outline bullets (with
unit, source line, the provinces' explanations and a chart per headline), the provinces that stand out, and the
annexes (provinces, missing returns, figures being verified, sources of the excerpts).

Mixins of the report's writer (libstats.outputs.report): they use its ``con``, ``nat``, ``w``, ``doc``, ``t``,
``para``, ``table`` and ``heading``. A comparison is made only where both years have a figure: a row the
previous year's form did not have, or a year without a figure, shows "—", never a change from 0. A province
with an open check warning (a ``finding`` row of the dataset) on an indicator is never named among those that
stand out on it: it is listed in the annex "Số liệu đang xác minh" with the finding and its explanation.
"""

from __future__ import annotations

import io
import re
import textwrap
import unicodedata

import pandas as pd
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.shared import Mm

from libstats.consolidation.consolidate import from_dataset, headline_dim, headline_frame, national_table
from libstats.consolidation.dataset import EXPLANATION, FIGURE, FINDING
from libstats.model.findings import fmt_number
from libstats.model.form import Table, build_form
from libstats.model.provinces import provinces_for_year
from libstats.outputs import docform

__all__ = ["Figures", "Overview", "Annexes", "fmt_pct", "fmt_signed_pct"]


def fmt_pct(pct: float) -> str:
    """7.1 → '7,1' (one decimal, Vietnamese comma; the sign is said in words)."""
    return f"{abs(pct):.1f}".replace(".", ",")


def fmt_signed_pct(pct) -> str:
    """+7,1 / −7,1 (U+2212); a change that rounds to 0 is '0,0', without a sign."""
    text = fmt_pct(pct)
    return text if text == "0,0" else ("+" if pct > 0 else "−") + text


def _num(v) -> str:
    return "" if v is None or pd.isna(v) else fmt_number(int(v))


def _signed(v) -> str:
    return ("+" if int(v) > 0 else "−" if int(v) < 0 else "") + fmt_number(abs(int(v)))  # − : U+2212


def _lower(label: str) -> str:
    return label[0].lower() + label[1:]


def explanation_groups(tidy: pd.DataFrame, table_id: str) -> list[tuple[str, list[str]]]:
    """The provinces' explanations beside a table's rows: each text once (NFC, spaces folded) with the provinces
    that wrote it, the most frequent first."""
    rows = tidy[(tidy["kind"] == EXPLANATION) & (tidy["table"] == table_id)]
    by_text: dict[str, list[str]] = {}
    for r in rows.sort_values("province_code").itertuples():
        names = by_text.setdefault(" ".join(unicodedata.normalize("NFC", str(r.text)).split()), [])
        if r.province_name not in names:
            names.append(r.province_name)
    return sorted(by_text.items(), key=lambda kv: (-len(kv[1]), kv[0]))


class Figures:
    # --- where, what -----------------------------------------------------------------------------------
    def placements(self) -> dict[str, str]:
        """table id → the field id of the bullet it goes under (only bullets this year's outline has)."""
        fields = self.con.form.fields
        return {t: f for t, f in self.w["figures"].get("place", {}).items() if f in fields}

    def after_bullet(self, field_id: str) -> None:
        for table in (t for s in self.con.form.sheets for t in s.tables):
            if self.placements().get(table.id) == field_id:
                self.render_table(table)

    def _nat(self, ind: str, dim: str) -> pd.Series:
        """The national row of an indicator and a level or type (an index built once: hundreds of lookups)."""
        if "_nat_rows" not in self.__dict__:
            self._nat_rows = {}
            for _, r in self.nat.iterrows():
                self._nat_rows.setdefault((r["indicator"], r["dim"]), r)
        return self._nat_rows[(ind, dim)]

    def _is_new(self, ind: str, dim: str) -> bool:
        """A row the previous year's form did not have (e.g. what became of the district libraries)."""
        if not hasattr(self, "_prev_pairs"):
            try:
                prev = build_form(self.year - 1, self.con.form.spec)
                self._prev_pairs = {(r.indicator, r.dim) for r in prev.rows}
            except ValueError:
                self._prev_pairs = None
        if self._prev_pairs is None:
            return False
        headline = {h.id: h.sum[0] for h in self.con.form.spec.headlines}
        return (headline.get(ind, ind), dim) not in self._prev_pairs and (ind, dim) not in self._prev_pairs

    def _cells(self, r: pd.Series, ind: str, dim: str) -> list[str]:
        """N, N−1, change, % of a national row: "—" for a year without a figure and for any change that is not
        a comparison of two figures."""
        dash = self.t("figures", "no_value")
        p_missing = pd.isna(r["p"]) or self._is_new(ind, dim)
        n = dash if pd.isna(r["n"]) else _num(r["n"])
        p = dash if p_missing else _num(r["p"])
        if p_missing or pd.isna(r["n"]) or r["note"] or pd.isna(r["diff"]):
            return [n, p, dash, dash]
        return [n, p, _signed(r["diff"]), dash if pd.isna(r["pct"]) else fmt_signed_pct(r["pct"])]

    def _change(self, r: pd.Series, ind: str, dim: str, unit: str) -> str:
        if r["note"]:
            return self.t("figures", "not_comparable", note=r["note"].rstrip("."))
        if pd.isna(r["p"]) or pd.isna(r["diff"]):
            return self.t("figures", "no_previous")
        if int(r["diff"]) == 0:
            return self.t("figures", "same")
        if pd.isna(r["pct"]):  # last year 0: a rise without a percentage
            return self.t("figures", "from_zero", diff=fmt_number(abs(int(r["diff"]))), unit=unit)
        key = "rise" if int(r["diff"]) > 0 else "fall"
        pct = fmt_pct(r["pct"])
        pct = self.t("figures", "pct_small") if pct == "0,0" else pct  # 23 cards fewer of 1,2 million: not "0,0%"
        return self.t("figures", key, diff=fmt_number(abs(int(r["diff"]))), unit=unit, pct=pct)

    def sentence(self, ind: str, dim: str, label: str, unit: str) -> str:
        r = self._nat(ind, dim)
        if pd.isna(r["n"]):
            return self.t("figures", "no_figure", label=label)
        n = int(r["n"])
        approx = (self.t("figures", "approx_million", value=f"{n / 1e6:.1f}".replace(".", ","), unit=unit)
                  if n >= 1_000_000 else "")
        reported = len(self.con.reporting)  # the report's basis, said once at its start
        coverage = (self.t("figures", "coverage", count=int(r["provinces_n"]))
                    if int(r["provinces_n"]) < reported else "")
        if self._is_new(ind, dim) and not r["note"]:
            return self.t("figures", "sentence_new", label=label, n=fmt_number(n), unit=unit, approx=approx,
                          coverage=coverage)
        return self.t("figures", "sentence", label=label, n=fmt_number(n), unit=unit, approx=approx,
                      change=self._change(r, ind, dim, unit), coverage=coverage)

    def _headline(self, hid: str):
        return next((h for h in self.con.form.spec.headlines if h.id == hid), None)

    def _unit(self, h) -> str:
        return self.con.form.spec.indicators[h.sum[0]].unit

    # --- a table of figures, under its bullet ----------------------------------------------------------
    def render_table(self, table: Table) -> None:
        spec = self.con.form.spec
        indicators = list(dict.fromkeys(r.indicator for r in table.rows))
        for ind in indicators if table.id not in self.told else ():
            rows = [r for r in table.rows if r.indicator == ind]
            shown = [r for r in rows if r.is_total] or rows
            for r in shown:  # several rows of one indicator, none a total: each says which it is
                label = r.label if len(shown) == 1 else f"{r.label} ({r.dim_label})"
                self.para(self.sentence(ind, r.dim, label, r.unit))
        derived = [h for h in spec.headlines if h.sum[0] in indicators and list(h.sum) != [h.id]]
        for h in derived:
            self.para(self.sentence(h.id, headline_dim(spec, h), h.label, self._unit(h)))
        self.para(table.title, bold=True, center=True).paragraph_format.keep_with_next = True
        self.compact_table(table, indicators, derived)
        self.explanations(table)
        for h in spec.headlines:
            if h.sum[0] in indicators and h.id not in self.placed:
                self.placed.add(h.id)
                if h.id in self.w["figures"]["headlines"]:
                    self.chart(h)
                self.stand_out(h)

    def compact_table(self, table: Table, indicators: list[str], derived) -> None:
        """Every row of the table, totals first, with its unit; the former district libraries' part under the
        level it was carried into."""
        spec = self.con.form.spec
        levels = {lv.id for lv in spec.levels} | {spec.total.id}
        dims = {r.dim for r in table.rows}
        word = self.t("figures", "dim_word_level" if dims <= levels else "dim_word_type" if not dims & levels
                      else "dim_word_mixed")
        headers = [self._fill(h, "[figures] table_headers", dim_word=word) for h in self.w["figures"]["table_headers"]]
        groups = [[(r.indicator, r.dim, r.label, r.dim_label, r.unit, r.is_total) for r in table.rows
                   if r.indicator == ind] for ind in indicators]
        for h in derived:
            groups.append([(h.id, lv.id, h.label, lv.label, self._unit(h), lv.id == spec.total.id)
                           for lv in (*self.con.form.levels, spec.total)])
        body, bold = [], set()
        carried = self.nat[self.nat["dim_label"].str.startswith("trong đó", na=False)]
        for group in groups:
            group = sorted(group, key=lambda g: not g[5])  # totals first (a stable sort keeps the levels' order)
            for i, (ind, dim, label, dim_label, unit, total) in enumerate(group):
                if total and len(group) > 1:
                    bold.add(len(body))
                body.append([label if i == 0 else "", unit if i == 0 else "", dim_label,
                             *self._cells(self._nat(ind, dim), ind, dim)])
                for _, c in carried[(carried["indicator"] == ind) & (carried["table"].notna())].iterrows():
                    if any(lv.id == c["dim"] and lv.carried_into == dim for lv in spec.levels):
                        body.append(["", "", c["dim_label"], *self._cells(c, ind, c["dim"])])
        self.table(headers, body, [37, 14, 25, 24, 24, 24, 17], numeric_from=3, bold_rows=frozenset(bold),
                   source=True)
        if spec.national_note:
            self.para(spec.national_note, italic=True, indent=False, size=self.w["document"]["table_size"])

    def explanations(self, table: Table) -> None:
        """The provinces' own explanations of the changes in this table: identical texts once, with their
        provinces, the most frequent first."""
        ranked = explanation_groups(self.con.tidy, table.id)[:int(self.w["figures"]["explanations_max"])]
        if not ranked:
            return
        self.para(self.t("figures", "explanations"), italic=True, indent=False)
        for text, names in ranked:
            shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
            self.para("- " + self.t("figures", "explanation_item", text=text, count=len(names), provinces=shown))

    def chart(self, h) -> None:
        from libstats.outputs.charts import Bars, headline_chart  # matplotlib only when a report is written

        dim = headline_dim(self.con.form.spec, h)
        levels = []
        for lv in self.con.form.levels:
            r = self._nat(h.id, lv.id)
            if not pd.isna(r["n"]):
                levels.append((lv.label, int(r["n"]), None if pd.isna(r["p"]) else int(r["p"])))
        df = headline_frame(self.con, h.id, dim)
        both = df[df["n"].notna() & df["p"].notna()]
        regions = [(textwrap.fill(reg, 13), int(g["n"].sum()), int(g["p"].sum()))
                   for reg, g in both.groupby("region", sort=False)]
        panels = [Bars(self.t("figures", "chart_levels"), levels), Bars(self.t("figures", "chart_regions"), regions)]
        png = headline_chart([p for p in panels if p.groups], self.year, self._unit(h))
        self.charts = getattr(self, "charts", 0) + 1
        p = self.para(center=True)
        p.add_run().add_picture(io.BytesIO(png), width=Mm(160))
        p.paragraph_format.keep_with_next = True
        self.para(self.t("figures", "chart_title", n=self.charts, label=h.label), bold=True, center=True,
                  size=self.w["document"]["table_size"]).paragraph_format.keep_with_next = True
        self.para(self.t("figures", "source"), italic=True, center=True, size=self.w["document"]["table_size"])

    # --- who stands out (never a figure being verified) -------------------------------------------------
    def flagged(self, h) -> set[str]:
        tidy = self.con.tidy
        rows = tidy[(tidy["kind"] == FINDING) & tidy["indicator"].isin(h.sum)]
        return set(rows["province_code"])

    def stand_out(self, h):
        spec, k = self.con.form.spec, int(self.w["figures"]["how_many"])
        df = headline_frame(self.con, h.id, headline_dim(spec, h))
        held = self.flagged(h)
        have = df[df["n"].notna() & ~df["province_code"].isin(held)]
        if have.empty:
            return
        top = have.sort_values(["n", "province_code"], ascending=[False, True]).head(k)
        moved = have[have["pct"].notna()]
        rises = moved[moved["pct"] > 0].sort_values(["pct", "province_code"], ascending=[False, True]).head(k)
        falls = moved[moved["pct"] < 0].sort_values(["pct", "province_code"]).head(k)
        parts = [self.t("figures", "highest", list=", ".join(
            self.t("figures", "item", province=r.province_name, value=fmt_number(int(r.n))) for r in top.itertuples()))]
        for key, sel in (("rises", rises), ("falls", falls)):
            if len(sel):
                parts.append(self.t("figures", key, list=", ".join(self.t(
                    "figures", "item", province=r.province_name, value=fmt_signed_pct(r.pct) + "%")
                    for r in sel.itertuples())))
        self.para(self.t("figures", "stand_out", label_lower=_lower(h.label)) + " " + "; ".join(parts) + ".")
        names = [p.name for p in self.con.expected if p.code in held]
        if names:
            self.para(self.t("figures", "held_back", label_lower=_lower(h.label), provinces=", ".join(names),
                             annex=self.t("annex", "flagged_ref")))


class Overview:
    """Part I's opening: the year in figures, the base of every comparison, the reform of the year."""

    def year_in_figures(self) -> None:
        spec = self.con.form.spec
        heads = [h for h in map(self._headline, self.w["figures"]["headlines"]) if h is not None]
        self.para(self.t("figures", "year_lead"))
        rows = []
        for h in heads:
            dim = headline_dim(spec, h)
            rows.append([h.label, self._unit(h), *self._cells(self._nat(h.id, dim), h.id, dim)])
        headers = [self._fill(h, "[figures] year_headers") for h in self.w["figures"]["year_headers"]]
        self.table(headers, rows, [56, 20, 25, 25, 23, 16], numeric_from=2, source=True)
        old, new = len(provinces_for_year(self.year - 1)), len(self.con.expected)
        rebased = self.t("figures", "base_rebased", old=old, new=new) if old != new else ""
        self.para(self.t("figures", "base", rebased=rebased) + self._reconcile(heads))
        if old != new:
            self.reform(old, new)

    def _reconcile(self, heads) -> str:
        """" " + the sentence comparing this base with last year's published totals (with last year's dataset)."""
        if self.last_year is None:
            return ""
        prev = from_dataset(self.last_year, self.con.form.spec)
        published = national_table(prev)
        spec, differ = self.con.form.spec, []
        for h in heads:
            dim = headline_dim(spec, h)
            now = self._nat(h.id, dim)["p"]
            sel = published[(published["indicator"] == h.id) & (published["dim"] == dim)]
            before = sel["n"].iloc[0] if len(sel) else pd.NA
            if not pd.isna(now) and not pd.isna(before) and int(now) != int(before):
                differ.append(self.t("figures", "reconcile_item", label_lower=_lower(h.label),
                                     now=fmt_number(int(now)), before=fmt_number(int(before))))
        if not differ:
            return " " + self.t("figures", "reconcile_same")
        return " " + self.t("figures", "reconcile", list="; ".join(differ), last_reported=len(prev.reporting),
                            last_expected=len(prev.expected))

    def reform(self, old: int, new: int) -> None:
        text = [self.t("figures", "reform", old=old, new=new)]
        fates = [r for s in self.con.form.sheets for t in s.tables if t.id == self.w["figures"].get("reform_table")
                 for r in t.rows if not r.is_total]
        counted = [(r, self._nat(r.indicator, r.dim)["n"]) for r in fates]
        counted = [(r, int(n)) for r, n in counted if not pd.isna(n)]
        if counted:
            fates = "; ".join(self.t("figures", "reform_fate", n=fmt_number(n), label_lower=_lower(r.dim_label))
                              for r, n in counted)
            text.append(self.t("figures", "reform_fates", total=fmt_number(sum(n for _, n in counted)), list=fates))
            self.told.add(self.w["figures"]["reform_table"])
        district = self.nat[(self.nat["indicator"] == "so_thu_vien") & self.nat["dim_label"].str.startswith("trong đó")]
        if len(district) and not pd.isna(district["p"].iloc[0]):
            text.append(self.t("figures", "reform_district", n=fmt_number(int(district["p"].iloc[0]))))
        elif self.last_year is None:
            text.append(self.t("figures", "reform_no_previous"))
        self.para(" ".join(text))



class Annexes:
    def annex_title(self, key: str, first: bool = False) -> None:
        p = self.doc.add_paragraph(self.t("annex", key), style=docform.HEADINGS[1])
        p.paragraph_format.page_break_before = not first
        self.para(self.t("annex", "attached"), italic=True, center=True)

    def annexes(self):
        size = self.w["document"]["size"]
        sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
        docform.page_header(sec, size, first_page_blank=False)
        self.provinces_annex()
        self.annex_title("missing_title")
        missing = self.con.missing
        if missing:
            self.para(f"{len(missing)}/{len(self.con.expected)}: " + ", ".join(p.name for p in missing) + ".")
        else:
            self.para(self.t("annex", "missing_none", expected=len(self.con.expected)))
        self.flagged_annex()
        self.proposals_annex()
        if self.excerpts:
            self.annex_title("sources_title")
            self.para(self.t("annex", "sources_lead"), italic=True, indent=False)
            self.para("; ".join(self.t("annex", "source", ref=ex.ref, province=ex.province, sheet=ex.sheet,
                                       cell=ex.cell) for ex in self.excerpts) + ".",
                      indent=False, size=self.w["document"]["table_size"])

    def provinces_annex(self):
        spec = self.con.form.spec
        self.annex_title("provinces_title", first=True)
        frames = [headline_frame(self.con, h.id, headline_dim(spec, h)).set_index("province_code")
                  for h in spec.headlines]
        total = ["", spec.national_label] + [_num(self._nat(h.id, headline_dim(spec, h))["n"]) for h in spec.headlines]
        rows = [total]
        for i, p in enumerate(self.con.expected, start=1):
            if p.code not in self.con.reporting:
                rows.append([str(i), p.name, self.t("annex", "not_reported")] + [""] * (len(frames) - 1))
            else:
                rows.append([str(i), p.name] + [_num(f.loc[p.code, "n"]) for f in frames])
        width = (297 - 30 - 15 - 8 - 34) / len(frames)
        headers = ["STT", self.t("annex", "province_header")] + [f"{h.label} ({self._unit(h)})" for h in spec.headlines]
        self.table(headers, rows, [10, 32] + [width] * len(frames), numeric_from=2, bold_rows=frozenset({0}),
                   source=True)
        if spec.national_note:
            self.para(spec.national_note, italic=True, indent=False, size=self.w["document"]["table_size"])

    def flagged_annex(self):
        self.annex_title("flagged_title")
        tidy = self.con.tidy
        found = tidy[tidy["kind"] == FINDING].sort_values(["province_code", "field_id", "text"], kind="stable")
        if found.empty:
            self.para(self.t("annex", "flagged_none"))
            return
        self.para(self.t("annex", "flagged_lead"), italic=True, indent=False)
        figs = tidy[tidy["kind"] == FIGURE].set_index(["province_code", "indicator", "dim", "year"])["value"]
        why = tidy[tidy["kind"] == EXPLANATION].set_index(["province_code", "indicator", "dim"])["text"]
        dash, rows = self.t("figures", "no_value"), []
        for r in found.itertuples():
            n, p = (figs.get((r.province_code, r.indicator, r.dim, y), pd.NA) for y in (self.year, self.year - 1))
            code, _, message = str(r.text).partition(": ")
            message = re.sub(r"^'[^']*' ", "", message).split(" Hãy ")[0]  # the cell's name; the advice to the province
            rows.append([r.province_name, r.label, r.dim_label, _num(n) or dash, _num(p) or dash,
                         f"{code}: {message}", str(why.get((r.province_code, r.indicator, r.dim),
                                                               self.t("annex", "unexplained")))])
        headers = [self._fill(h, "[annex] flagged_headers") for h in self.w["annex"]["flagged_headers"]]
        self.table(headers, rows, [30, 50, 22, 22, 22, 62, 44], numeric_from=3, numeric_to=5)
