"""The national report draft, read back from the .docx's own text; the dataset's texts; printing whole texts."""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from libstats.cli import main
from libstats.consolidation.dataset import escape_text, load_dataset, write_dataset
from libstats.model.findings import fmt_number
from libstats.model.form import build_form
from libstats.model.provinces import provinces_for_year
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, template_filename, write_template, write_templates


YEAR = 2025
FORM = build_form(YEAR)
MISSING = {"96", "92"}  # not in the inbox
SWING = "37"  # Ninh Bình: a swing nobody explained
LONG = " ".join(f"đoạn{i:04d}" for i in range(1, 1113))  # 10,000 characters, every word distinct
assert len(LONG) >= 10_000
RISKY = {"n2_de_xuat": "=HYPERLINK(\"http://x\";\"bấm\") đề nghị Bộ hướng dẫn", "n13_han_che": "- kinh phí hạn chế",
         "bia_dien_thoai": "+84 912 345 678"}


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory):
    """A 2025 round: every province but two, Hà Nội with a 10,000-character narrative, Cao Bằng with texts
    that a spreadsheet would run as formulas; consolidated through the CLI."""
    box = tmp_path_factory.mktemp("inbox")
    values = {p.code: sample_values(FORM, p, seed=7) for p in provinces_for_year(YEAR)}
    values["01"]["n1_danh_gia_chung"] = LONG
    values["04"].update(RISKY)
    swing = values[SWING]  # its items served tripled at the provincial level, not explained: R04 and B02
    swing["luot_tl_tong_n"] += 2 * swing["luot_tl_tinh_n"]
    swing["luot_tl_tinh_n"] *= 3
    swing.pop("luot_tl_tinh_gc", None), swing.pop("luot_tl_tong_gc", None)
    write_templates(FORM, [p for p in provinces_for_year(YEAR) if p.code not in MISSING], box,
                    prefill=lambda p: TemplateOptions(values=values[p.code]))
    out = tmp_path_factory.mktemp("out") / "tong-hop-2025.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(box), "--year", str(YEAR), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return box, out, out.with_name("tong-hop-2025_du-lieu.csv"), values


