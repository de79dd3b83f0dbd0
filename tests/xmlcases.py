"""Small .xlsx files built by code, each one way of writing the XML of cell B2 of sheet 'S'.

Each case names the value LibreOffice 7.4 shows in B2 (measured: tests/test_libreoffice_reader.py converts
every case with headless LibreOffice and compares), or ``REFUSED`` when libstats must refuse the file with a
finding instead (LibreOffice shows something libstats cannot honestly take, or nothing at all).
tests/test_reader_differential.py reads each case with the fast path and with the full XML parser and
asserts both give this value.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REFUSED = "refused"
CELL = ("S", "B2")

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
       '</workbook>')
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def sheet(body: str, head: str = _HEAD, root: str = f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">',
          end: str = "</worksheet>") -> str:
    return f"{head}{root}<sheetData>{body}</sheetData>{end}"


def row2(cells: str) -> str:
    return f'<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2">{cells}</row>'


def shared(*items: str) -> str:
    body = "".join(items)
    return (f'{_HEAD}<sst xmlns="{MAIN}" count="{len(items)}" uniqueCount="{len(items)}">{body}</sst>')


def build(sheet_xml: str, strings: str | None = None, workbook: str = _WB, custom: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", workbook)
        if custom is not None:
            z.writestr("docProps/custom.xml", custom)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        z.writestr("xl/sharedStrings.xml", strings or shared("<si><t>x</t></si>"))
    return buf.getvalue()


def outcome(data: bytes, fast: bool):
    """What the reader makes of S!B2: a value, None (empty), or ('refused'|'invalid', detail)."""
    from libstats.intake.xlsx import XlsxError, open_xlsx, read_cells
    try:
        wb = open_xlsx(data, fast=fast)
        cell = read_cells(wb, {CELL[0]: {CELL[1]}}).get(CELL)
    except XlsxError as exc:
        return ("refused", exc.code)
    if cell is None:
        return None
    if cell.invalid is not None:
        return ("invalid", cell.invalid)
    return cell.error or cell.value


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    shown: object  # what LibreOffice shows in S!B2: float, str, None (empty), or REFUSED


def _v(raw: str, t: str = "") -> str:
    return row2(f'<c r="B2"{t}><v>{raw}</v></c>')


# (name, the text of <v>, what LibreOffice shows): number forms in <v>
NUMBERS = [
    ("int", "5", 5.0), ("exp_upper", "1E3", 1000.0), ("neg_zero", "-0", 0.0), ("spaced", " 5 ", 5.0),
    ("decimal_zero", "5.0", 5.0), ("subnormal", "1e-320", 1e-320), ("plus", "+5", 5.0), ("dot_lead", ".5", 0.5),
    ("dot_trail", "5.", 5.0), ("nan", "NaN", REFUSED), ("inf", "INF", REFUSED), ("underscore", "5_78", REFUSED),
    ("arabic_indic", "٥٧٨", REFUSED), ("hex", "0x10", REFUSED), ("comma", "1,5", REFUSED),
    ("overflow", "1e400", REFUSED), ("empty_v", "", None), ("fullwidth", "５", REFUSED),
]


def cases() -> list[Case]:
    out = [Case(f"number_{name}", build(sheet(_v(raw))), shown) for name, raw, shown in NUMBERS]
    text = shared("<si><t>x</t></si>", "<si><r><t>Hà </t></r><r><rPr><b/></rPr><t>Nội</t></r></si>",
                  '<si><t>Huế</t><rPh sb="0" eb="1"><t>ふりがな</t></rPh></si>')
    out += [
        Case("plain", build(sheet(_v("5"))), 5.0),
        Case("comment_cell_before", build(sheet(row2('<!-- <c r="B2"><v>1005</v></c> --><c r="B2"><v>5</v></c>'))),
             5.0),
        Case("comment_only", build(sheet(row2('<!--<c r="B2"><v>7</v></c>-->'))), None),
        Case("comment_in_value", build(sheet(_v("5<!-- 1000 -->"))), 5.0),
        Case("cdata_value", build(sheet(_v("<![CDATA[5]]>"))), 5.0),
        Case("cdata_hides_cell", build(sheet(row2('<c r="B3"><v>1</v></c><![CDATA[<c r="B2"><v>9</v></c>]]>'))),
             None),
        Case("pi_hides_cell", build(sheet(row2('<?x <c r="B2"><v>9</v></c> ?><c r="B2"><v>5</v></c>'))), 5.0),
        Case("char_ref", build(sheet(_v("&#53;&#x30;"))), 50.0),
        Case("dtd_entity", build(sheet(_v("&n;"), head=_HEAD + '<!DOCTYPE worksheet [<!ENTITY n "5">]>')), REFUSED),
        Case("dtd_only", build(sheet(_v("5"), head=_HEAD + "<!DOCTYPE worksheet>")), REFUSED),
        Case("prefixed_root", build(sheet(row2('<x:c r="B2"><x:v>5</x:v></x:c>').replace("<row", "<x:row")
                                          .replace("</row", "</x:row").replace('<c r="A1" t="s"><v>0</v></c>',
                                                                              '<x:c r="A1" t="s"><x:v>0</x:v></x:c>'),
                                          root=f'<x:worksheet xmlns:x="{MAIN}">', end="</x:worksheet>")
                             .replace("<sheetData>", "<x:sheetData>").replace("</sheetData>", "</x:sheetData>")),
             5.0),
        Case("prefixed_cell", build(sheet(row2(f'<x:c xmlns:x="{MAIN}" r="B2"><x:v>5</x:v></x:c>'))), 5.0),
        Case("foreign_ns_cell", build(sheet(row2('<c xmlns="urn:other" r="B2"><v>9</v></c>'))), None),
        Case("space_before_r", build(sheet(row2('<c  r="B2" ><v>5</v></c>'))), 5.0),
        Case("newline_before_r", build(sheet(row2('<c\nr="B2"><v>5</v></c>'))), 5.0),
        Case("single_quotes", build(sheet(row2("<c r='B2'><v>5</v></c>"))), 5.0),
        Case("spaced_eq", build(sheet(row2('<c r = "B2"><v>5</v></c>'))), 5.0),
        Case("v_attr", build(sheet(row2('<c r="B2"><v xml:space="preserve">5</v></c>'))), 5.0),
        Case("dup_same_row", build(sheet(row2('<c r="B2"><v>1</v></c><c r="B2"><v>2</v></c>'))), REFUSED),
        Case("dup_rows", build(sheet(row2('<c r="B2"><v>1</v></c>') + '<row r="2"><c r="B2"><v>2</v></c></row>')),
             REFUSED),
        Case("out_of_order_rows",
             build(sheet('<row r="3"><c r="B3"><v>3</v></c></row>' + row2('<c r="B2"><v>5</v></c>'))), 5.0),
        Case("no_address", build(sheet('<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c/><c><v>5</v></c></row>')),
             5.0),
        Case("shared_rich", build(sheet(_v("1", ' t="s"')), text), "Hà Nội"),
        Case("shared_phonetic", build(sheet(_v("2", ' t="s"')), text), "Huế"),
        Case("shared_out_of_range", build(sheet(_v("9", ' t="s"')), text), REFUSED),
        Case("inline", build(sheet(row2('<c r="B2" t="inlineStr"><is><t>Đà Nẵng</t></is></c>'))), "Đà Nẵng"),
        Case("inline_rich", build(sheet(row2('<c r="B2" t="inlineStr"><is><r><t>Cần </t></r><r><t>Thơ</t></r>'
                                             '<rPh sb="0" eb="1"><t>x</t></rPh></is></c>'))), "Cần Thơ"),
        Case("inline_cdata", build(sheet(row2('<c r="B2" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c>'))),
             "a<b"),
        Case("type_str", build(sheet(row2('<c r="B2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'))), "ab"),
        Case("type_bool", build(sheet(_v("1", ' t="b"'))), True),
        Case("type_error", build(sheet(_v("#DIV/0!", ' t="e"'))), "#DIV/0!"),
        Case("formula_value", build(sheet(row2('<c r="B2"><f>2+3</f><v>5</v></c>'))), 5.0),
        Case("entity_amp_text", build(sheet(row2('<c r="B2" t="inlineStr"><is><t>A &amp; B &lt;1&gt;</t></is></c>'))),
             "A & B <1>"),
        Case("unclosed_in_other_string", build(sheet(_v("1", ' t="s"')), shared(
            "<si><t>x<b></t></si>", "<si><t>Hà Nội</t></si>")), REFUSED),
        Case("unclosed_cell_before", build(sheet(row2('<c r="A2"><v>1</v><c r="B2"><v>5</v></c>'))), REFUSED),
        Case("html_entity", build(sheet(row2('<c r="B2" t="inlineStr"><is><t>A&nbsp;B</t></is></c>'))), REFUSED),
        # shapes the one-pass fast path reads itself (the whole sheetData matched by its grammar)
        Case("formula_shared", build(sheet(row2('<c r="A2"><f t="shared" ref="A2:B2" si="0">2+3</f><v>5</v></c>'
                                                '<c r="B2"><f t="shared" si="0"/><v>5</v></c>'))), 5.0),
        Case("formula_attr", build(sheet(row2('<c r="B2" s="1"><f aca="false">2+3</f><v>5</v></c>'))), 5.0),
        Case("inline_preserve", build(sheet(row2('<c r="B2" t="inlineStr"><is><t xml:space="preserve">Huế</t>'
                                                 '</is></c>'))), "Huế"),
        Case("inline_and_formula_elsewhere", build(sheet(row2(
            '<c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2"><v>5</v></c><c r="C2"><f>B2</f><v>5</v></c>'))),
             5.0),
        Case("dup_other_cell", build(sheet(row2(
            '<c r="A2"><v>1</v></c><c r="A2"><v>2</v></c><c r="B2"><v>5</v></c>'))), 5.0),
        Case("row_attrs", build(sheet('<row r="1" spans="1:2"><c r="A1" t="s"><v>0</v></c></row>'
                                      '<row r="2" spans="1:2" ht="15" customHeight="1"><c r="B2"><v>5</v></c></row>')),
             5.0),
        Case("row_foreign_ns", build(sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
                                           '<row r="2" xmlns="urn:other"><c r="B2"><v>9</v></c></row>')), None),
        Case("empty_rows", build(sheet('<row r="1"/>' + row2('<c r="B2"/><c r="C2"><v>1</v></c>'))), None),
        Case("shared_phonetic_pr", build(sheet(_v("1", ' t="s"')), shared(
            "<si><t>x</t></si>", '<si><r><rPr><b/><sz val="11"/><rFont val="Calibri"/></rPr>'
            '<t xml:space="preserve">Hà </t></r><r><t>Nội</t></r><phoneticPr fontId="1"/></si>')), "Hà Nội"),
        Case("protection_in_comment", build(sheet(_v("5"), end='<!-- <sheetProtection sheet="1"/> --></worksheet>')),
             5.0),
    ]
    return out


CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def workbook(names: str, sheet_tag: str = '<sheet name="S" sheetId="1" r:id="rId1"/>', head: str = _HEAD) -> str:
    return (f'{head}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{sheet_tag}</sheets>'
            f"<definedNames>{names}</definedNames></workbook>")


def properties(body: str, head: str = _HEAD) -> str:
    return f'{head}<Properties xmlns="{CUSTOM_NS}" xmlns:vt="{VT_NS}">{body}</Properties>'


def prop(name: str, value: str, pid: int = 2) -> str:
    return (f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" name="{name}">'
            f"<vt:lpwstr>{value}</vt:lpwstr></property>")


@dataclass(frozen=True)
class PartCase:
    name: str
    data: bytes
    names: dict  # defined names as Excel and LibreOffice see them
    custom: dict  # custom properties
    states: dict  # sheet name → state


_NAME = '<definedName name="f_x">S!$B$2</definedName>'
_SHOWN = {"f_x": "S!$B$2"}
_PROP = {"libstats_province": "2004:01"}


def part_cases() -> list[PartCase]:
    plain = sheet(_v("5"))

    def case(name, names_xml=_NAME, custom_xml=None, shown=_SHOWN,
             custom=_PROP, states=None, sheet_tag='<sheet name="S" sheetId="1" r:id="rId1"/>', head=_HEAD):
        custom_xml = custom_xml or properties(prop("libstats_province", "2004:01"))
        return PartCase(name, build(plain, workbook=workbook(names_xml, sheet_tag, head), custom=custom_xml),
                        shown, custom, states or {"S": "visible"})
    return [
        case("names_plain"),
        case("name_in_comment", _NAME + "<!-- <definedName name=\"f_x\">S!$B$9</definedName> -->"),
        case("name_only_in_comment", "<!-- " + _NAME + " -->", shown={}),
        case("name_cdata", '<definedName name="f_x"><![CDATA[S!$B$2]]></definedName>'),
        case("name_entities", '<definedName name="f_x">&apos;S&apos;!$B$2</definedName>', shown={"f_x": "'S'!$B$2"}),
        case("name_single_quotes", "<definedName name='f_x'>S!$B$2</definedName>"),
        case("name_local_is_not_global", '<definedName name="f_x" localSheetId="0">S!$B$9</definedName>', shown={}),
        case("name_pi", _NAME + "<?x <definedName name=\"f_x\">S!$B$9</definedName> ?>"),
        case("name_newline_attr", '<definedName\nname="f_x">S!$B$2</definedName>'),
        case("sheet_hidden", sheet_tag='<sheet name="S" sheetId="1" state="hidden" r:id="rId1"/>',
             states={"S": "hidden"}),
        case("sheet_hidden_single_quotes",
             sheet_tag="<sheet name=\"S\" sheetId=\"1\" state='veryHidden' r:id=\"rId1\"/>",
             states={"S": "veryHidden"}),
        case("sheet_hidden_spaced", sheet_tag='<sheet name="S" sheetId="1" state = "hidden" r:id="rId1"/>',
             states={"S": "hidden"}),
        case("custom_in_comment", custom_xml=properties(prop("libstats_province", "2004:01", 3) + "<!-- "
                                                         + prop("libstats_province", "2004:79") + " -->")),
        case("custom_only_in_comment", custom_xml=properties("<!-- " + prop("libstats_province", "2004:79") + " -->"),
             custom={}),
        case("custom_cdata", custom_xml=properties(prop("libstats_province", "<![CDATA[2004:01]]>"))),
        case("custom_entity", custom_xml=properties(prop("libstats_province", "2004&#58;01"))),
        case("custom_prefixed", custom_xml=f'{_HEAD}<p:Properties xmlns:p="{CUSTOM_NS}" xmlns:vt="{VT_NS}">'
             + prop("libstats_province", "2004:01").replace("<property", "<p:property").replace("</property",
                                                                                                "</p:property")
             + "</p:Properties>"),
    ]
