"""The tidy dataset describes itself (datapackage.json) and is checked against the spec when read back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from libstats.cli import main
from libstats.consolidation.datapackage import COLUMN_FIELDS, DESCRIPTOR, SCHEMA_VERSION
from libstats.consolidation.dataset import COLUMNS, load_dataset, tidy_frame, write_dataset
from libstats.model.form import build_form
from libstats.model.provinces import province
from libstats.model.spec import default_spec, load_spec

SPEC = default_spec()
F2024 = build_form(2024)


def _rows(codes=("01", "02"), year=2024) -> list[dict]:
    form = build_form(year)
    rows = []
    for code in codes:
        p = province(year, code)
        for i, r in enumerate(form.rows):
            for f, y in ((r.n, year), (r.p, year - 1)):
                rows.append({"province_code": p.code, "code_list": p.code_list, "province_name": p.name,
                             "region": p.region, "section": f.section, "table": r.table, "kind": "figure",
                             "indicator": r.indicator, "dim": r.dim, "dim_label": r.dim_label, "unit": r.unit,
                             "year": y, "value": i + y,
                             "source_file": f"{p.code}.xlsx", "sheet": f.sheet, "cell": f.cell, "field_id": f.id})
    return rows


def _spec_variant(tmp_path: Path, old: str, new: str):
    text = Path(SPEC.source).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_spec(path)


def test_every_dataset_column_is_described():
    assert set(COLUMNS) <= set(COLUMN_FIELDS)
    for name, f in COLUMN_FIELDS.items():
        assert f.title and f.description and f.type in {"string", "integer", "year", "number"}, name


def test_the_descriptor_names_fields_types_titles_spec_and_code_list(tmp_path):
    csv = write_dataset(tidy_frame(_rows()), tmp_path / "tong-hop-2024_du-lieu.csv")
    package = json.loads((tmp_path / DESCRIPTOR).read_text(encoding="utf-8"))
    res = package["resources"][0]
    assert (res["path"], res["format"], res["encoding"]) == (csv.name, "csv", "utf-8-sig")
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    assert list(fields) == COLUMNS
    assert (fields["value"]["type"], fields["year"]["type"], fields["value"]["title"]) == ("integer", "year", "Số liệu")
    meta = res["libstats"]
    assert meta["spec"] == {"id": SPEC.id, "version": SPEC.version, "sha256": SPEC.sha256}
    assert meta["dataset_schema"] == SCHEMA_VERSION and meta["report_year"] == 2024 and meta["years"] == [2023, 2024]
    assert {"id": "von_tl", "title": SPEC.indicators["von_tl"].label, "unit": SPEC.indicators["von_tl"].unit} in \
        meta["indicators"]
    [codes] = meta["code_lists"]
    assert codes["name"] == "2004" and len(codes["codes"]) == 63 and codes["codes"][0] == {"code": "01",
                                                                                           "name": "Hà Nội"}
    back = load_dataset(csv, report_year=2024)
    assert back.attrs["notes"] == [] and len(back) == len(_rows())


def test_two_datasets_in_one_folder_each_keep_their_description(tmp_path):
    write_dataset(tidy_frame(_rows()), tmp_path / "a.csv")
    write_dataset(tidy_frame(_rows(("01",))), tmp_path / "b.csv")
    write_dataset(tidy_frame(_rows(("01",))), tmp_path / "a.csv")  # rewritten: replaced, not duplicated
    paths = [r["path"] for r in json.loads((tmp_path / DESCRIPTOR).read_text(encoding="utf-8"))["resources"]]
    assert sorted(paths) == ["a.csv", "b.csv"]


def test_a_dataset_of_an_older_spec_version_is_read_by_indicator_with_a_note(tmp_path):
    older = _spec_variant(tmp_path, f'version = "{SPEC.version}"', 'version = "2023.2"')
    csv = write_dataset(tidy_frame(_rows()), tmp_path / "d.csv", older)
    df = load_dataset(csv)
    [note] = df.attrs["notes"]
    assert "phiên bản 2023.2" in note and f"phiên bản {SPEC.version}" in note and "vẫn được đọc" in note


def test_a_dataset_with_an_indicator_the_spec_no_longer_has_is_refused_naming_it(tmp_path):
    older = _spec_variant(tmp_path, "[[indicators]]\n", '[[indicators]]\nid = "tl_cu"\nlabel = "Cũ"\nunit = "cuốn"\n'
                          'definition = "Chỉ tiêu đã bỏ"\n\n[[indicators]]\n')
    csv = write_dataset(tidy_frame(_rows()), tmp_path / "d.csv", older)
    with pytest.raises(ValueError, match=r"d\.csv: .*không còn các chỉ tiêu: tl_cu"):
        load_dataset(csv)


def test_a_dataset_of_another_form_or_a_newer_format_is_refused(tmp_path):
    other = _spec_variant(tmp_path, 'id = "bao-cao-thu-vien"', 'id = "bao-cao-bao-tang"')
    csv = write_dataset(tidy_frame(_rows()), tmp_path / "d.csv", other)
    with pytest.raises(ValueError, match="mẫu báo cáo 'bao-cao-bao-tang', không phải mẫu 'bao-cao-thu-vien'"):
        load_dataset(csv)
    write_dataset(tidy_frame(_rows()), csv)
    package = json.loads((tmp_path / DESCRIPTOR).read_text(encoding="utf-8"))
    package["resources"][0]["libstats"]["dataset_schema"] = SCHEMA_VERSION + 1
    (tmp_path / DESCRIPTOR).write_text(json.dumps(package), encoding="utf-8")
    with pytest.raises(ValueError, match="mới hơn phiên bản 1 .*cập nhật libstats"):
        load_dataset(csv)


def test_a_dataset_written_before_descriptors_is_read_with_a_note(tmp_path):
    csv = write_dataset(tidy_frame(_rows()), tmp_path / "d.csv")
    (tmp_path / DESCRIPTOR).unlink()
    df = load_dataset(csv)
    assert len(df) == len(_rows())
    [note] = df.attrs["notes"]
    assert "không có mô tả (datapackage.json)" in note
    run = CliRunner().invoke(main, ["rebase", str(csv), "-o", str(tmp_path / "out" / "r.csv")])
    assert run.exit_code == 0, run.output
    assert f"Lưu ý: {note}" in run.output
    assert json.loads((tmp_path / "out" / DESCRIPTOR).read_text(encoding="utf-8"))["resources"][0]["path"] == "r.csv"


def test_a_column_edited_away_is_refused(tmp_path):
    csv = write_dataset(tidy_frame(_rows()), tmp_path / "d.csv")
    write_dataset_without_description = tidy_frame(_rows()).drop(columns=["region"])
    write_dataset_without_description.to_csv(csv, index=False, encoding="utf-8-sig")
    with pytest.raises(ValueError, match="không khớp với mô tả"):
        load_dataset(csv)


def test_rebase_and_previous_say_what_file_they_expect(tmp_path):
    csv = write_dataset(tidy_frame(_rows(year=2025, codes=("01",))), tmp_path / "tong-hop-2025_du-lieu.csv")
    summary = tmp_path / "tong-hop-2024.xlsx"
    summary.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    run = CliRunner().invoke(main, ["rebase", str(summary), "-o", str(tmp_path / "out.csv")])
    assert run.exit_code != 0
    assert "tong-hop-2024.xlsx là một bảng tính (tệp Excel), không phải bộ dữ liệu; cần tệp CSV" in run.output
    run = CliRunner().invoke(main, ["rebase", str(csv), "-o", str(summary)])  # would replace the summary
    assert run.exit_code == 1 and "bộ dữ liệu là tệp .csv, tên tệp phải có đuôi .csv" in run.output
    assert summary.read_bytes() == b"PK\x03\x04" + b"\0" * 40
    run = CliRunner().invoke(main, ["template", "--year", "2025", "--province", "01", "--previous", str(csv),
                                    "--out", str(tmp_path / "t")])
    assert run.exit_code != 0 and not (tmp_path / "t").exists()
    assert "tong-hop-2025_du-lieu.csv là bộ dữ liệu năm 2025; cần bộ dữ liệu năm 2024" in run.output


def test_a_dataset_saved_again_with_semicolons_or_in_utf16_gets_a_vietnamese_message(tmp_path):
    """What a spreadsheet program does to a CSV it saves: another separator, another encoding."""
    csv = write_dataset(tidy_frame(_rows()), tmp_path / "d.csv")
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    semi, comma, utf16 = tmp_path / "semi.csv", tmp_path / "comma.csv", tmp_path / "utf16.csv"
    frame.to_csv(semi, sep=";", index=False)
    frame.loc[1, "label"] = "Số thư viện, phòng đọc"  # a comma in one text: two fields on that line
    frame.to_csv(comma, sep=";", index=False)
    utf16.write_bytes(csv.read_text(encoding="utf-8-sig").encode("utf-16"))
    with pytest.raises(ValueError, match=r"không đúng dạng CSV phân cách bằng dấu phẩy .*\(dòng 1 phân cách bằng "
                                         r"dấu chấm phẩy\); hãy dùng tệp gốc"):
        load_dataset(semi)
    with pytest.raises(ValueError, match=r"không đúng dạng CSV phân cách bằng dấu phẩy .*\(dòng 3\); hãy dùng tệp gốc"):
        load_dataset(comma)
    with pytest.raises(ValueError, match=r"tệp không ở mã UTF-8 .*\(byte thứ 1\); hãy dùng tệp gốc"):
        load_dataset(utf16)
