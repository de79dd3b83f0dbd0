"""The national report, drafted as a Word document from the tidy dataset (python-docx).

"Báo cáo tổng kết công tác thư viện năm N, phương hướng, nhiệm vụ trọng tâm năm N+1", laid out as a Vietnamese
administrative report (Nghị định 30/2020: A4, Times New Roman, the national motto block, page numbers), section
by section in the outline's order (the spec's sheets and items). Every figure is one of the consolidation's
national or provincial figures (``consolidate.national_table``/``headline_frame`` over the dataset), written
the Vietnamese way; every quoted excerpt is a verbatim piece of a province's text, numbered, with its file,
sheet and cell in an annex. The wording lives in ``workbook_templates/bao-cao-quoc-gia.toml`` (editable without
a programmer). The same dataset and wording give the same document, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
import tomllib
import unicodedata
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import docx
import pandas as pd
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from libstats.atomic import atomic_path
from libstats.consolidation.consolidate import Consolidation, from_dataset, headline_dim, headline_frame, national_table
from libstats.consolidation.dataset import NARRATIVE, load_dataset
from libstats.model.findings import fmt_number
from libstats.model.form import LaidSheet
from libstats.model.spec import Spec
from libstats.outputs.synthesis import (ACHIEVEMENT, ADDRESSEES, DIFFICULTY, GENERAL, MODEL, PLAN, Group, Sentence,
                                        group_similar, near_key, proposals_of, quoted, sentences_of, synthesize)

__all__ = ["Excerpt", "ReportResult", "build_report", "load_wording", "fmt_pct"]


@dataclass(frozen=True)
class Excerpt:
    ref: int
    province: str
    text: str
    source_file: str
    sheet: str
    cell: str
    field_id: str


@dataclass
class ReportResult:
    path: Path
    year: int
    reported: int
    expected: int
    missing: list[str]
    excerpts: list[Excerpt] = field(default_factory=list)


def load_wording(path: Path | None = None) -> dict:
    """The report's wording (default: the one shipped with libstats)."""
    if path is None:
        ref = resources.files("libstats.workbook_templates").joinpath("bao-cao-quoc-gia.toml")
        with resources.as_file(ref) as p:
            return tomllib.loads(p.read_text(encoding="utf-8"))
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"không đọc được tệp lời văn báo cáo {path}: {exc}") from exc