@pytest.fixture(scope="module")
def report(consolidated, tmp_path_factory):
    _, _, data, _ = consolidated
    out = tmp_path_factory.mktemp("report") / "bao-cao-2025.docx"
    result = CliRunner().invoke(main, ["report", str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def _paragraphs(path) -> list[str]:
    d = docx.Document(str(path))
    texts = [p.text for p in d.paragraphs]
    for t in d.tables:
        texts += [c.text for row in t.rows for c in row.cells]
    return texts


def test_outline_headings_in_order_and_what_it_is(report):
    out, _ = report
    paras = [p.text for p in docx.Document(str(out)).paragraphs]
    expected = []
    for sheet in FORM.sheets:
        if sheet.spec.kind == "cover":
            continue
        if not sheet.tables:  # a table sheet's title is not printed: its tables sit under their bullets
            expected += [sheet.part_title] + [it.text for it in sheet.items if it.item.kind == "heading" or it.field]
    pos = 0
    for heading in dict.fromkeys(expected):  # a part title repeated by several sheets is written once
        pos = next(i for i in range(pos, len(paras)) if paras[i] == heading or paras[i].endswith("\n" + heading)) + 1
    for table in (t for s in FORM.sheets for t in s.tables):
        assert table.title in paras
    reported = len(provinces_for_year(YEAR)) - len(MISSING)
    assert f"Dự thảo, tổng hợp tự động từ báo cáo của {reported}/34 tỉnh, thành phố" in paras
    assert FORM.receiving_unit in " ".join(paras)


def test_every_headline_figure_is_the_datasets_sum_written_the_vietnamese_way(consolidated, report):
    _, _, data, values = consolidated
    out, _ = report
    text = "\n".join(_paragraphs(out))
    df = load_dataset(data)
    for h in FORM.spec.headlines:
        dim = h.dim or FORM.spec.total.id
        sel = df[df["indicator"].isin(h.sum) & (df["dim"] == dim) & (df["year"] == YEAR)]
        n = int(sel["value"].sum())
        assert n == sum(values[c][f"{i}_{dim}_n"] for c in values if c not in MISSING for i in h.sum)
        assert f"đạt {fmt_number(n)} " in text, h.label
        assert fmt_number(n) in _paragraphs(out)  # the annex's national row
    assert re.search(r"tăng [\d.]+ thẻ \(\d+,\d%\)|giảm [\d.]+ thẻ \(\d+,\d%\)", text)
    assert "Căn cứ báo cáo của 32/34 tỉnh, thành phố" in text  # the basis, said once: not after every figure
    assert "(tổng hợp từ" not in text


def test_a_figure_fewer_provinces_gave_says_so_and_a_tiny_change_is_not_zero_percent(consolidated, tmp_path):
    """One province without its renewed cards (rows taken out of the dataset), and the national total of the
    items served made one more than last year's: the sentences say "31/32" and "dưới 0,1%"."""
    _, _, data, _ = consolidated
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    df = df[~((df["province_code"] == "01") & (df["indicator"] == "the_doi_moi"))]
    figure = df["kind"] == "figure"
    items = figure & (df["indicator"] == "luot_tl") & df["dim"].isin(["tinh", "tong"])
    n = df[items & (df["dim"] == "tong") & (df["year"] == str(YEAR))]["value"].astype(int).sum()
    p = df[items & (df["dim"] == "tong") & (df["year"] == str(YEAR - 1))]["value"].astype(int).sum()
    one = items & (df["province_code"] == "01") & (df["year"] == str(YEAR))
    df.loc[one, "value"] = (df.loc[one, "value"].astype(int) + (p - n) + 1).astype(str)
    edited = tmp_path / "tong-hop-2025_du-lieu.csv"
    df.to_csv(edited, index=False)
    for name in ("datapackage.json",):
        if (data.parent / name).exists():
            (tmp_path / name).write_bytes((data.parent / name).read_bytes())
    out = tmp_path / "r.docx"
    result = CliRunner().invoke(main, ["report", str(edited), "-o", str(out)])
    assert result.exit_code == 0, result.output
    paras = [p.text for p in docx.Document(str(out)).paragraphs]
    renewed = next(p for p in paras if p.startswith("Số thẻ gia hạn, đổi mới trong năm: năm 2025 đạt"))
    assert renewed.endswith("(tổng hợp từ 31/32 tỉnh, thành phố có báo cáo).")
    served = next(p for p in paras if p.startswith("Số lượt tài nguyên thông tin phục vụ: năm 2025 đạt"))
    assert f"đạt {fmt_number(int(p) + 1)} lượt" in served and "tăng 1 lượt (dưới 0,1%) so với năm 2024" in served
    assert "(tổng hợp từ" not in served and "0,0%" not in " ".join(paras)


def test_every_excerpt_is_verbatim_in_its_cited_cell_and_listed_in_the_annex(consolidated, report):
    box, _, data, _ = consolidated
    out, output = report
    text = "\n".join(_paragraphs(out))
    refs = re.findall(r"“((?:[^“”]|“[^“”]*”)+)”…? \[(\d+)\]", text)  # a quote may name a model in quotes
    assert len(refs) >= 20 and f"{len(refs)} đoạn trích" in output
    annex = next(p for p in _paragraphs(out) if p.startswith("[1] "))  # one compact paragraph, not pages
    sources = {ref: (prov, sheet, cell) for ref, prov, sheet, cell in
               re.findall(r"\[(\d+)\] ([^,\[]+), “([^”]+)” ([A-Z]+\d+)", annex)}
    assert len(sources) == len(refs)
    files = {p.name: template_filename(FORM, p) for p in provinces_for_year(YEAR)}
    books = {}
    for quoted, ref in refs:
        province, sheet, cell = sources[ref]
        file = files[province]
        wb = books.setdefault(file, CalamineWorkbook.from_path(str(box / file)))  # another reader than libstats'
        col, row = openpyxl.utils.cell.coordinate_from_string(cell)
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        assert quoted in rows[row - 1][openpyxl.utils.cell.column_index_from_string(col) - 1]
    assert len({prov for prov, _, _ in sources.values()}) > 3


def test_provinces_not_reported_are_listed(report):
    out, _ = report
    paras = _paragraphs(out)
    i = next(i for i, p in enumerate(paras) if p.startswith("Phụ lục 2."))
    names = sorted(p.name for p in provinces_for_year(YEAR) if p.code in MISSING)
    assert paras[i + 1].startswith("(Kèm theo Báo cáo số ") and paras[i + 1].endswith(
        "của Bộ Văn hóa, Thể thao và Du lịch)")
    i += 1
    assert paras[i + 1] == f"2/34: {', '.join(p.name for p in provinces_for_year(YEAR) if p.code in MISSING)}."
    assert all(n in paras[i + 1] for n in names)
    assert sum(p == "chưa báo cáo" for p in paras) == len(MISSING)  # their annex rows, never zeros


def test_the_proposals_are_grouped_by_addressee_and_each_is_in_the_annex_with_its_province(report):
    out, _ = report
    paras = [p.text for p in docx.Document(str(out)).paragraphs]
    label = next(it.text for s in FORM.sheets for it in s.items if it.field and it.field.id == "n2_de_xuat")
    block = paras[paras.index(label) + 1:paras.index(label) + 40]
    assert any(p.startswith("a) Kiến nghị Bộ Văn hóa, Thể thao và Du lịch (") for p in block)
    rows = [[c.text for c in r.cells] for t in docx.Document(str(out)).tables for r in t.rows]
    assert any(r[1] == "Cao Bằng" and RISKY["n2_de_xuat"] in r[2] and r[3] == "Bộ VHTTDL" for r in rows if len(r) == 7)


def test_a_figures_only_dataset_is_refused_with_a_message(consolidated, tmp_path):
    _, _, data, _ = consolidated
    old = tmp_path / "cu.csv"
    load_dataset(data).drop(columns=["kind", "label", "text"]).to_csv(old, index=False, encoding="utf-8-sig")
    result = CliRunner().invoke(main, ["report", str(old), "-o", str(tmp_path / "r.docx")])
    assert result.exit_code == 1 and "hãy dùng bộ dữ liệu do libstats consolidate ghi" in result.output
    assert not (tmp_path / "r.docx").exists()


def test_the_draft_is_never_written_over_an_input_nor_as_another_kind_of_file(consolidated, tmp_path):
    _, summary, data, _ = consolidated
    before = {p: p.read_bytes() for p in (data, summary)}
    for target in (data, summary):  # "-o tong-hop-2025_du-lieu.csv" once replaced the dataset with the draft
        res = CliRunner().invoke(main, ["report", str(data), "-o", str(target)])
        assert res.exit_code == 1 and "dự thảo báo cáo là tệp .docx, tên tệp phải có đuôi .docx" in res.output
    last = tmp_path / "du-lieu-2024.docx"  # an input given as the output
    last.write_bytes(b"last year's")
    res = CliRunner().invoke(main, ["report", str(data), "-o", str(last), "--previous", str(last)])
    assert res.exit_code == 1 and "không được ghi đè hoặc ghi vào trong dữ liệu đầu vào" in res.output
    assert last.read_bytes() == b"last year's" and {p: p.read_bytes() for p in (data, summary)} == before


def test_a_round_where_nobody_wrote_a_narrative_is_drafted_with_none_quoted(consolidated, tmp_path):
    _, _, data, _ = consolidated
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    quiet = tmp_path / "tong-hop-2025_du-lieu.csv"
    df[df["kind"] != "narrative"].to_csv(quiet, index=False)
    result = CliRunner().invoke(main, ["report", str(quiet), "-o", str(tmp_path / "r.docx")])
    assert result.exit_code == 0, result.output
    assert "0 đoạn trích" in result.output
    paras = [p.text for p in docx.Document(str(tmp_path / "r.docx")).paragraphs]
    assert "Không tỉnh, thành phố nào có kiến nghị, đề xuất." in paras
    assert paras.count("Không tỉnh, thành phố nào ghi nội dung này.") > 20


def test_same_dataset_same_bytes(consolidated, report, tmp_path):
    _, _, data, _ = consolidated
    out, _ = report
    again = tmp_path / "again.docx"
    assert CliRunner().invoke(main, ["report", str(data), "-o", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_dataset_carries_texts_and_cover_and_labels(consolidated):
    _, _, data, values = consolidated
    df = load_dataset(data, texts=True)
    hn = df[df["province_code"] == "01"]
    assert hn.loc[hn["field_id"] == "n1_danh_gia_chung", "text"].item() == LONG
    cover = df[(df["kind"] == "cover") & (df["province_code"] == "04")].set_index("field_id")["text"]
    assert cover["bia_dien_thoai"] == RISKY["bia_dien_thoai"]
    assert cover["bia_email"] == values["04"]["bia_email"]
    fig = df[(df["field_id"] == "the_cap_moi_tong_n") & (df["province_code"] == "01")].iloc[0]
    assert (fig["label"], fig["dim_label"], fig["unit"]) == ("Số thẻ thư viện cấp mới trong năm", "Tổng cộng", "thẻ")
    gc = df[df["kind"] == "explanation"]
    assert not gc.empty and gc["indicator"].notna().all() and gc["value"].isna().all()


def test_csv_text_never_starts_a_formula_and_reads_back_exactly(consolidated, tmp_path):
    _, _, data, _ = consolidated
    risky = ["=1+1", "+84", "-5", "@SUM(A1)", "\tTab", "\rCR", "\u200b=ZW", "\u200bplain", "thường", ""]
    frame = pd.DataFrame({"province_code": ["01"] * len(risky), "code_list": "2025", "indicator": "x", "dim": "d",
                          "year": 2025, "value": pd.array([None] * len(risky), dtype="Int64"), "text": risky,
                          "source_file": [f"{t}.xlsx" for t in risky]})
    path = write_dataset(frame, tmp_path / "d.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(risky)
    for row in rows:
        for col in ("text", "source_file"):
            assert not row[col].startswith(("=", "+", "-", "@", "\t", "\r")), row[col]
    back = load_dataset(path, texts=True)
    assert list(back["text"].fillna("")) == risky
    assert list(back["source_file"]) == [f"{t}.xlsx" for t in risky]
    assert escape_text("bình thường") == "bình thường"
    raw = data.read_text(encoding="utf-8-sig")
    assert "\n04," in raw and ",\u200b=HYPERLINK" in raw.replace('"', "")  # the real dataset too


@pytest.mark.libreoffice
def test_report_and_summary_print_through_libreoffice_with_every_word(lo, consolidated, report, tmp_path):
    box, summary, _, _ = consolidated
    out, _ = report
    pdf = lo.convert(out, "pdf", tmp_path)
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                            text=True).stdout)[1])
    assert 10 <= pages <= 60
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "BÁO CÁO" in text and "Phụ lục 2." in text

    spdf = lo.convert(summary, "pdf", tmp_path)
    info = subprocess.run(["pdfinfo", str(spdf)], capture_output=True, text=True).stdout
    spages = int(re.search(r"Pages:\s+(\d+)", info)[1])
    print(f"summary of {34 - len(MISSING)} provinces prints to {spages} pages")
    assert spages <= 200
    stext = subprocess.run(["pdftotext", str(spdf), "-"], capture_output=True, text=True).stdout
    words = set(stext.split())
    assert all(w in words for w in LONG.split())  # the 10,000-character narrative, wholly printed
    assert f"TỔNG HỢP BÁO CÁO CÔNG TÁC THƯ VIỆN NĂM {YEAR}" in stext and "chưa báo cáo" in stext


@pytest.mark.libreoffice
def test_the_provinces_form_prints_a_10000_character_narrative_whole(lo, tmp_path):
    p = provinces_for_year(YEAR)[0]
    values = dict(sample_values(FORM, p, seed=3), n1_danh_gia_chung=LONG)
    form = write_template(FORM, tmp_path / template_filename(FORM, p), TemplateOptions(province=p, values=values))
    text = subprocess.run(["pdftotext", str(lo.convert(form, "pdf", tmp_path)), "-"], capture_output=True,
                          text=True).stdout
    words = set(text.split())
    missing = [w for w in LONG.split() if w not in words]
    assert not missing, f"{len(missing)} words not printed, from {missing[0]}"


def test_each_figure_sentence_says_once_what_it_compares_and_which_row_it_is(report):
    out, _ = report
    paras = [p.text for p in docx.Document(str(out)).paragraphs if ": năm 2025 đạt " in p.text]
    assert paras and not [p for p in paras if p.count("so với năm 2024") > 1]
    labels = [p.split(": năm 2025 đạt ")[0] for p in paras]
    assert len(labels) == len(set(labels)), sorted(label for label in labels if labels.count(label) > 1)


def test_a_wording_file_with_a_bad_placeholder_gets_a_message_not_a_traceback(consolidated, tmp_path):
    _, _, data, _ = consolidated
    wording = Path(__file__).resolve().parents[1] / "workbook_templates" / "bao-cao-quoc-gia.toml"
    text = wording.read_text(encoding="utf-8").replace('sentence = "', 'sentence = "{0} ', 1)
    (tmp_path / "w.toml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(data), "-o", str(tmp_path / "r.docx"), "--wording",
                                       str(tmp_path / "w.toml")])
    assert result.exit_code == 1 and "chỗ trống không hợp lệ" in result.output and not (tmp_path / "r.docx").exists()


def test_a_wording_file_says_only_what_it_changes_the_rest_is_the_shipped_wording(consolidated, report, tmp_path):
    """An edited copy made for an older release (here: one sentence and one list) still drafts the report."""
    _, _, data, _ = consolidated
    (tmp_path / "w.toml").write_text('[narratives]\nplaceholder = "[Ý kiến của Vụ: …]"\n'
                                     '[figures]\nheadlines = ["the_cap_moi"]\n', encoding="utf-8")
    out = tmp_path / "r.docx"
    result = CliRunner().invoke(main, ["report", str(data), "-o", str(out), "--wording", str(tmp_path / "w.toml")])
    assert result.exit_code == 0, result.output
    paras, shipped = ([p.text for p in docx.Document(str(path)).paragraphs] for path in (out, report[0]))
    assert paras.count("[Ý kiến của Vụ: …]") == shipped.count("[Nhận định của Bộ: …]") > 10
    assert "[Nhận định của Bộ: …]" not in paras and paras[:3] == shipped[:3]
    year_table = next(t for t in docx.Document(str(out)).tables if "Năm 2025" in [c.text for c in t.rows[0].cells])
    assert [r.cells[0].text for r in year_table.rows[1:]] == ["Số thẻ thư viện cấp mới"]


# --- the State's form, Part I, flagged figures, tables (issue 18) ----------------------------------------------

@pytest.fixture(scope="module")
def drafts(consolidated, dataset_2024, tmp_path_factory) -> dict[str, Path]:
    """The 2024 draft, and the 2025 draft with last year's dataset (--previous)."""
    _, _, data, _ = consolidated
    out = tmp_path_factory.mktemp("drafts")
    runs = {"2024": [str(dataset_2024)], "2025": [str(data), "--previous", str(dataset_2024)]}
    for key, args in runs.items():
        result = CliRunner().invoke(main, ["report", *args, "-o", str(out / f"{key}.docx")])
        assert result.exit_code == 0, result.output
    return {key: out / f"{key}.docx" for key in runs}


def _lines(cell) -> list[str]:
    return [p.text for p in cell.paragraphs if p.text]


def _ruled(cell) -> int:
    """How many solid lines (paragraph bottom borders) a cell draws."""
    return len(cell._tc.xpath(".//w:pBdr/w:bottom"))


@pytest.mark.parametrize("year", ["2024", "2025"])
def test_heading_block_title_and_signature_are_in_the_states_form(drafts, year):
    d = docx.Document(str(drafts[year]))
    head = d.tables[0]
    body, motto = head.rows[0].cells
    assert _lines(body) == ["BỘ VĂN HÓA, THỂ THAO\nVÀ DU LỊCH"] and _ruled(body) == 1  # the Ministry alone
    assert _lines(motto) == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"] and _ruled(motto) == 1
    number, date = head.rows[1].cells
    assert re.fullmatch(r"Số: +/BC-BVHTTDL", _lines(number)[0])
    assert re.fullmatch(rf"Hà Nội, ngày +tháng +năm {year}", _lines(date)[0])  # year N: the December conference
    assert all(r.italic for p in date.paragraphs for r in p.runs)
    paras = d.paragraphs
    i = next(i for i, p in enumerate(paras) if p.text == "BÁO CÁO")
    assert paras[i + 1].text == FORM.spec.title.format(year=year, next=int(year) + 1)
    assert paras[i + 2]._p.xpath("./w:pPr/w:pBdr/w:bottom") and not paras[i + 2].text  # the line under the title
    sign = next(t for t in d.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    receivers, signature = sign.rows[0].cells
    lines = _lines(receivers)
    assert lines[0] == "Nơi nhận:" and all(r.bold and r.italic for r in receivers.paragraphs[0].runs)
    assert all(x.startswith("- ") and x.endswith(";") for x in lines[1:-1])
    assert lines[-1].startswith("- Lưu: VT") and lines[-1].endswith(".")
    assert _lines(signature)[:2] == ["KT. BỘ TRƯỞNG", "THỨ TRƯỞNG"]
    attached = [p.text for p in paras if p.text.startswith("(Kèm theo Báo cáo số")]
    annexes = [p.text for p in paras if p.text.startswith("Phụ lục ")]
    assert len(attached) == len(annexes) >= 4
    assert all(re.fullmatch(rf"\(Kèm theo Báo cáo số +/BC-BVHTTDL ngày +tháng +năm {year} của Bộ Văn hóa, Thể "
                            r"thao và Du lịch\)", a) for a in attached)


def test_a_report_issued_by_the_unit_names_it_in_full_under_the_ministry_with_its_own_symbol(consolidated, tmp_path):
    _, _, data, _ = consolidated
    wording = Path(__file__).resolve().parents[1] / "workbook_templates" / "bao-cao-quoc-gia.toml"
    text = wording.read_text(encoding="utf-8").replace('issuer = "ministry"', 'issuer = "unit"', 1)
    text = text.replace('report_date = ""', 'report_date = "2025-12-05"', 1)
    (tmp_path / "w.toml").write_text(text, encoding="utf-8")
    out = tmp_path / "r.docx"
    assert CliRunner().invoke(main, ["report", str(data), "-o", str(out), "--wording", str(tmp_path / "w.toml")
                                     ]).exit_code == 0
    d = docx.Document(str(out))
    body, _ = d.tables[0].rows[0].cells
    assert _lines(body) == ["BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH", "CỤC VĂN HÓA CƠ SỞ, GIA ĐÌNH VÀ THƯ VIỆN"]
    assert all(r.bold for r in body.paragraphs[1].runs) and not any(r.bold for r in body.paragraphs[0].runs)
    number, date = d.tables[0].rows[1].cells
    assert "/BC-VHCSGĐTV" in _lines(number)[0] and _lines(date) == ["Hà Nội, ngày 05 tháng 12 năm 2025"]
    text = "\n".join(_paragraphs(out))
    assert "BVHTTDL" not in text and "KT. BỘ TRƯỞNG" not in text and "CỤC TRƯỞNG" in text


@pytest.mark.parametrize("year", ["2024", "2025"])
def test_parts_and_sections_are_word_headings_printed_once_with_a_table_of_contents(drafts, year):
    d = docx.Document(str(drafts[year]))
    heads = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]
    texts = [t for _, t in heads]
    assert len(texts) == len(set(texts)), sorted(t for t in texts if texts.count(t) > 1)
    assert ("Heading 1", f"PHẦN THỨ NHẤT\nTÌNH HÌNH THỰC HIỆN NHIỆM VỤ NĂM {year}") in heads
    assert sum(t.startswith("II. ") for t in texts) == 2  # Part I's II and Part Two's II, each once
    assert sum(t.startswith("2.2. ") for t in texts) == 1 and sum(t.startswith("2.3. ") for t in texts) == 1
    everything = [p.text for p in d.paragraphs]
    assert sum(t.startswith("2.2. ") for t in everything) == 1  # and never as plain text either
    assert 'TOC \\o "1-3"' in d.element.xml
    style = d.styles["Heading 2"]
    assert style.font.name == "Times New Roman" and style.font.color.rgb == docx.shared.RGBColor(0, 0, 0)


def _year_table(path) -> dict[str, list[str]]:
    d = docx.Document(str(path))
    t = next(t for t in d.tables if t.rows[0].cells[0].text == "Chỉ tiêu" and len(t.columns) == 6)
    return {r.cells[0].text: [c.text for c in r.cells[1:]] for r in t.rows[1:]}


def test_part_one_opens_with_the_year_in_figures_and_its_base(consolidated, drafts):
    _, _, data, _ = consolidated
    df = load_dataset(data)
    rows = _year_table(drafts["2025"])
    wanted = {"Số thư viện công cộng": ["so_thu_vien"], "Số thẻ thư viện cấp mới": ["the_cap_moi"],
              "Số lượt phục vụ": ["luot_tai_tv", "luot_ngoai_tv"], "Số lượt tài nguyên thông tin phục vụ": ["luot_tl"],
              "Số lượt truy cập": ["luot_truy_cap"]}
    assert list(rows) == list(wanted)
    for label, parts in wanted.items():
        sel = df[df["indicator"].isin(parts) & (df["dim"] == "tong")]
        n, p = (int(sel[sel["year"] == y]["value"].sum()) for y in (2025, 2024))
        unit, cn, cp, diff, pct = rows[label]
        assert (cn, cp) == (fmt_number(n), fmt_number(p))
        assert diff == ("+" if n > p else "−") + fmt_number(abs(n - p))
        assert pct.replace("−", "-").replace(",", ".") == f"{(n - p) / p * 100:+.1f}"
    paras = [p.text for p in docx.Document(str(drafts["2025"])).paragraphs]
    start = next(i for i, p in enumerate(paras) if p.startswith("PHẦN THỨ NHẤT"))
    end = paras.index("I. ĐÁNH GIÁ CHUNG")
    opening = " ".join(paras[start:end])
    assert "theo báo cáo của 32/34 tỉnh, thành phố" in opening
    assert "trên cùng 32 tỉnh, thành phố có báo cáo năm 2025" in opening
    assert "khác số đã tổng hợp trong báo cáo năm 2024 (từ 63/63 tỉnh, thành phố)" in opening


def test_the_2025_draft_names_the_merger_and_shows_the_former_district_libraries(drafts, dataset_2024):
    paras = [p.text for p in docx.Document(str(drafts["2025"])).paragraphs]
    text = " ".join(paras)
    assert "63 tỉnh, thành phố được sắp xếp thành 34 tỉnh, thành phố và không còn cấp huyện" in text
    assert "thư viện cấp huyện cũ đã được sắp xếp:" in text and "giao về cấp xã" in text
    assert "Số thư viện cấp huyện cũ (" not in text  # the fates are said once, in Part I, not again by Bảng 1a
    old = load_dataset(dataset_2024)
    old = old[(old["year"] == 2024) & (old["dim"] == "huyen") & (old["indicator"] == "so_thu_vien")]
    from libstats.model.provinces import components
    kept = {c for p in provinces_for_year(YEAR) if p.code not in MISSING for c in components(p.code)}
    districts = int(old[old["province_code"].isin(kept)]["value"].sum())
    assert f"Năm 2024 có {fmt_number(districts)} thư viện cấp huyện" in text
    d = docx.Document(str(drafts["2025"]))
    lines = [[c.text for c in r.cells] for t in d.tables for r in t.rows]
    carried = [r for r in lines if len(r) > 2 and r[2] == "trong đó: thư viện cấp huyện cũ"]
    assert len(carried) >= 10 and ["", "", "trong đó: thư viện cấp huyện cũ", "—", fmt_number(districts), "—",
                                   "—"] in carried
    assert "Giải thích của các tỉnh về thay đổi so với năm 2024:" in paras
    assert "không còn cấp huyện" not in " ".join(p.text for p in docx.Document(str(drafts["2024"])).paragraphs)


def test_an_unexplained_flagged_swing_is_being_verified_never_a_success(consolidated, drafts):
    _, _, data, values = consolidated
    name = next(p.name for p in provinces_for_year(YEAR) if p.code == SWING)
    df = load_dataset(data, texts=True)
    flagged = df[(df["kind"] == "finding") & (df["province_code"] == SWING)]
    assert {"R04", "B02"} <= {t[:3] for t in flagged["text"]} and set(flagged["indicator"]) == {"luot_tl"}
    assert all(t[3:5] == ": " for t in flagged["text"]) and set(flagged["status"]) == {""}
    pct = {c: (v["luot_tl_tong_n"] - v["luot_tl_tong_p"]) / v["luot_tl_tong_p"] for c, v in values.items()
           if c not in MISSING}
    assert max(pct, key=pct.get) == SWING  # without the check it would head "tăng nhiều nhất"
    d = docx.Document(str(drafts["2025"]))
    standing = [p.text for p in d.paragraphs if p.text.startswith("Các tỉnh, thành phố nổi bật về")]
    assert standing and not [p for p in standing if name in p]
    items = next(p for p in standing if "tài nguyên thông tin phục vụ" in p)
    assert "tăng nhiều nhất:" in items
    assert any(p.text.startswith("Số liệu số lượt tài nguyên thông tin phục vụ của " + name) for p in d.paragraphs)
    annex = next(t for t in d.tables if t.rows[0].cells[0].text == "Tỉnh, thành phố" and len(t.columns) == 7)
    rows = [[c.text for c in r.cells] for r in annex.rows[1:]]
    mine = [r for r in rows if r[0] == name]
    assert {r[5][:3] for r in mine} == {"R04", "B02"} and all(r[6] == "chưa giải thích" for r in mine)
    tong = next(r for r in mine if r[2] == "Tổng cộng" and r[5].startswith("R04"))
    assert tong[3] == fmt_number(values[SWING]["luot_tl_tong_n"]) and "+" in tong[5]
    paras = [p.text for p in d.paragraphs]
    assert paras[paras.index("Phụ lục 3. Số liệu đang xác minh") + 1].startswith("(Kèm theo Báo cáo số")


@pytest.mark.parametrize("year", ["2024", "2025"])
def test_tables_have_units_a_source_and_never_compare_with_a_missing_year(drafts, year):
    d = docx.Document(str(drafts[year]))
    figures = [t for t in d.tables if [c.text for c in t.rows[0].cells][:2] == ["Chỉ tiêu", "Đơn vị tính"]]
    assert len(figures) >= 5
    for t in figures:
        for r in t.rows[1:]:
            cells = [c.text for c in r.cells]
            n, p, diff, pct = cells[-4:]
            if "—" in (n, p):
                assert (diff, pct) == ("—", "—"), cells
            assert pct in ("—", "0,0") or re.fullmatch(r"[+−]\d+,\d", pct), cells
            assert all(c != "" for c in cells[-4:]), cells
    body = d.element.body
    sources = [p.text for p in d.paragraphs if p.text.startswith("Nguồn: tổng hợp từ báo cáo của ")]
    assert len(sources) >= len(figures) + 5  # every table and every chart
    assert all(re.fullmatch(r"Nguồn: tổng hợp từ báo cáo của \d+/\d+ Sở VHTTDL\.", s) for s in sources)
    assert len(body.xpath(".//pic:pic")) >= 5  # a chart per headline indicator of Part I
    text = "\n".join(_paragraphs(drafts[year]))
    assert "+0,0" not in text and "−0,0" not in text and "chưa có)" not in text
    rankings = [p.text.split(":")[0] for p in d.paragraphs if p.text.startswith("Các tỉnh, thành phố nổi bật")]
    assert len(rankings) == len(set(rankings))  # no ranking repeated under another table


@pytest.mark.libreoffice
def test_every_page_but_the_first_is_numbered_landscape_annexes_too(lo, drafts, tmp_path):
    pdf = lo.convert(drafts["2025"], "pdf", tmp_path)
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                            text=True).stdout)[1])
    assert pages >= 10
    for i in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                              text=True).stdout
        first = next(line.strip() for line in text.splitlines() if line.strip())
        if i == 1:
            assert first == "BỘ VĂN HÓA, THỂ THAO", first  # the heading block, no number
        else:
            assert first == str(i), (i, first)


