"""The State's form of an administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I), in python-docx.

Page, fonts, heading styles restyled to the document's font (so Word's navigation pane and a table of contents
work), the heading block (issuing body, Quốc hiệu, Tiêu ngữ, number and symbol, place and date) with the short
solid lines under the body, the motto and the title, the signature block beside "Nơi nhận", page numbers
centred in the top margin on every page but the first, and the fields (PAGE, TOC) Word and LibreOffice fill in.
Only what python-docx exposes, plus the few WordprocessingML elements it has no property for (borders, fields,
a repeated table header), written through ``OxmlElement``.
"""

from __future__ import annotations

from dataclasses import dataclass

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

__all__ = ["Line", "setup", "block_table", "hline", "field", "page_header", "repeat_header", "set_cell_text",
           "HEADINGS", "text_width_mm", "add_text_run"]

HEADINGS = {1: "Heading 1", 2: "Heading 2", 3: "Heading 3", 4: "Heading 4"}


@dataclass(frozen=True)
class Line:
    """One line of a block: its text, size in points, bold, italic; ``rule_mm`` draws a solid line under it."""

    text: str
    size: float
    bold: bool = False
    italic: bool = False
    rule_mm: float = 0.0


def text_width_mm(text: str, size: float, bold: bool = False) -> float:
    """About how wide ``text`` prints in Times New Roman (an average glyph of 0.46 em, 0.49 em bold)."""
    return len(text) * size * (0.49 if bold else 0.46) * 25.4 / 72


def add_text_run(paragraph, text: str):
    """``paragraph.add_run(text)``, the same XML; text without a tab or line break (nearly all) goes in through
    ``Run.add_text``, which python-docx does not scan character by character for them."""
    if "\t" in text or "\n" in text or "\r" in text:
        return paragraph.add_run(text)
    run = paragraph.add_run()
    if text:
        run.add_text(text)
    return run


def _fonts(rpr, font: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):  # a theme font would override the named one
            del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)


def setup(doc: docx.document.Document, font: str, size: float, margins: dict) -> None:
    """A4 portrait, the margins (mm), the body style and the heading styles in ``font``, black."""
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = font, Pt(size)
    _fonts(normal.element.get_or_add_rPr(), font)
    pf = normal.paragraph_format
    pf.space_after, pf.first_line_indent, pf.line_spacing = Pt(6), Mm(10), 1.15
    for level, name in HEADINGS.items():
        st = doc.styles[name]
        st.font.name, st.font.size, st.font.bold = font, Pt(size), True
        st.font.italic = level == 4
        st.font.color.rgb = RGBColor(0, 0, 0)
        _fonts(st.element.get_or_add_rPr(), font)
        f = st.paragraph_format
        f.space_before, f.space_after, f.keep_with_next = Pt(6), Pt(6), True
        f.first_line_indent = Mm(0) if level == 1 else Mm(10)
        f.alignment = WD_ALIGN_PARAGRAPH.CENTER if level == 1 else WD_ALIGN_PARAGRAPH.JUSTIFY
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(margins["top"]), Mm(margins["bottom"])
    sec.left_margin, sec.right_margin = Mm(margins["left"]), Mm(margins["right"])


def page_header(section, size: float, first_page_blank: bool) -> None:
    """The page number centred in the top margin; on the first page of the document none (Nghị định 30)."""
    section.different_first_page_header_footer = first_page_blank
    if section.header.is_linked_to_previous and not first_page_blank:
        return  # a later section shows its predecessor's header, number included
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Mm(0)
    field(p, "PAGE", "", size)


def field(paragraph, instruction: str, shown: str = "", size: float | None = None) -> None:
    """A field (PAGE, TOC …) that Word and LibreOffice compute; ``shown`` is its text until they do."""
    def run(*children):
        r = paragraph.add_run()
        if size:
            r.font.size = Pt(size)
        for child in children:
            r.font.element.append(child)  # the run's own element (Font proxies it)

    def char(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run(char("begin"))
    run(instr)
    run(char("separate"))
    if shown:
        paragraph.add_run(shown).italic = True
    run(char("end"))


def hline(cell_or_doc, width_mm: float, avail_mm: float, space_after: float = 4):
    """A solid line ``width_mm`` long, centred in ``avail_mm``: an empty paragraph with a bottom border."""
    p = cell_or_doc.add_paragraph()
    f = p.paragraph_format
    side = max(0.0, (avail_mm - width_mm) / 2)
    f.left_indent, f.right_indent, f.first_line_indent = Mm(side), Mm(side), Mm(0)
    f.space_before, f.space_after, f.line_spacing = Pt(0), Pt(space_after), Pt(2)
    ppr = f.element.get_or_add_pPr()  # the paragraph's own element (ParagraphFormat proxies it)
    bdr, bottom = OxmlElement("w:pBdr"), OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)
    return p


def set_cell_text(cell, lines: list[Line], width_mm: float, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    """Fill ``cell`` with ``lines`` (the first replaces its empty paragraph), each followed by its rule."""
    first = True
    for line in lines:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        p.alignment = align
        f = p.paragraph_format
        f.first_line_indent, f.space_after, f.space_before, f.line_spacing = Mm(0), Pt(0), Pt(0), 1.0
        if line.text:
            r = p.add_run(line.text)
            r.bold, r.italic, r.font.size = line.bold, line.italic, Pt(line.size)
        if line.rule_mm:
            hline(cell, line.rule_mm, width_mm)


def block_table(doc, widths_mm: list[float], cells: list[list[list[Line]]], aligns=None):
    """A borderless table laying out blocks side by side (heading block, signature and "Nơi nhận")."""
    t = doc.add_table(rows=len(cells), cols=len(widths_mm))
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for col, w in zip(t.columns, widths_mm, strict=True):
        col.width = Mm(w)
    for row, blocks in zip(t.rows, cells, strict=True):
        for i, (cell, lines) in enumerate(zip(row.cells, blocks, strict=True)):
            cell.width = Mm(widths_mm[i])
            set_cell_text(cell, lines, widths_mm[i] - 4,
                          aligns[i] if aligns else WD_ALIGN_PARAGRAPH.CENTER)
    return t


def repeat_header(row) -> None:
    """The table's first row printed again at the top of each page it runs over."""
    tr = row.cells[0].paragraphs[0].paragraph_format.element.getparent().getparent()  # w:p in w:tc in w:tr
    tr_pr = tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)