def fmt_pct(pct: float) -> str:
    """7.1 → '7,1' (one decimal, Vietnamese comma; the sign is said in words)."""
    return f"{abs(pct):.1f}".replace(".", ",")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class _Writer:
    def __init__(self, con: Consolidation, w: dict):
        self.con, self.w, self.year = con, w, con.year
        self.doc = docx.Document()
        self.excerpts: list[Excerpt] = []
        self.nat = national_table(con)
        self._setup()

    # --- wording --------------------------------------------------------------------------------------
    def t(self, part: str, key: str, **kw) -> str:
        unit = self.con.form.receiving_unit
        values = {"year": self.year, "prev": self.year - 1, "next": self.year + 1,
                  "reported": len(self.con.reporting), "expected": len(self.con.expected),
                  "receiving_unit": unit, "receiving_unit_upper": unit.split(",")[0].upper(), **kw}
        try:
            return _nfc(str(self.w[part][key]).format(**values))
        except KeyError as exc:
            raise ValueError(f"tệp lời văn báo cáo: thiếu [{part}] {key} hoặc chỗ trống {exc}") from exc
        except (IndexError, ValueError, AttributeError) as exc:  # "{0}", "{x:y}", "{a.b}" typed by an editor
            raise ValueError(f"tệp lời văn báo cáo: câu [{part}] {key} có chỗ trống không hợp lệ ({exc}); "
                             "chỉ dùng các chỗ trống có tên như {{year}}, {{label}}") from exc

    # --- layout ---------------------------------------------------------------------------------------
    def _setup(self):
        d = self.w["document"]
        style = self.doc.styles["Normal"]
        style.font.name, style.font.size = d["font"], Pt(d["size"])
        style.element.rPr.rFonts.set(qn("w:eastAsia"), d["font"])
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.first_line_indent = Mm(10)
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        m = d["margins_mm"]
        sec.top_margin, sec.bottom_margin = Mm(m["top"]), Mm(m["bottom"])
        sec.left_margin, sec.right_margin = Mm(m["left"]), Mm(m["right"])
        header = sec.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
        header.paragraph_format.first_line_indent = Mm(0)
        _page_field(header)
        sec.different_first_page_header_footer = True  # no number on the first page (Nghị định 30)
        props = self.doc.core_properties
        props.title = self.t("document", "title")
        props.author = "libstats"
        props.created = props.modified = dt.datetime(self.year + 1, 1, 1)
        props.last_modified_by, props.revision = "libstats", 1

    def para(self, text: str = "", bold=False, italic=False, center=False, indent=True, size: float | None = None):
        p = self.doc.add_paragraph()
        if center or not indent:
            p.paragraph_format.first_line_indent = Mm(0)
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if text:
            run = p.add_run(text)
            run.bold, run.italic = bold, italic
            if size:
                run.font.size = Pt(size)
        return p

    def table(self, headers: list[str], rows: list[list[str]], widths_mm: list[float], numeric_from: int = 1):
        size = Pt(self.w["document"]["table_size"])
        tab = self.doc.add_table(rows=1, cols=len(headers))
        tab.style = "Table Grid"
        tab.alignment = WD_TABLE_ALIGNMENT.CENTER
        tab.autofit = False
        for col, w in zip(tab.columns, widths_mm, strict=True):
            col.width = Mm(w)
        for row_cells, values, bold in [(tab.rows[0].cells, headers, True)] + [
                (tab.add_row().cells, r, False) for r in rows]:
            for i, (c, v) in enumerate(zip(row_cells, values, strict=True)):
                c.width = Mm(widths_mm[i])
                p = c.paragraphs[0]
                p.paragraph_format.first_line_indent = Mm(0)
                p.paragraph_format.space_after = Pt(0)
                p.alignment = (WD_ALIGN_PARAGRAPH.CENTER if bold else
                               WD_ALIGN_PARAGRAPH.RIGHT if i >= numeric_from else WD_ALIGN_PARAGRAPH.LEFT)
                run = p.add_run(v)
                run.bold, run.font.size = bold, size
        _repeat_header(tab.rows[0])
        self.para()
        return tab

    # --- parts ----------------------------------------------------------------------------------------
    def heading_block(self):
        t = self.doc.add_table(rows=1, cols=2)
        t.autofit = False
        left, right = t.rows[0].cells
        left.width, right.width = Mm(72), Mm(93)
        t.columns[0].width, t.columns[1].width = Mm(72), Mm(93)
        for cell, lines in ((left, [("issuer_parent", False), ("issuer", True), ("number", False)]),
                            (right, [("motto", True), ("motto_line", True), ("place_date", None)])):
            cell.paragraphs[0].text = ""
            for i, (key, bold) in enumerate(lines):
                p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                p.paragraph_format.first_line_indent = Mm(0)
                p.paragraph_format.space_after = Pt(2)
                run = p.add_run(self.t("document", key))
                run.bold, run.italic = bool(bold), bold is None
                run.font.size = Pt(12 if key in ("issuer_parent", "motto") else 13)
        self.para()
        self.para(self.t("document", "kind"), bold=True, center=True)
        self.para(self.t("document", "title"), bold=True, center=True)
        self.para(self.t("document", "draft"), italic=True, center=True)
        self.para(self.t("document", "intro"))

    def outline(self):
        part = title = None
        for sheet in self.con.form.sheets:
            if sheet.spec.kind == "cover":
                continue
            if sheet.part != part:
                part = sheet.part
                self.para(part.upper(), bold=True, center=True)
            if sheet.part_title != title:
                title = sheet.part_title
                self.para(title, bold=True, indent=False)
            if sheet.tables:
                self.figures(sheet)
            else:
                self.narratives(sheet)

    def figures(self, sheet: LaidSheet):
        spec = self.con.form.spec
        for table in sheet.tables:
            self.para(table.title, bold=True, indent=False)
            indicators = list(dict.fromkeys(r.indicator for r in table.rows))
            compact = []
            for ind in indicators:
                rows = [r for r in table.rows if r.indicator == ind]
                shown = [r for r in rows if r.is_total] or rows
                for r in shown:  # several rows of one indicator, none a total: each says which it is
                    label = r.label if len(shown) == 1 else f"{r.label} ({r.dim_label})"
                    self.para(self.sentence(ind, r.dim, label, r.unit))
                if len(rows) > 1:
                    compact.append((rows[0].label, rows))
            for h in spec.headlines:
                if h.sum[0] in indicators and list(h.sum) != [h.id]:
                    unit = spec.indicators[h.sum[0]].unit
                    self.para(self.sentence(h.id, headline_dim(spec, h), h.label, unit))
            if compact:
                self.compact_table(compact)
            for h in spec.headlines:
                if h.sum[0] in indicators:
                    self.stand_out(h)

    def _nat(self, ind: str, dim: str) -> pd.Series:
        return self.nat[(self.nat["indicator"] == ind) & (self.nat["dim"] == dim)].iloc[0]

    def sentence(self, ind: str, dim: str, label: str, unit: str) -> str:
        r = self._nat(ind, dim)
        if pd.isna(r["n"]):
            return self.t("figures", "no_figure", label=label)
        n = int(r["n"])
        approx = (self.t("figures", "approx_million", value=f"{n / 1e6:.1f}".replace(".", ","), unit=unit)
                  if n >= 1_000_000 else "")
        if r["note"]:
            change = self.t("figures", "not_comparable", note=r["note"].rstrip("."))
        elif pd.isna(r["p"]):
            change = self.t("figures", "no_previous")
        elif int(r["diff"]) == 0:
            change = self.t("figures", "same")
        elif pd.isna(r["pct"]):  # last year 0: a rise without a percentage
            change = self.t("figures", "from_zero", diff=fmt_number(abs(int(r["diff"]))), unit=unit)
        else:
            key = "rise" if int(r["diff"]) > 0 else "fall"
            change = self.t("figures", key, diff=fmt_number(abs(int(r["diff"]))), unit=unit, pct=fmt_pct(r["pct"]))
        expected = len(self.con.expected)
        coverage = (self.t("figures", "coverage", count=int(r["provinces_n"]), expected=expected)
                    if int(r["provinces_n"]) < expected else "")
        return self.t("figures", "sentence", label=label, n=fmt_number(n), unit=unit, approx=approx,
                      change=change, coverage=coverage)

    def compact_table(self, groups):
        """One table of the indicators given by level: N, N-1, change, %, the national figures."""
        self.para(self.t("figures", "table_title"), italic=True, indent=False)
        headers = [_nfc(h.format(year=self.year, prev=self.year - 1)) for h in self.w["figures"]["table_headers"]]
        body = []
        for label, rows in groups:
            for i, r in enumerate(rows):
                x = self._nat(r.indicator, r.dim)
                body.append([label if i == 0 else "", r.dim_label, _num(x["n"]), _num(x["p"]), _signed(x["diff"]),
                             "" if pd.isna(x["pct"]) else f"{x['pct']:+.1f}".replace(".", ",").replace("-", "−")])
        self.table(headers, body, [50, 25, 27, 27, 22, 14], numeric_from=2)
        if self.con.form.spec.national_note:
            self.para(self.con.form.spec.national_note, italic=True, indent=False)

    def stand_out(self, h):
        spec, k = self.con.form.spec, int(self.w["figures"]["how_many"])
        df = headline_frame(self.con, h.id, headline_dim(spec, h))
        have = df[df["n"].notna()]
        if have.empty:
            return
        top = have.sort_values(["n", "province_code"], ascending=[False, True]).head(k)
        moved = df[df["pct"].notna()]
        rises = moved[moved["pct"] > 0].sort_values(["pct", "province_code"], ascending=[False, True]).head(k)
        falls = moved[moved["pct"] < 0].sort_values(["pct", "province_code"]).head(k)
        parts = [self.t("figures", "highest", list=", ".join(
            self.t("figures", "item", province=r.province_name, value=fmt_number(int(r.n))) for r in top.itertuples()))]
        for key, sel in (("rises", rises), ("falls", falls)):
            if len(sel):
                parts.append(self.t("figures", key, list=", ".join(self.t(
                    "figures", "item", province=r.province_name,
                    value=f"{r.pct:+.1f}%".replace(".", ",").replace("-", "−"))
                    for r in sel.itertuples())))
        self.para(self.t("figures", "stand_out", label_lower=h.label[0].lower() + h.label[1:]) + " "
                  + "; ".join(parts) + ".")

    # --- narratives: a synthesis per bullet, the proposals (_Narratives) -----------------------------------
    def _syn(self) -> _Narratives:
        if "syn" not in self.__dict__:  # made once, on the first narrative sheet: it holds what was quoted
            self.syn = _Narratives(self)
        return self.syn

    def narratives(self, sheet: LaidSheet):
        syn = self._syn()
        for it in sheet.items:
            if it.item.kind == "heading":
                self.para(it.text, bold=it.item.level in (1, 2), italic=it.item.level == 3, indent=False)
            elif it.field is not None:
                self.para(it.text, bold=True, italic=True, indent=False)
                if it.field.id == self.w["narratives"]["proposal_field"]:
                    syn.proposals_part()
                else:
                    syn.digest(it.field.id)

    def proposals_annex(self):
        self._syn().annex()

    def annexes(self):
        sec = self.doc.add_section(WD_SECTION.NEW_PAGE)
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
        spec = self.con.form.spec
        self.para(self.t("annex", "provinces_title"), bold=True, center=True)
        frames = [headline_frame(self.con, h.id, headline_dim(spec, h)).set_index("province_code")
                  for h in spec.headlines]
        rows = []
        for i, p in enumerate(self.con.expected, start=1):
            if p.code not in self.con.reporting:
                rows.append([str(i), p.name, self.t("annex", "not_reported")] + [""] * (len(frames) - 1))
            else:
                rows.append([str(i), p.name] + [_num(f.loc[p.code, "n"]) for f in frames])
        total = ["", spec.national_label] + [_num(self._nat(h.id, headline_dim(spec, h))["n"]) for h in spec.headlines]
        width = (297 - 30 - 15 - 8 - 34) / len(frames)
        self.table(["STT", self.t("annex", "province_header")] + [h.label for h in spec.headlines], rows + [total],
                   [8, 34] + [width] * len(frames), numeric_from=2)
        if spec.national_note:
            self.para(spec.national_note, italic=True, indent=False)
        self.para(self.t("annex", "missing_title"), bold=True, center=True)
        missing = self.con.missing
        if missing:
            self.para(f"{len(missing)}/{len(self.con.expected)}: " + ", ".join(p.name for p in missing) + ".")
        else:
            self.para(self.t("annex", "missing_none", expected=len(self.con.expected)))
        if self.excerpts:
            self.para(self.t("annex", "sources_title"), bold=True, center=True)
            for ex in self.excerpts:
                self.para(self.t("annex", "source", ref=ex.ref, province=ex.province, file=ex.source_file,
                                 sheet=ex.sheet, cell=ex.cell), indent=False, size=self.w["document"]["table_size"])


