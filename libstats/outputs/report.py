"""The national report, drafted as a Word document from the tidy dataset (python-docx).

"Báo cáo tổng kết công tác thư viện năm N, phương hướng, nhiệm vụ trọng tâm năm N+1" in the State's form
(Nghị định 30/2020: libstats.outputs.docform), section by section in the outline's order (the spec's sheets
and items), parts and sections in Word's heading styles. Part I opens with the year in figures and the base of
every comparison; each table of figures sits under the outline bullet that asks for it, with its unit, its
source line and a chart of its headline indicators (libstats.outputs.report_figures). A figure a check flagged
and no one explained is "đang xác minh" (an annex), never a success. Every figure is one of the
consolidation's national or provincial figures, written the Vietnamese way; every quoted excerpt is a verbatim
piece of a province's text, numbered, with its sheet and cell in an annex. The wording lives in
``workbook_templates/bao-cao-quoc-gia.toml`` (editable without a programmer). The same dataset and wording
give the same document, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
import tomllib
import unicodedata
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from itertools import islice
from pathlib import Path

import docx
import pandas as pd
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from libstats.atomic import atomic_path, guard_outputs, require_suffix
from libstats.consolidation.consolidate import Consolidation, from_dataset, national_table
from libstats.consolidation.dataset import NARRATIVE, load_dataset
from libstats.model.form import LaidSheet
from libstats.model.spec import Spec
from libstats.outputs import docform
from libstats.outputs.docform import Line
from libstats.outputs.report_figures import Annexes, Figures, Overview, fmt_pct
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
    """The report's wording: the one shipped with libstats, with what an edited copy (``path``) says over it, so
    that a copy made for an older release still works when a release adds a sentence."""
    ref = resources.files("libstats.workbook_templates").joinpath("bao-cao-quoc-gia.toml")
    with resources.as_file(ref) as p:
        shipped = tomllib.loads(p.read_text(encoding="utf-8"))
    if path is None:
        return shipped
    try:
        return _over(shipped, tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"không đọc được tệp lời văn báo cáo {path}: {exc}") from exc


def _over(base: dict, edited: dict) -> dict:
    """``edited`` over ``base``, table by table; any other value (a sentence, a list of themes) replaced whole."""
    out = dict(base)
    for key, value in edited.items():
        out[key] = _over(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _date_parts(setting: str, year: int) -> dict:
    """Day, month, year of the report's date (Nghị định 30: day < 10 and months 1-2 with a leading 0); blank
    day and month in year N when the setting is empty."""
    if not setting:
        return {"day": "     ", "month": "     ", "date_year": year}
    try:
        d = dt.date.fromisoformat(str(setting))
    except ValueError as exc:
        raise ValueError(f"tệp lời văn báo cáo: [document] report_date = {setting!r} không phải ngày dạng "
                         "YYYY-MM-DD (ví dụ 2025-12-19)") from exc
    return {"day": f"{d.day:02d}", "month": f"{d.month:02d}" if d.month < 3 else str(d.month), "date_year": d.year}


class _StateForm:
    """The heading block, the title with its line, the table of contents, the signature and "Nơi nhận"; a
    table in the document's style."""

    def table(self, headers: list[str], rows: list[list[str]], widths_mm: list[float], numeric_from: int = 1,
              bold_rows: frozenset[int] = frozenset(), source: bool = False, numeric_to: int | None = None):
        size, widths = Pt(self.w["document"]["table_size"]), [Mm(w) for w in widths_mm]
        tab = self.doc.add_table(rows=1 + len(rows), cols=len(headers))  # every row at once, not one by one
        tab.style = "Table Grid"
        tab.alignment = WD_TABLE_ALIGNMENT.CENTER
        tab.autofit = False
        for col, w in zip(tab.columns, widths, strict=True):
            col.width = w
        numeric = range(numeric_from, numeric_to or len(headers))
        for k, (row, values) in enumerate(zip(tab.rows, [headers, *rows], strict=True)):
            bold = k == 0 or k - 1 in bold_rows
            for i, (c, v) in enumerate(zip(row.cells, values, strict=True)):
                c.width = widths[i]
                p = c.paragraphs[0]
                f = p.paragraph_format
                f.first_line_indent, f.space_after, f.line_spacing = Mm(0), Pt(0), 1.0
                if k == 0 or i in numeric:  # left, the default, is not written on each text cell
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if k == 0 else WD_ALIGN_PARAGRAPH.RIGHT
                run = docform.add_text_run(p, v)
                run.font.size = size
                if bold:  # nor is "not bold"
                    run.bold = True
        docform.repeat_header(tab.rows[0])
        if source:
            self.para(self.t("figures", "source"), italic=True, indent=False, size=self.w["document"]["table_size"])
        else:
            self.para()
        return tab

    def heading_block(self):
        who = self.issuer
        body = [Line(who["parent"], 12)] if who.get("parent") else []
        body.append(Line(who["body"], 12, bold=True, rule_mm=min(docform.text_width_mm(
            max(who["body"].split("\n"), key=len), 12, True), 64) / 3))
        motto, line = self.t("document", "motto"), self.t("document", "motto_line")
        right = [Line(motto, 12, bold=True), Line(line, 13, bold=True, rule_mm=docform.text_width_mm(line, 13, True))]
        docform.block_table(self.doc, [72, 103], [
            [body, right],
            [[Line(self.t("document", "number"), 13)], [Line(self.t("document", "place_date"), 14, italic=True)]]])
        self.para()
        title = self.t("document", "title")
        self.para(self.t("document", "kind"), bold=True, center=True).paragraph_format.space_after = Pt(0)
        p = self.para(title, bold=True, center=True)
        p.paragraph_format.space_after = Pt(0)
        docform.hline(self.doc, min(docform.text_width_mm(title, 14, True), 150) / 3, 165, space_after=12)
        self.para(self.t("document", "draft"), italic=True, center=True)
        self.para(self.t("document", "intro"))
        self.toc()

    def toc(self):
        self.para(self.t("document", "toc_title"), bold=True, center=True)
        docform.field(self.para(indent=False), 'TOC \\o "1-3" \\h \\z \\u', self.t("document", "toc_hint"))

    def closing(self):
        """The signature (right) beside "Nơi nhận" (left), under the last part."""
        who = self.issuer
        receivers = [Line(self.t("document", "receivers_title"), 12, bold=True, italic=True)]
        receivers += [Line("- " + r, 11) for r in who["receivers"]]
        sign = [Line(x, 14, bold=True) for x in (who.get("authority"), who.get("title")) if x]
        sign += [Line("", 14)] * 4 + [Line(who.get("signer", ""), 14, bold=True)]
        self.para()
        docform.block_table(self.doc, [80, 85], [[receivers, sign]],
                            aligns=[WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER])


