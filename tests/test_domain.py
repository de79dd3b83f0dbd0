"""The form as the Ministry and the provinces use it: sender per province and year, names in force."""

from __future__ import annotations

import html
import re
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from libstats.model.form import build_form
from libstats.model.population import per_inhabitant, per_inhabitant_frame, population
from libstats.model.findings import outlier_detail
from libstats.model.provinces import components, defunct_names, one_spelling, province, provinces_for_year, sender
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, write_template


def _cover(path):
    return openpyxl.load_workbook(path, data_only=True)["Bìa"]


@pytest.mark.parametrize("year", [2024, 2025])
def test_hanoi_cover_carries_its_department_name_and_symbol_from_data(tmp_path, year):
    p = province(year, "01")
    who = sender(p, year)
    default = sender(province(year, "04"), year)  # Cao Bằng: the usual department
    assert (who.name, who.symbol) == ("Sở Văn hóa và Thể thao", "BC-SVHTT") != (default.name, default.symbol)
    path = write_template(build_form(year), tmp_path / "hn.xlsx", TemplateOptions(province=p))
    ws = _cover(path)
    assert ws["A2"].value == who.name.upper()
    assert ws["A3"].value.endswith("/" + who.symbol)
    assert ws["B3"].value.startswith("Hà Nội, ngày")
    inputs = [c.value for c in ws["B"]]
    assert who.name in inputs and who.symbol in inputs
    wb = openpyxl.load_workbook(path)
    assert "bia_co_quan" in wb["Bìa"]["A2"].value  # the header follows the input the province may correct


def test_a_corrected_department_name_is_what_the_header_shows(tmp_path):
    p = province(2024, "04")
    path = write_template(build_form(2024), tmp_path / "cb.xlsx",
                          TemplateOptions(province=p, values={"bia_co_quan": "Sở Văn hóa và Thể thao"}))
    assert _cover(path)["A2"].value == "SỞ VĂN HÓA VÀ THỂ THAO"


def test_every_province_has_a_sender_and_a_place_in_both_code_lists():
    for year in (2024, 2025):
        for p in provinces_for_year(year):
            who = sender(p, year)
            assert who.name.startswith("Sở Văn hóa") and who.symbol.startswith("BC-") and who.place
    assert sender(province(2025, "79"), 2025).place == "Thành phố Hồ Chí Minh"


def _all_text(path) -> str:
    """Every part of the package as text (cells, shared strings, validations, comments, properties)."""
    with zipfile.ZipFile(path) as z:
        return unicodedata.normalize("NFC", html.unescape(" ".join(z.read(n).decode("utf-8", "replace")
                                                                    for n in z.namelist())))


@pytest.mark.parametrize("year,code", [(2025, None), (2025, "79"), (2026, "01")])
def test_no_form_from_2025_mentions_a_body_that_no_longer_exists(tmp_path, year, code):
    names = defunct_names(year)
    assert "Bộ Thông tin và Truyền thông" in names and "Vụ Thư viện" in names
    p = province(year, code) if code else None
    text = _all_text(write_template(build_form(year), tmp_path / "f.xlsx", TemplateOptions(province=p)))
    # names are proper nouns: matched with their capitals ("dịch vụ thư viện" is not "Vụ Thư viện")
    assert [n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)] == []


def test_the_2024_form_still_has_the_ministry_of_its_time(tmp_path):
    text = _all_text(write_template(build_form(2024), tmp_path / "f.xlsx"))
    assert "Bộ Thông tin và Truyền thông" in text and defunct_names(2024) == ()


def _pairs(form, rel):
    """The (left, right) rows a relation compares: the same dimension, or the two it names (an oracle written
    apart from rules.py)."""
    rows = {(r.indicator, r.dim): r for r in form.rows}
    for (ind, dim), left in rows.items():
        if ind == rel.left and rel.left_dim in (None, dim):
            right = rows.get((rel.right, rel.right_dim or dim))
            if right is not None:
                yield left, right


@pytest.mark.parametrize("year", [2024, 2025])
def test_every_relation_compares_rows_that_exist_and_the_samples_obey_them(year):
    form = build_form(year)
    ops = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
    cars = [rel for rel in form.spec.relations if rel.left_dim == "o_to"]
    assert [(r.left, r.op, r.right, r.right_dim) for r in cars] == [("luot_phuc_vu", "<=", "luot_ngoai_tv", "tong")]
    for rel in form.spec.relations:
        pairs = list(_pairs(form, rel))
        assert pairs, rel
        assert rel.check and rel.message
        for p in provinces_for_year(year)[:12]:
            values = sample_values(form, p)
            for left, right in pairs:
                assert ops[rel.op](values[left.n.id], values[right.n.id]), (p.name, left.id, right.id)