class _Narratives:
    """The report's narrative parts, drawn by ``_Writer``: per bullet a synthesis of the provinces' sentences
    (``outputs.synthesis``), the proposals of Part Two IV and their annex; it remembers what was quoted, so no
    sentence is quoted twice in one report."""

    def __init__(self, out: _Writer):
        self.out, self.para, self.t, self.table = out, out.para, out.t, out.table
        texts = out.con.tidy
        self.texts = texts[texts["kind"] == NARRATIVE] if "kind" in texts else texts.iloc[0:0]
        self.sentences = sentences_of(self.texts.sort_values("province_code", kind="stable"), out.year)
        self.register = proposals_of(self.texts, out.w["proposals"]["themes"], out.year)
        self.used: set[str] = set()
        self.seen_kinds: set[str] = set()

    def _role(self, field_id: str) -> tuple[str, tuple[str, ...], list[str]]:
        """What a bullet quotes (the intro's key and the kinds, best first) and the kinds its paragraph counts."""
        n = self.out.w["narratives"]
        if field_id in n["difficulty_fields"]:
            return "difficulty", (DIFFICULTY,), ["difficulty", "proposal"]
        if field_id in n["plan_fields"]:
            return "plan", (PLAN,), ["plan", "proposal"]
        if field_id in n["opinion_fields"]:
            return "opinion", (GENERAL, ACHIEVEMENT, MODEL), ["proposal"]
        return "achievement", (ACHIEVEMENT, MODEL), ["achievement", "model", "difficulty_elsewhere", "proposal"]

    def digest(self, field_id: str):
        """One bullet: how many provinces reported what, the sentence many wrote alike, the best examples in the
        provinces' own words, the placeholder for the Ministry's judgement."""
        n = self.out.w["narratives"]
        everything = self.sentences
        own = [s for s in everything if s.field_id == field_id]
        if field_id == n["difficulty_pool"]:
            quiet = set(n["difficulty_fields"]) | set(n["plan_fields"]) | set(n["opinion_fields"])
            own += [s for s in everything if s.kind == DIFFICULTY and s.field_id not in quiet]
        if not own:
            self.para(self.t("narratives", "none"))
            return
        intro, wanted, counted = self._role(field_id)
        syn = synthesize(own, wanted, self.used, int(n["examples"]), int(n["common_min"]))
        reported = len(self.out.con.reporting)
        kinds = [k for k in (self.t_kind(k, syn.kinds.get(k.removesuffix("_elsewhere"), 0), reported)
                             for k in counted) if k]
        if kinds and syn.provinces < reported:
            self.para(self.t("narratives", "count_some", count=syn.provinces) + ": " + "; ".join(kinds) + ".")
        elif kinds:
            self.para(kinds[0][0].upper() + "; ".join(kinds)[1:] + ".")
        elif intro == "achievement" and not syn.examples and not syn.common:
            self.para(self.t("narratives", "only_general", count=syn.provinces))
        elif syn.provinces < reported:
            self.para(self.t("narratives", "count_some", count=syn.provinces) + ".")
        for g in syn.common:
            text, ellipsis, ref = self._quote(g.quote)
            self.para(self.t("narratives", "common", count=g.count, province=g.quote.province, text=text,
                             ellipsis=ellipsis, ref=ref))
        if syn.examples:
            self.para(_nfc(self.out.w["narratives"]["intro"][intro]), italic=True)
        for g in syn.examples:
            text, ellipsis, ref = self._quote(g.quote)
            similar = self.t("narratives", "similar", count=g.count - 1) if g.count > 1 else ""
            self.para(self.t("narratives", "example", province=g.quote.province, text=text, ellipsis=ellipsis,
                             ref=ref, similar=similar))
        self.para(self.t("narratives", "placeholder"), italic=True)

    def t_kind(self, key: str, count: int, reported: int) -> str:
        """A kind's count ("15 tỉnh nêu khó khăn"), its "_all" form when every province did, and the first time
        it is said, where it is gathered."""
        n = self.out.w["narratives"]
        phrase = n["kinds"].get(f"{key}_all" if count == reported else key) or n["kinds"].get(key, "")
        if not count or not phrase:
            return ""
        see = "" if key in self.seen_kinds else n.get("see", {}).get(key, "")
        self.seen_kinds.add(key)
        return _nfc(phrase.format(n=count) + see)

    def _quote(self, s: Sentence) -> tuple[str, str, int]:
        """A sentence to print in quotes: cut at a space before the limit (with an ellipsis), numbered, its
        source kept for the annex."""
        text, cut = _excerpt(s.text, int(self.out.w["narratives"]["excerpt_max_chars"]))
        ex = Excerpt(len(self.out.excerpts) + 1, s.province, text, s.source_file, s.sheet, s.cell, s.field_id)
        self.out.excerpts.append(ex)
        self.used.add(near_key(s.text))
        return text, "…" if cut else "", ex.ref

    def proposals_part(self):
        """Part Two IV: the proposals by addressee, then theme (most provinces first), near-identical ones
        quoted once with the provinces that wrote them."""
        props, w = self.register, self.out.w["proposals"]
        if not props:
            self.para(self.t("proposals", "none"))
            return
        count = len({p.sentence.province_code for p in props})
        provinces = self.t("proposals", "provinces_all" if count == len(self.out.con.reporting) else "provinces_some",
                           count=count)
        self.para(self.t("proposals", "intro", n=len(props), provinces=provinces, annex=w["annex_name"]))
        letters = iter("abcdefgh")
        for who in ADDRESSEES:
            mine = [p for p in props if p.addressee == who]
            if not mine:
                continue
            self.para(self.t("proposals", "addressee", letter=next(letters), who=w["who"][who], n=len(mine),
                             count=len({p.sentence.province_code for p in mine})), bold=True, italic=True,
                      indent=False)
            themes = {}
            for p in mine:
                themes.setdefault(p.theme, []).append(p.sentence)
            for theme, sents in sorted(themes.items(), key=lambda t: -len({s.province_code for s in t[1]})):
                self.para(self.t("proposals", "theme", theme=theme, count=len({s.province_code for s in sents})))
                self._proposal_items(group_similar(sents))
        self.para(self.t("narratives", "placeholder"), italic=True)

    def _proposal_items(self, groups: list[Group]):
        w = self.out.w["proposals"]
        groups = sorted(groups, key=lambda g: (-g.count, g.quote.province_code))
        shown = [g for g in groups if not quoted(g.key, self.used)][: int(w["per_theme"])]
        for g in shown:
            names = [s.province for s in g.sentences]
            k = int(w["names"])
            who = ", ".join(names) if len(names) <= k + 1 else self.t(
                "proposals", "provinces_more", names=", ".join(names[:k]), more=len(names) - k)
            text, ellipsis, ref = self._quote(g.quote)
            self.para(self.t("proposals", "item", text=text, ellipsis=ellipsis, ref=ref, provinces=who))
        if len(groups) > len(shown):
            self.para(self.t("proposals", "rest", n=len(groups) - len(shown), annex=w["annex_name"]))

    def annex(self):
        """The register in full: every proposal with its province, addressee, theme and cell, and an empty
        column for the Ministry's answer."""
        props, w = self.register, self.out.w["proposals"]
        if not props:
            return
        self.out.doc.add_page_break()
        self.para(self.t("proposals", "annex_title"), bold=True, center=True)
        self.para(self.t("proposals", "annex_line"), italic=True, center=True)
        rows = [[str(i), p.sentence.province, p.sentence.text, _nfc(w["short"][p.addressee]), p.theme,
                 self.t("proposals", "source", sheet=p.sentence.sheet, cell=p.sentence.cell), ""]
                for i, p in enumerate(props, start=1)]
        self.table([_nfc(h) for h in w["annex_headers"]], rows, [12, 28, 92, 22, 30, 34, 34], numeric_from=99)