class _Writer(_StateForm, Overview, Figures, Annexes):
    def __init__(self, con: Consolidation, w: dict, last_year: pd.DataFrame | None = None):
        self.con, self.w, self.year, self.last_year = con, w, con.year, last_year
        self.doc = docx.Document()
        self.excerpts: list[Excerpt] = []
        self.nat = national_table(con, last_year)
        self.shown_headings: set[str] = set()
        self.placed: set[str] = set()
        self.told: set[str] = set()  # tables whose figures Part I's opening already gave (the reform's fates)
        self.values = self._values()
        self.issuer = self._issuer()
        self._setup()

    # --- wording --------------------------------------------------------------------------------------
    def _values(self) -> dict:
        d = self.w.get("document", {})
        unit = self.con.form.receiving_unit
        ministry = str(d.get("issuers", {}).get("ministry", {}).get("name", ""))
        own = unit.removesuffix(", " + ministry) if ministry else unit  # a name with a comma is one name
        return {"year": self.year, "prev": self.year - 1, "next": self.year + 1,
                "reported": len(self.con.reporting), "expected": len(self.con.expected),
                "receiving_unit": unit, "unit": own, "unit_upper": own.upper(), "place": d.get("place", ""),
                **_date_parts(d.get("report_date", ""), self.year)}

    def _issuer(self) -> dict:
        d = self.w["document"]
        choice = d.get("issuer", "ministry")
        issuers = d.get("issuers", {})
        if choice not in issuers:
            raise ValueError(f"tệp lời văn báo cáo: [document] issuer = {choice!r}, cần một trong "
                             f"{', '.join(sorted(issuers))} (các mục [document.issuers.…])")
        out = {}
        for k, v in issuers[choice].items():
            out[k] = [self._fill(x, f"issuers.{choice}.{k}") for x in v] if isinstance(v, list) else \
                self._fill(str(v), f"issuers.{choice}.{k}")
        self.values |= {"symbol": out.get("symbol", ""), "name": out.get("name", "")}
        return out

    def _fill(self, template: str, where: str, /, **kw) -> str:
        try:
            return _nfc(template.format(**(self.values | kw)))
        except KeyError as exc:
            raise ValueError(f"tệp lời văn báo cáo: câu {where} có chỗ trống không có {exc}") from exc
        except (IndexError, ValueError, AttributeError) as exc:  # "{0}", "{x:y}", "{a.b}" typed by an editor
            raise ValueError(f"tệp lời văn báo cáo: câu {where} có chỗ trống không hợp lệ ({exc}); "
                             "chỉ dùng các chỗ trống có tên như {{year}}, {{label}}") from exc

    def t(self, part: str, key: str, **kw) -> str:
        try:
            text = str(self.w[part][key])
        except KeyError as exc:
            raise ValueError(f"tệp lời văn báo cáo: thiếu [{part}] {key}") from exc
        return self._fill(text, f"[{part}] {key}", **kw)

    # --- layout ---------------------------------------------------------------------------------------
    def _setup(self):
        d = self.w["document"]
        docform.setup(self.doc, d["font"], d["size"], d["margins_mm"])
        docform.page_header(self.doc.sections[0], d["size"], first_page_blank=True)
        props = self.doc.core_properties
        props.title = self.t("document", "title")
        props.author = "libstats"
        props.created = props.modified = dt.datetime(self.year, 12, 1)
        props.last_modified_by, props.revision = "libstats", 1

    def para(self, text: str = "", bold=False, italic=False, center=False, indent=True, size: float | None = None):
        p = self.doc.add_paragraph()
        if center or not indent:
            p.paragraph_format.first_line_indent = Mm(0)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.JUSTIFY
        if text:
            run = docform.add_text_run(p, text)
            if bold:  # the body text's default is upright and not bold: only the exceptions are written
                run.bold = True
            if italic:
                run.italic = True
            if size:
                run.font.size = Pt(size)
        return p

    def heading(self, text: str, level: int) -> None:
        """A part or section in Word's heading style, once: a heading already written is not repeated."""
        if text in self.shown_headings:
            return
        self.shown_headings.add(text)
        self.doc.add_paragraph(text, style=docform.HEADINGS[level])

    def outline_heading(self, text: str, level: int) -> None:
        """An outline item's own line: I./II. (level 1), 2.1./3.1. (2), a)/b) (3) as headings; a bullet bold
        italic."""
        if level in (1, 2, 3):
            self.heading(text, level + 1)
        else:
            self.para(text, bold=True, italic=True, indent=False)

    # --- parts ----------------------------------------------------------------------------------------
    def outline(self):
        part = None
        sheets = [s for s in self.con.form.sheets if s.spec.kind != "cover"]
        for sheet in sheets:
            if sheet.part != part:
                part = sheet.part
                self.heading(f"{part.upper()}\n{sheet.part_title}", 1)
                self.shown_headings.add(sheet.part_title)
                if sheets.index(sheet) == 0:
                    self.year_in_figures()
            if sheet.tables:
                unplaced = [t for t in sheet.tables if t.id not in self.placements()]
                if unplaced:
                    self.heading(sheet.part_title, 3)
                for table in unplaced:
                    self.render_table(table)
                continue
            if sheet.part_title and sheet.items and sheet.items[0].item.level != 1:
                self.heading(sheet.part_title, 2)
            self.narratives(sheet)

    # --- narratives: a synthesis per bullet, the proposals (_Narratives) -----------------------------------
    def _syn(self) -> _Narratives:
        if "syn" not in self.__dict__:  # made once, on the first narrative sheet: it holds what was quoted
            self.syn = _Narratives(self)
        return self.syn

    def narratives(self, sheet: LaidSheet):
        syn = self._syn()
        for it in sheet.items:
            if it.item.kind == "heading":
                self.outline_heading(it.text, it.item.level)
            elif it.field is not None:
                self.outline_heading(it.text, it.item.level)
                if it.field.id == self.w["narratives"]["proposal_field"]:
                    syn.proposals_part()
                else:
                    syn.digest(it.field.id)
                self.after_bullet(it.field.id)

    def proposals_annex(self):
        self._syn().annex()

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
        kinds = n["kinds"]  # an "_all" form may be empty: when every province did, it goes without saying
        phrase = kinds.get(f"{key}_all", kinds.get(key, "")) if count == reported else kinds.get(key, "")
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
        shown = list(islice((g for g in groups if not quoted(g.key, self.used)), int(w["per_theme"])))  # lazily
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
        self.out.annex_title("proposals_title")
        rows = [[str(i), p.sentence.province, p.sentence.text, _nfc(w["short"][p.addressee]), p.theme,
                 self.t("proposals", "source", sheet=p.sentence.sheet, cell=p.sentence.cell), ""]
                for i, p in enumerate(props, start=1)]
        self.table([_nfc(h) for h in w["annex_headers"]], rows, [12, 28, 92, 22, 30, 34, 34], numeric_from=99)