def test_a_warning_the_ministry_reviewed_counts_as_explained(tmp_path, tmp_path_factory):
    """In a collection, the register's reviewed warnings are not 'đang xác minh': no finding row, no annex line."""
    from libstats.collection.collect import collection_status, consolidate_collection, review_warning

    from . import corpus as c
    from .collecting import collection

    col, _ = collection(tmp_path, tmp_path_factory)
    v = c.good_values()
    v["luot_tl_tinh_n"], v["luot_tl_tinh_gc"] = v["luot_tl_tinh_p"] * 3, None  # a swing nobody explained
    v["luot_tl_tong_n"] = sum(v[f"luot_tl_{d}_n"] for d in ("tinh", "huyen", "xa"))
    v["luot_tl_tong_gc"] = None
    c.filled(col.inbox / "ha-noi.xlsx", v)

    def flagged() -> list[str]:
        tidy = consolidate_collection(col).tidy
        return list(tidy.loc[tidy["kind"] == "finding", "text"])

    before = flagged()
    assert before and all(t.startswith("R04: ") for t in before)
    used = next(s.used for s in collection_status(col).provinces if s.used is not None)
    for i, f in enumerate(used.findings):
        if f.code == "R04":
            review_warning(col, used.id, i, "Tỉnh đã gọi điện giải thích: mở thêm 3 chi nhánh.")
    assert flagged() == []