def _num(v) -> str:
    return "" if v is None or pd.isna(v) else fmt_number(int(v))


def _signed(v) -> str:
    if v is None or pd.isna(v):
        return ""
    return ("+" if int(v) > 0 else "−" if int(v) < 0 else "") + fmt_number(abs(int(v)))  # − : U+2212


def _excerpt(text: str, limit: int) -> tuple[str, bool]:
    """``text`` whole, or cut at a space before ``limit`` characters; True when it was cut short."""
    if len(text) <= limit:
        return text, False
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:"), True


def _page_field(paragraph):
    """A PAGE field (the page number Word and LibreOffice fill in)."""
    run = paragraph.add_run()
    for tag, attr in (("w:fldChar", {"w:fldCharType": "begin"}), ("w:instrText", None),
                      ("w:fldChar", {"w:fldCharType": "end"})):
        el = OxmlElement(tag)
        if attr:
            for k, v in attr.items():
                el.set(qn(k), v)
        else:
            el.set(qn("xml:space"), "preserve")
            el.text = "PAGE"
        run._r.append(el)


def _repeat_header(row):
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _deterministic(blob: bytes) -> bytes:
    """The .docx with every zip entry dated 1980-01-01, so the same inputs give the same bytes."""
    src, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def build_report(dataset: Path, output: Path, spec: Spec | None = None, wording: Path | None = None
                 ) -> ReportResult:
    """Draft the national report from a dataset written by ``consolidate``; write it atomically."""
    df = load_dataset(dataset, texts=True)
    if "kind" not in df:
        raise ValueError(f"{dataset}: bộ dữ liệu chỉ có số liệu (bản đã chuyển danh mục bằng lệnh rebase, hoặc ghi "
                         "bằng phiên bản libstats cũ), không có thuyết minh của các tỉnh; hãy dùng bộ dữ liệu do "
                         "libstats consolidate ghi")
    con = from_dataset(df, spec)
    w = _Writer(con, load_wording(wording))
    w.heading_block()
    w.outline()
    w.annexes()
    w.proposals_annex()
    buf = io.BytesIO()
    w.doc.save(buf)
    with atomic_path(output) as tmp:
        tmp.write_bytes(_deterministic(buf.getvalue()))
    return ReportResult(output, con.year, len(con.reporting), len(con.expected), [p.name for p in con.missing],
                        w.excerpts)
