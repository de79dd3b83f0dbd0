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
LONG = " ".join(f"đoạn{i:04d}" for i in range(1, 1113))  # 10,000 characters, every word distinct
assert len(LONG) >= 10_000
FORM_SLUG = {p.name: template_filename(FORM, p).rsplit("_", 1)[1][:-5] for p in provinces_for_year(YEAR)}
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
        expected += [sheet.part_title] + [it.text for it in sheet.items if it.item.kind == "heading" or it.field]
        expected += [t.title for t in sheet.tables]
    pos = 0
    for heading in dict.fromkeys(expected):  # a part title repeated by several sheets is written once
        pos = paras.index(heading, pos) + 1  # ValueError: missing or out of order
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
    assert "(tổng hợp từ 32/34 tỉnh, thành phố)" in text


def test_every_excerpt_is_verbatim_in_its_cited_cell_and_listed_in_the_annex(consolidated, report):
    box, _, data, _ = consolidated
    out, output = report
    text = "\n".join(_paragraphs(out))
    refs = re.findall(r"“((?:[^“”]|“[^“”]*”)+)”…? \[(\d+)\]", text)  # a quote may name a model in quotes
    assert len(refs) >= 20 and f"{len(refs)} đoạn trích" in output
    sources = dict(re.findall(r"^\[(\d+)\] (.+)$", text, re.M))
    books = {}
    for quoted, ref in refs:
        m = re.fullmatch(r"(.+): tệp (.+), trang “(.+)”, ô ([A-Z]+\d+)\.", sources[ref])
        province, file, sheet, cell = m.groups()
        wb = books.setdefault(file, CalamineWorkbook.from_path(str(box / file)))  # another reader than libstats'
        col, row = openpyxl.utils.cell.coordinate_from_string(cell)
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        assert quoted in rows[row - 1][openpyxl.utils.cell.column_index_from_string(col) - 1]
        assert file.endswith(f"_{FORM_SLUG[province]}.xlsx")
    quoted_provinces = {re.match(r"(.+): tệp", s).group(1) for s in sources.values()}
    assert len(quoted_provinces) > 3


def test_provinces_not_reported_are_listed(report):
    out, _ = report
    paras = _paragraphs(out)
    i = next(i for i, p in enumerate(paras) if p.startswith("Phụ lục 2."))
    names = sorted(p.name for p in provinces_for_year(YEAR) if p.code in MISSING)
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
