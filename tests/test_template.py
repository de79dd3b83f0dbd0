"""The spec and the locked template, read back with openpyxl."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from libstats.cli import main
from libstats.model.form import build_form
from libstats.model.form import PROVINCE_FIELD
from libstats.model.rules import EmptyRule, build_rules
from libstats.model.spec import SpecError, load_spec
from libstats.model.layout import CHECK_COUNT_CELLS, CHECK_SHEET, TABLE_COLUMNS, cell_name, check_result_cell
from libstats.model.provinces import province, provinces_for_year
from libstats.forms.template import (TemplateOptions, select_provinces, sender_values, template_filename,
                                     write_template)

OUTLINE = Path(__file__).parent / "data" / "outline-2024.txt"  # verbatim copy of shared/seed/outline-2024.txt
SHARED_OUTLINE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "outline-2024.txt"
SPEC = Path(__file__).resolve().parents[1] / "workbook_templates" / "bao-cao-thu-vien.toml"


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).replace("*", "").casefold().split())


def _outline_lines() -> list[str]:
    """Every heading and bullet of the seed outline (the two title lines joined)."""
    text = OUTLINE.read_text(encoding="utf-8")
    text = text.replace("năm 2024,\nPhương", "năm 2024, Phương")
    lines = [_norm(line) for line in text.splitlines() if line.strip()]
    return [line for line in lines if line != "đề cương"]


def _strings(path: Path) -> set[str]:
    wb = openpyxl.load_workbook(path)
    return {_norm(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)}


@pytest.mark.skipif(not SHARED_OUTLINE.exists(), reason="shared/ is not beside the project")
def test_the_outline_copy_is_verbatim():
    assert OUTLINE.read_bytes() == SHARED_OUTLINE.read_bytes()


def test_every_heading_and_bullet_of_the_outline_is_in_the_2024_workbook(hanoi_2024):
    strings = _strings(hanoi_2024)
    missing = [line for line in _outline_lines() if not any(s == line or s.startswith(line + " (") for s in strings)]
    assert not missing, missing
    assert len(_outline_lines()) > 50


def test_a_form_is_the_same_to_the_byte_whatever_was_written_before(form2024, tmp_path):
    """The same options give the same bytes, whether the form is the first written or follows other provinces'
    forms, prefilled ones and another password (nothing a form leaves behind changes the next)."""
    import datetime as dt

    from libstats.forms.samples import sample_values

    stamp = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)
    hn, hp = province(2024, "01"), province(2024, "31")
    some = sample_values(form2024, hp)
    note = next(iter(some))
    forms = [TemplateOptions(province=hn), TemplateOptions(), TemplateOptions(province=hp, values=some),
             TemplateOptions(province=hn, values=some, locked=frozenset({note})),
             TemplateOptions(province=hp, values=some, notes={note: "Số liệu năm trước"}),
             TemplateOptions(province=hn, password="khac")]
    forms = [TemplateOptions(**{**vars(opts), "generated_at": stamp}) for opts in forms]
    first = [write_template(form2024, tmp_path / f"first-{i}.xlsx", opts).read_bytes() for i, opts in enumerate(forms)]
    again = [write_template(form2024, tmp_path / f"again-{i}.xlsx", opts).read_bytes()
             for i, opts in reversed(list(enumerate(forms)))][::-1]
    assert first == again
    assert len(set(first)) == len(forms)  # (and the options do make other workbooks)


def test_a_text_shaped_like_xlsxwriters_rich_text_is_written_as_text(form2024, tmp_path):
    """XlsxWriter writes a shared string "<r>…</r>" raw: the form and every workbook of ``xlsx_writer`` write it as
    the text it is (escaped), whichever way a cell is written."""
    from libstats.forms.template import xlsx_writer

    markup = "<r><t>chèn</t></r><x></r>"
    field = next(f for f in form2024.fields.values() if f.kind == "narrative")
    path = write_template(form2024, tmp_path / "f.xlsx", TemplateOptions(values={field.id: markup}))
    assert openpyxl.load_workbook(path)[field.sheet][field.cell].value == markup
    wb = xlsx_writer(tmp_path / "w.xlsx")
    ws = wb.add_worksheet("a")
    ws.write(0, 0, markup)
    ws.write_string("A2", markup, wb.add_format({"bold": True}))
    ws.write(2, 0, "<r></r>")  # the shortest such text
    wb.close()
    got = openpyxl.load_workbook(tmp_path / "w.xlsx")["a"]
    assert [got["A1"].value, got["A2"].value, got["A3"].value] == [markup, markup, "<r></r>"]
    assert got["A2"].font.b


def test_every_field_is_one_named_unlocked_validated_cell_and_the_rest_is_locked(hanoi_2024, form2024):
    wb = openpyxl.load_workbook(hanoi_2024)
    inputs: dict[tuple[str, str], str] = {}
    for f in form2024.fields.values():
        dn = wb.defined_names[f.id]
        (sheet, ref), = list(dn.destinations)
        assert ":" not in ref, f"{f.id} points at a range {ref}"
        assert (sheet, ref.replace("$", "")) == (f.sheet, f.cell)
        inputs[(sheet, f.cell)] = f.id
    for ws in wb.worksheets:
        assert ws.protection.sheet, f"sheet {ws.title} is not protected"
        validated = {}  # cell -> (validation, the top-left corner of its cells: what its formula refers to)
        for dv in ws.data_validations.dataValidation:
            corner = min((rng.min_row, rng.min_col) for rng in dv.sqref.ranges)
            assert {rng.min_col for rng in dv.sqref.ranges} == {corner[1]}  # one column: the corner is one of its cells
            for rng in dv.sqref.ranges:
                for cell in rng.cells:
                    assert cell not in validated, f"{ws.title}: two validations on {cell}"
                    validated[cell] = (dv, cell_name(corner[0] - 1, corner[1] - 1))
        stray = [cell_name(r - 1, c - 1) for r, c in validated if (ws.title, cell_name(r - 1, c - 1)) not in inputs]
        assert not stray, f"{ws.title}: validation on cells that are no input: {stray}"
        for row in ws.iter_rows():
            for c in row:
                fid = inputs.get((ws.title, c.coordinate))
                locked = c.protection.locked
                if fid is None:
                    assert locked, f"{ws.title}!{c.coordinate} is unlocked but is no input"
                    continue
                f = form2024.fields[fid]
                if f.kind == "province":  # fixed on a per-province form
                    assert locked and c.value == "Hà Nội"
                    continue
                assert not locked, f"input {fid} is locked"
                assert (c.row, c.column) in validated, f"input {fid} has no validation"
                dv, top = validated[(c.row, c.column)]
                if f.kind == "number":
                    # a count or "x" (không thống kê); the formula refers to the top cell of the validation's cells,
                    # the one cell Excel and LibreOffice both move it from to each of the others (issue 9)
                    top_count = "1E9" if form2024.spec.max_count == 10**9 else str(form2024.spec.max_count)
                    assert dv.type == "custom" and dv.formula1 == (
                        f'IF(ISNUMBER({top}),AND({top}>=0,{top}=INT({top}),{top}<={top_count}),{top}="x")')
                    assert dv.promptTitle and dv.error and "cột Đơn vị tính" in dv.prompt  # the unit is beside it
                    assert ws.cell(c.row, TABLE_COLUMNS["unit"] + 1).value == f.unit
    # every field was met while walking the cells
    met = {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert set(inputs) <= met


def test_a_column_of_one_rule_is_one_validation_even_where_a_cell_looks_like_part_of_its_formula(hanoi_2024):
    """E9's rule reads "<=1E9": the number is no reference to E9, so E9 shares the validation of E7:E19."""
    ws = openpyxl.load_workbook(hanoi_2024)["2.2 Số liệu"]
    (dv,) = [dv for dv in ws.data_validations.dataValidation if "E9" in dv.sqref]
    assert all(cell in dv.sqref for cell in ("E7", "E8", "E10")) and "1E9" in dv.formula1