def test_definitions_settle_what_is_counted_where():
    spec = build_form(2025).spec
    ind, types = spec.indicators, {t.id: t for t in spec.types}
    assert "Bảng 3" in ind["luot_ngoai_tv"].definition  # cars' visits are inside outreach visits
    assert "luân chuyển" in ind["luot_tl"].definition and "không tính vào đây" in ind["luot_tl"].definition
    assert "biểu ghi thư mục" in ind["tl_so"].definition and "trang" in ind["tl_so"].definition
    assert "Không tính tủ sách pháp luật" in types["phong_doc_xa"].definition
    xa = next(lv for lv in spec.levels if lv.id == "xa")
    assert "phòng đọc sách cấp xã" in xa.definition and "Bảng 2" in xa.definition


def test_national_totals_carry_what_they_leave_out_and_the_network_size_leads_the_headlines():
    spec = build_form(2025).spec
    assert "chưa gồm Thư viện Quốc gia" in spec.national_label
    assert "Thư viện Quốc gia" in spec.national_note
    assert spec.headlines[0].sum == ("so_thu_vien",)


def _tidy(form, provinces):
    rows = []
    for p in provinces:
        v = sample_values(form, p)
        for r in form.rows:
            for f, y in ((r.n, form.year), (r.p, form.year - 1)):
                rows.append({"province_code": p.code, "indicator": r.indicator, "dim": r.dim, "year": y,
                             "value": v[f.id]})
    return pd.DataFrame(rows).astype({"value": "Int64"})


def test_per_inhabitant_figures_are_the_figure_divided_by_the_population():
    form = build_form(2025)
    provinces = list(provinces_for_year(2025))[:6]
    tidy = _tidy(form, provinces)
    table = {("2004", old, y): 1_000_000 + 1000 * int(old) + y for p in provinces for old in components(p.code)
             for y in (2024, 2025)}
    table.pop(("2004", components(provinces[2].code)[0], 2024))  # one old province missing: no partial sum
    for ratio in form.spec.per_inhabitant:
        df = per_inhabitant_frame(tidy, ratio, provinces, 2025, table).set_index("province_code")
        for p in provinces:
            for col, y in (("n", 2025), ("p", 2024)):
                figure = sum(int(tidy[(tidy.province_code == p.code) & (tidy.indicator == i) & (tidy.dim == ratio.dim)
                                      & (tidy.year == y)]["value"].iloc[0]) for i in ratio.sum)
                people = sum(table.get(("2004", old, y), 0) for old in components(p.code))
                got = df.loc[p.code, f"ratio_{col}"]
                if p is provinces[2] and y == 2024:
                    assert pd.isna(got) and pd.isna(df.loc[p.code, "population_p"])
                else:
                    assert got == pytest.approx(figure * ratio.per / people)
    labels = {r.label: r.per for r in form.spec.per_inhabitant}
    assert labels == {"Bình quân số bản sách/người": 1, "Số thẻ cấp mới trên 1.000 dân": 1000,
                      "Số lượt phục vụ bình quân/người": 1}


def test_shipped_population_is_cited_and_found_on_both_code_lists():
    assert population("2004", "52", 2023) == 1_506_331  # Bình Định, Niên giám thống kê 2023
    assert population("2025", "52", 2023) is None  # Gia Lai 2025 = Gia Lai + Bình Định: Gia Lai not yet shipped
    assert per_inhabitant(3_000_000, 1_500_000) == 2.0 and per_inhabitant(5, None) is None


ROOT = Path(__file__).resolve().parents[1]


def test_one_spelling_style_in_everything_a_user_reads():
    assert one_spelling("Hoà Bình, Khánh Hoà, thuỷ, xoá, khoá, quý") == "Hòa Bình, Khánh Hòa, thủy, xóa, khóa, quý"
    files = [*ROOT.glob("libstats/**/*.py"), *ROOT.glob("workbook_templates/*.toml"), *ROOT.glob("docs/*.md"),
             ROOT / "README.md", ROOT / "libstats/data/years.toml", ROOT / "libstats/data/departments.toml"]
    old = {f.name: sorted({w for w in re.findall(r"\w+", unicodedata.normalize("NFC", f.read_text("utf-8")))
                           if one_spelling(w) != w}) for f in files if f.exists()}
    old.pop("provinces.py")  # its docstrings show the old style it converts
    assert {k: v for k, v in old.items() if v} == {}
    assert all(one_spelling(p.name) == p.name for y in (2024, 2025) for p in provinces_for_year(y))
    assert build_form(2024).spec.sheets[-2].name == "III. Đánh giá chỉ đạo của Bộ"