def _excerpt(text: str, limit: int) -> tuple[str, bool]:
    """``text`` whole, or cut at a space before ``limit`` characters; True when it was cut short."""
    if len(text) <= limit:
        return text, False
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:"), True


def _deterministic(blob: bytes) -> bytes:
    """The .docx with every zip entry dated 1980-01-01, so the same inputs give the same bytes."""
    src, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()



def build_report(dataset: Path, output: Path, spec: Spec | None = None, wording: Path | None = None,
                 previous: Path | None = None) -> ReportResult:
    """Draft the national report from a dataset written by ``consolidate`` (and, with ``previous``, last
    year's dataset: the former district libraries' part and last year's published totals); write it
    atomically, never over an input nor under another name than .docx."""
    require_suffix(output, ".docx", "dự thảo báo cáo", "bao-cao-tong-ket-2025.docx")
    guard_outputs([p for p in (dataset, previous, wording) if p is not None], [output])
    df = load_dataset(dataset, texts=True)
    if "kind" not in df:
        raise ValueError(f"{dataset}: bộ dữ liệu chỉ có số liệu (bản đã chuyển danh mục bằng lệnh rebase, hoặc ghi "
                         "bằng phiên bản libstats cũ), không có thuyết minh của các tỉnh; hãy dùng bộ dữ liệu do "
                         "libstats consolidate ghi")
    con = from_dataset(df, spec)
    last_year = load_dataset(previous, con.form.spec, con.year - 1) if previous is not None else None
    w = _Writer(con, load_wording(wording), last_year)
    w.heading_block()
    w.outline()
    w.closing()
    w.annexes()
    buf = io.BytesIO()
    w.doc.save(buf)
    with atomic_path(output) as tmp:
        tmp.write_bytes(_deterministic(buf.getvalue()))
    return ReportResult(output, con.year, len(con.reporting), len(con.expected), [p.name for p in con.missing],
                        w.excerpts)