def test_generic_form_has_a_province_dropdown_fed_from_a_named_range(generic_2024):
    wb = openpyxl.load_workbook(generic_2024)
    cover = wb["Bìa"]
    dv = [d for d in cover.data_validations.dataValidation if "B9" in str(d.sqref)]
    assert dv and dv[0].type == "list" and dv[0].formula1 == "ds_tinh"
    (sheet, ref), = list(wb.defined_names["ds_tinh"].destinations)
    names = [r[0].value for r in wb[sheet][ref.replace("$", "")]]
    assert len(names) == 63 and "Thừa Thiên Huế" in names
    assert wb[sheet].sheet_state == "hidden"
    assert wb["_libstats"].sheet_state == "veryHidden"


def test_metadata_names_form_version_year_and_province_with_its_code_list(hanoi_2024, form2024):
    wb = openpyxl.load_workbook(hanoi_2024)
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["libstats_form"] == "bao-cao-thu-vien"
    assert props["libstats_version"] == form2024.spec.version
    assert props["libstats_year"] == "2024"
    assert props["libstats_province"] == "2004:01"


def test_2026_has_34_provinces_no_district_level_and_the_new_receiving_unit(tmp_path):
    assert len(select_provinces(2026, [], all_provinces=True)) == 34  # what --all-provinces writes (rollover tests)
    result = CliRunner().invoke(main, ["template", "--year", "2026", "--province", "75", "--province", "01",
                                       "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == ["bao-cao-thu-vien-2026_01_ha-noi.xlsx",
                                                               "bao-cao-thu-vien-2026_75_dong-nai.xlsx"]
    wb = openpyxl.load_workbook(tmp_path / "bao-cao-thu-vien-2026_75_dong-nai.xlsx")
    assert not [n for n in wb.defined_names if "_huyen_" in n]
    strings = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert "Cấp huyện" not in strings
    assert "UBND THÀNH PHỐ ĐỒNG NAI" in strings  # Đồng Nai became a city on 30/4/2026
    assert any("Cục Văn hóa cơ sở, Gia đình và Thư viện" in s for s in strings)
    assert any("(Thư viện cấp tỉnh, xã)" in s for s in strings)


def test_2024_all_provinces_makes_63_readable_ascii_file_names(returns_2024, form2024, tmp_path):
    names = sorted(template_filename(form2024, p) for p in provinces_for_year(2024))
    assert sorted(p.name for p in returns_2024.values()) == names  # what write_templates wrote for all 63
    assert len(set(names)) == 63 and all(n.isascii() for n in names)
    assert "bao-cao-thu-vien-2024_77_ba-ria-vung-tau.xlsx" in names
    assert not list(returns_2024["01"].parent.glob(".*"))  # no temporary files left behind
    result = CliRunner().invoke(main, ["template", "--year", "2024", "--province", "77", "--province", "01",
                                       "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bao-cao-thu-vien-2024_01_ha-noi.xlsx",
                                                         "bao-cao-thu-vien-2024_77_ba-ria-vung-tau.xlsx"]


def test_unknown_province_code_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(main, ["template", "--year", "2025", "--province", "17", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "mã tỉnh '17' không có trong danh mục 2025" in result.output


def test_forms_and_samples_never_replace_a_filled_return_without_overwrite(tmp_path):
    """Forms made into the folder where the returns were saved: the filled Hà Nội return keeps its bytes."""
    box = tmp_path / "bao-cao-2025"
    made = CliRunner().invoke(main, ["samples", "--year", "2025", "--out", str(box), "-q"])
    assert made.exit_code == 0, made.output
    filled = box / template_filename(build_form(2025), province(2025, "01"))
    before = {p.name: p.read_bytes() for p in box.iterdir()}
    for args in (["template", "--year", "2025", "--province", "01", "--out", str(box)],
                 ["samples", "--year", "2025", "--out", str(box), "--flaws", "-q"]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1, res.output
        assert f"Không ghi: thư mục {box} đã có" in res.output and filled.name in res.output
        assert "--overwrite" in res.output
    assert {p.name: p.read_bytes() for p in box.iterdir()} == before
    res = CliRunner().invoke(main, ["template", "--year", "2025", "--province", "01", "--out", str(box),
                                    "--overwrite"])
    assert res.exit_code == 0 and filled.read_bytes() != before[filled.name]


def test_non_ascii_password_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["template", "--year", "2024", "--password", "mậtkhẩu", "--out",
                                       str(tmp_path)])
    assert result.exit_code == 1 and "ASCII" in result.output


def test_text_that_looks_like_a_formula_or_url_stays_text(tmp_path, form2024):
    values = {"n1_danh_gia_chung": "=cmd|' /C calc'!A0", "bia_email": "http://example.org", "bia_dien_thoai": "0123"}
    path = write_template(form2024, tmp_path / "t.xlsx", TemplateOptions(values=values))
    ws = openpyxl.load_workbook(path)["I. Đánh giá chung"]
    cell = ws[form2024.fields["n1_danh_gia_chung"].cell]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    cover = openpyxl.load_workbook(path)["Bìa"]
    email, phone = (form2024.fields[k].cell for k in ("bia_email", "bia_dien_thoai"))
    assert cover[email].hyperlink is None and cover[phone].value == "0123"


def test_check_sheet_cached_results_are_what_a_blank_form_shows(hanoi_2024, form2024):
    """The results stored with the formulas (what a reader sees before any recalculation), against what a blank
    form must show, worked out here from the rules' fields: an empty-cells rule counts all its inputs (only the
    province is filled on this form), every other rule has nothing to check yet."""
    rules = build_rules(form2024)
    ws = openpyxl.load_workbook(hanoi_2024)[CHECK_SHEET]
    assert [ws[check_result_cell(i)].value for i in range(len(rules))] == [r.formula() for r in rules]
    prefilled = {PROVINCE_FIELD, *sender_values(form2024, province(2024, "01"))}  # fixed on this form
    expected = []
    for r in rules:
        if isinstance(r, EmptyRule):
            n = sum(f.id not in prefilled for f in r.fields)
            expected.append("Đạt" if n == 0 else f"{'Lỗi' if r.severity == 'error' else 'Cảnh báo'}: còn {n} ô trống")
        else:
            expected.append("—")
    cached = openpyxl.load_workbook(hanoi_2024, data_only=True)[CHECK_SHEET]
    assert [cached[check_result_cell(i)].value for i in range(len(rules))] == expected
    errors, warnings = (cached[c].value for c in CHECK_COUNT_CELLS)
    assert (errors, warnings) == (sum(e.startswith("Lỗi") for e in expected),
                                  sum(e.startswith("Cảnh báo") for e in expected))
    assert errors > 0 and warnings > 0


def _spec_with(tmp_path: Path, old: str, new: str) -> Path:
    text = SPEC.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "spec.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,message", [
    ('name = "2.1 Quản lý nhà nước"', 'name = "2.1 Quản lý nhà nước và các văn bản"',
     r"sheets\[2\]\.name: sheet name .* has 35 characters"),
    ('name = "2.3 Số liệu"', 'name = "2.3 Số liệu?"', r"sheets\[6\]\.name: .* contains \?"),
    ('id = "n1_danh_gia_chung"', 'id = "vh2024"', r"sheets\[1\]\.items\[0\]\.id: 'vh2024' cannot be a workbook"),
    ('id = "n211a_vbqppl"', 'id = "n211a_luat"', r"sheets\[2\]\.items\[3\]\.id: 'n211a_luat' is used twice"),
    ('{ indicator = "tl_so", by = "level" }', '{ indicator = "tl_sach", by = "level" }',
     r"rows\[11\]\.indicator: unknown indicator 'tl_sach'"),
    ('narrative_max_chars = 20000', 'narrative_max_chars = 40000', r"narrative_max_chars: 40000 is outside"),
])
def test_spec_errors_name_the_key_and_the_problem(tmp_path, old, new, message):
    with pytest.raises(SpecError, match=message):
        load_spec(_spec_with(tmp_path, old, new))


def test_a_spec_change_is_a_data_change(tmp_path):
    """A new outline is a new spec file: a new bullet appears as a new named input, no code changed."""
    path = _spec_with(tmp_path, '[[sheets.items]]\nkind = "narrative"\nid = "n13_han_che"',
                      '[[sheets.items]]\nkind = "narrative"\nid = "n13_moi"\ntext = "3.3. Kiến nghị mới"\n\n'
                      '[[sheets.items]]\nkind = "narrative"\nid = "n13_han_che"')
    form = build_form(2025, load_spec(path))
    assert form.fields["n13_moi"].label == "3.3. Kiến nghị mới"
    out = write_template(form, tmp_path / "x.xlsx")
    assert "n13_moi" in openpyxl.load_workbook(out).defined_names


def test_year_wording_follows_the_report_year(form2024):
    form = build_form(2026)
    assert form.title == "Tổng kết công tác thư viện năm 2026, phương hướng, nhiệm vụ trọng tâm năm 2027"
    assert "so sánh với năm 2025" in form.fields["n222_hieu_qua"].label
    assert re.search(r"năm 2023 \(số lượng", form2024.fields["n222_hieu_qua"].label)


def test_two_runs_of_forked_workers_at_once_each_write_their_own_forms(tmp_path):
    import threading
    import zipfile

    from libstats.forms.template import write_templates

    runs = {year: (build_form(year), list(provinces_for_year(year))[:9]) for year in (2024, 2025)}
    made: dict[int, list[Path]] = {}
    threads = [threading.Thread(target=lambda y=year, f=form, ps=ps: made.__setitem__(
        y, write_templates(f, ps, tmp_path / str(y), jobs=2))) for year, (form, ps) in runs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for year, (form, ps) in runs.items():
        assert made[year] == [tmp_path / str(year) / template_filename(form, p) for p in ps]
        for path in made[year]:
            with zipfile.ZipFile(path) as z:
                assert f"<vt:lpwstr>{year}</vt:lpwstr>" in z.read("docProps/custom.xml").decode()


def test_prefilled_numbers_of_any_kind_are_numbers_and_a_value_that_is_no_number_is_refused(tmp_path):
    from decimal import Decimal

    import numpy as np

    form = build_form(2024)
    counts = [f.id for f in form.fields.values() if f.kind == "number"][:2]
    path = write_template(form, tmp_path / "a.xlsx", TemplateOptions(values={counts[0]: np.int64(5),
                                                                             counts[1]: Decimal("7")}))
    wb = openpyxl.load_workbook(path)
    got = [wb[form.fields[f].sheet][form.fields[f].cell].value for f in counts]
    assert got == [5, 7] and all(isinstance(v, int) for v in got)
    with pytest.raises(ValueError, match="không phải là một số hữu hạn"):
        write_template(form, tmp_path / "b.xlsx", TemplateOptions(values={counts[0]: float("nan")}))
    assert not (tmp_path / "b.xlsx").exists()


def test_a_province_of_another_years_list_is_refused(tmp_path):
    with pytest.raises(ValueError, match="không có trong danh mục tỉnh của năm 2024"):
        write_template(build_form(2024), tmp_path / "a.xlsx", TemplateOptions(province=province(2025, "46")))


def test_write_templates_keeps_what_the_prefill_asks_for(tmp_path):
    from libstats.forms.template import write_templates

    form = build_form(2024)
    [path] = write_templates(form, [province(2024, "01")], tmp_path,
                             prefill=lambda p: TemplateOptions(spec_version="0.9-thu"))
    wb = openpyxl.load_workbook(path)
    assert wb.custom_doc_props["libstats_version"].value == "0.9-thu"