def test_outlier_detail_is_plain_vietnamese():
    text = outlier_detail(31_792.1, 11_729.5, "lượt phục vụ tại thư viện trên mỗi thư viện")
    assert text == ("lượt phục vụ tại thư viện trên mỗi thư viện: 31.792, cao gấp 2,7 lần mức thường gặp ở các tỉnh "
                    "(11.730)")
    assert "chỉ bằng 26%" in outlier_detail(3_000, 11_729.5, "x") and "z =" not in text


def test_2025_samples_follow_from_2024_summed_through_the_merger():
    f24, f25 = build_form(2024), build_form(2025)
    for p in provinces_for_year(2025):
        now = sample_values(f25, p)
        olds = [sample_values(f24, province(2024, c)) for c in components(p.code)]
        for r in f25.rows:
            if r.dim == "tong" or r.dim in {t.id for t in f25.spec.types}:
                r24 = f"{r.indicator}_{r.dim}_n"
                if r24 in olds[0]:
                    assert now[r.p.id] == sum(o[r24] for o in olds), (p.name, r.id)
        huyen = sum(o["so_thu_vien_huyen_n"] for o in olds)
        fates = sum(now[r.n.id] for r in f25.rows if r.indicator == "tv_sap_xep")
        assert fates == huyen, p.name  # every former district library is accounted for
    f26 = build_form(2026)
    p = province(2026, "75")
    assert all(sample_values(f26, p)[r.p.id] == sample_values(f25, province(2025, "75"))[r.n.id] for r in f26.rows)


def test_sample_national_magnitudes_are_near_the_published_ones():
    f24 = build_form(2024)
    tot: dict[str, int] = {}
    for p in provinces_for_year(2024):
        for k, v in sample_values(f24, p).items():
            if isinstance(v, int) and k.endswith("_n"):
                tot[k] = tot.get(k, 0) + v
    assert 550 <= tot["so_thu_vien_huyen_n"] <= 750  # 654 district libraries in 2022
    assert 2_400 <= tot["so_thu_vien_xa_n"] <= 3_400  # 2,897 commune libraries
    network = tot["so_thu_vien_tong_n"] + tot["so_phong_doc_phong_doc_xa_n"] + tot["so_phong_doc_phong_doc_co_so_n"]
    assert 20_000 <= network <= 28_000  # ~24,000 units
    assert 45e6 <= tot["luot_tai_tv_tong_n"] + tot["luot_ngoai_tv_tong_n"] <= 85e6  # 63.8 M visits
    assert 55e6 <= tot["luot_tl_tong_n"] <= 100e6  # 76.7 M items served
    assert 1 <= tot["so_tv_moi_tu_nhan_n"] <= 12  # a handful of new private libraries


def test_sample_narratives_do_not_say_the_same_words_twice_in_a_sentence():
    form = build_form(2025)
    for p in provinces_for_year(2025)[:10]:
        values = sample_values(form, p)
        for f in form.fields_of("narrative"):
            for sentence in re.split(r"(?<=\.)\s", values[f.id]):
                words = re.findall(r"\w+", sentence.lower())
                pairs = [" ".join(words[i:i + 2]) for i in range(len(words) - 1)]
                again = {x for x in pairs if pairs.count(x) > 1} - {"thư viện", "thông tin"}
                assert not again, (f.id, sentence)


def test_the_outlines_italics_and_libstats_hints_look_different_from_the_ministrys_words(tmp_path):
    form = build_form(2024)
    path = write_template(form, tmp_path / "f.xlsx")
    wb = openpyxl.load_workbook(path, rich_text=True)
    item = form.fields["n224a_thanh_tuu"]
    runs = wb[item.sheet].cell(row=item.row + 1, column=1).value
    assert [(str(r.text), bool(r.font.i)) for r in runs if hasattr(r, "font")] == [("a) ", False),
                                                                              ("Những thành tựu đạt được", True)]
    hinted = form.fields["n222_hieu_qua"]
    runs = wb[hinted.sheet].cell(row=hinted.row + 1, column=1).value
    hint = [r for r in runs if hasattr(r, "font") and "trang “2.2 Số liệu”" in str(r.text)]
    assert hint and hint[0].font.i and hint[0].font.color.rgb.endswith("595959")
