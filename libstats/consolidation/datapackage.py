"""The tidy dataset describes itself: a Frictionless Data Package descriptor (``datapackage.json``) beside the CSV.

The descriptor names each column with its type, Vietnamese title and description (units where they apply),
the spec the figures were read with (id, version, sha256), its indicators with their units, and the province
code list(s) of the rows. One ``datapackage.json`` per folder lists every dataset of the folder, one resource
each, so a rebased dataset written beside last year's never overwrites its description.

When a dataset is read back (``--previous``, ``rebase``), :func:`check_descriptor` compares the descriptor with
the CSV and with the spec in use: another form, an indicator the spec no longer knows, or a newer dataset
format is refused with a Vietnamese message; an older spec version whose indicators all still exist is read
with a note; a dataset written before descriptors existed is read with a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from libstats.atomic import atomic_path
from libstats.model.provinces import provinces_for_year
from libstats.model.spec import Spec

__all__ = ["DESCRIPTOR", "SCHEMA_VERSION", "COLUMN_FIELDS", "ColumnField", "DatasetMismatch", "descriptor",
           "write_descriptor", "check_descriptor", "check_dataset", "refuse_workbook"]

DESCRIPTOR = "datapackage.json"
SCHEMA_VERSION = 1  # the layout of the tidy dataset; bump when a column changes meaning
_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
_RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"


@dataclass(frozen=True)
class ColumnField:
    type: str  # Table Schema type
    title: str  # Vietnamese, as a user reads it
    description: str
    unit: str = ""  # a fixed unit; a figure's own unit is in the ``unit`` column


# Every column the dataset may have, keyed by name (dataset.COLUMNS is the order; a test keeps them together).
COLUMN_FIELDS = {
    "province_code": ColumnField("string", "Mã tỉnh", "Mã tỉnh, thành phố hai chữ số, theo danh mục ở cột code_list."),
    "code_list": ColumnField("string", "Danh mục mã tỉnh",
                             "2004: danh mục 63 tỉnh, thành phố; 2025: danh mục 34 tỉnh, thành phố từ 01/7/2025."),
    "province_name": ColumnField("string", "Tên tỉnh", "Tên tỉnh, thành phố trong danh mục của năm báo cáo."),
    "region": ColumnField("string", "Vùng", "Vùng kinh tế - xã hội của tỉnh."),
    "section": ColumnField("string", "Mục", "Mục của đề cương báo cáo chứa số liệu."),
    "table": ColumnField("string", "Bảng", "Bảng của biểu mẫu chứa số liệu."),
    "kind": ColumnField("string", "Loại dòng",
                        "figure: số liệu; explanation: giải thích của tỉnh; narrative: nội dung báo cáo; "
                        "cover: thông tin trang bìa; correction: đính chính số năm trước tỉnh đề nghị; finding: "
                        "cảnh báo của bước kiểm tra còn mở trên một dòng số liệu (tăng/giảm quá ngưỡng chưa giải "
                        "thích, khác thường so với các tỉnh), chưa được Bộ xem xét; mã và nội dung cảnh báo ở cột "
                        "text (R04: …)."),
    "indicator": ColumnField("string", "Mã chỉ tiêu", "Mã chỉ tiêu trong mẫu báo cáo (xem indicators)."),
    "label": ColumnField("string", "Chỉ tiêu", "Tên chỉ tiêu hoặc nội dung, như trong biểu mẫu."),
    "dim": ColumnField("string", "Mã cấp/loại hình", "Cấp thư viện công cộng, tổng số, hoặc loại hình thư viện."),
    "dim_label": ColumnField("string", "Cấp/loại hình", "Tên cấp thư viện hoặc loại hình thư viện."),
    "unit": ColumnField("string", "Đơn vị tính", "Đơn vị tính của số liệu ở cột value."),
    "year": ColumnField("year", "Năm", "Năm của số liệu (năm báo cáo hoặc năm trước)."),
    "value": ColumnField("integer", "Số liệu", "Số liệu tỉnh báo cáo; trống khi tỉnh không báo cáo. Đơn vị tính "
                         "ở cột unit."),
    "text": ColumnField("string", "Nội dung", "Nội dung chữ tỉnh viết (giải thích, báo cáo, trang bìa)."),
    "status": ColumnField("string", "Tình trạng", "Tình trạng của số liệu: x = không thống kê; ở dòng đính chính: "
                                                  "requested (đề nghị, chưa áp dụng), accepted, refused."),
    "source_file": ColumnField("string", "Tệp nguồn", "Tệp báo cáo của tỉnh chứa số liệu."),
    "sheet": ColumnField("string", "Trang tính", "Trang tính chứa số liệu trong tệp nguồn."),
    "cell": ColumnField("string", "Ô", "Ô chứa số liệu trong trang tính (theo cách ghi của Excel, ví dụ D7)."),
    "field_id": ColumnField("string", "Mã ô nhập", "Tên xác định (defined name) của ô nhập trong biểu mẫu."),
}


class DatasetMismatch(ValueError):
    """A dataset whose descriptor does not fit the CSV or the spec in use (Vietnamese message)."""


def _code_lists(df) -> list[dict]:
    lists = []
    for code_list in sorted(set(df["code_list"].dropna().astype(str))) if "code_list" in df else []:
        provinces = provinces_for_year(int(code_list)) if code_list.isdigit() else ()
        lists.append({"name": code_list, "codes": [{"code": p.code, "name": p.name} for p in provinces]})
    return lists


def descriptor(df, name: str, spec: Spec) -> dict:
    """The resource of the dataset ``df`` written as ``name``, read with ``spec``."""
    years = sorted({int(y) for y in df["year"].dropna()}) if "year" in df and len(df) else []
    fields = []
    for col in df.columns:
        f = COLUMN_FIELDS.get(col, ColumnField("string", col, ""))
        fields.append({"name": col, "type": f.type, "title": f.title, "description": f.description,
                       **({"unit": f.unit} if f.unit else {})})
    return {
        "name": Path(name).stem.lower().replace("_", "-"),
        "profile": _RESOURCE_PROFILE,
        "path": name, "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig",
        "schema": {"fields": fields, "missingValues": [""]},
        "libstats": {
            "dataset_schema": SCHEMA_VERSION,
            "spec": {"id": spec.id, "version": spec.version, "sha256": spec.sha256},
            "report_year": years[-1] if years else None, "years": years,
            "indicators": [{"id": i.id, "title": i.label, "unit": i.unit} for i in spec.indicators.values()],
            "code_lists": _code_lists(df),
        },
    }


def write_descriptor(df, csv_path: Path, spec: Spec) -> Path:
    """Add or replace the resource of ``csv_path`` in its folder's ``datapackage.json`` (written atomically);
    resources of other CSV files of the folder stay, those whose file is gone are dropped."""
    csv_path = Path(csv_path)
    path = csv_path.with_name(DESCRIPTOR)
    package = _read(path) or {}
    if not isinstance(package.get("resources"), list):
        package = {}
    others = [r for r in package.get("resources", []) if isinstance(r, dict) and r.get("path") != csv_path.name
              and (csv_path.parent / str(r.get("path"))).exists()]
    package = {"$schema": _PROFILE, "name": "libstats-du-lieu",
               "title": "Bộ dữ liệu báo cáo công tác thư viện của các tỉnh, thành phố",
               "resources": [descriptor(df, csv_path.name, spec), *others]}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(package, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_descriptor(csv_path: Path, columns: list[str], spec: Spec) -> list[str]:
    """Notes (Vietnamese) on reading ``csv_path`` with ``spec``; DatasetMismatch when it does not fit."""
    csv_path = Path(csv_path)
    path = csv_path.with_name(DESCRIPTOR)
    package = _read(path) if path.exists() else None
    if path.exists() and package is None:
        raise DatasetMismatch(f"{path}: tệp mô tả bộ dữ liệu không đọc được (không phải JSON hợp lệ)")
    resource = next((r for r in (package or {}).get("resources", []) if isinstance(r, dict)
                     and r.get("path") == csv_path.name), None)
    if resource is None:
        return [f"{csv_path.name}: bộ dữ liệu không có mô tả ({DESCRIPTOR}), có lẽ được ghi trước khi libstats "
                f"ghi mô tả; đã đọc theo mẫu {spec.id} phiên bản {spec.version}, không kiểm tra được mẫu gốc."]
    meta = resource.get("libstats") or {}
    schema = meta.get("dataset_schema")
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise DatasetMismatch(f"{csv_path.name}: bộ dữ liệu theo định dạng phiên bản {schema}, mới hơn phiên bản "
                              f"{SCHEMA_VERSION} mà bản libstats này đọc được; hãy cập nhật libstats.")
    described = [f.get("name") for f in resource.get("schema", {}).get("fields", [])]
    if described != list(columns):
        raise DatasetMismatch(f"{csv_path.name}: các cột của tệp ({', '.join(columns)}) không khớp với mô tả "
                              f"trong {DESCRIPTOR} ({', '.join(map(str, described))}); tệp đã bị sửa?")
    return _check_spec(csv_path.name, meta.get("spec") or {}, meta.get("indicators") or [], spec)


def _check_spec(name: str, was: dict, indicators: list, spec: Spec) -> list[str]:
    if was.get("id") != spec.id:
        raise DatasetMismatch(f"{name}: bộ dữ liệu được lập theo mẫu báo cáo {was.get('id')!r}, không phải mẫu "
                              f"{spec.id!r} đang dùng; không thể dùng số liệu của nó.")
    if was.get("version") == spec.version and was.get("sha256") == spec.sha256:
        return []
    units = {str(i.get("id")): i.get("unit") for i in indicators if isinstance(i, dict)}
    gone = sorted(set(units) - set(spec.indicators))
    moved = sorted(k for k, unit in units.items() if k in spec.indicators and spec.indicators[k].unit != unit)
    if moved:
        raise DatasetMismatch(f"{name}: bộ dữ liệu được lập theo mẫu {spec.id} phiên bản {was.get('version')}; "
                              f"đơn vị tính của chỉ tiêu {', '.join(moved)} khác với mẫu đang dùng (phiên bản "
                              f"{spec.version}), nên số liệu không so sánh được.")
    if gone:
        raise DatasetMismatch(f"{name}: bộ dữ liệu được lập theo mẫu {spec.id} phiên bản {was.get('version')}; "
                              f"mẫu đang dùng (phiên bản {spec.version}) không còn các chỉ tiêu: {', '.join(gone)}. "
                              "Chỉ tiêu đổi tên sẽ mất số liệu năm trước: hãy sửa mã chỉ tiêu trong tệp CSV "
                              "và trong mô tả cho khớp mẫu mới, hoặc dùng mẫu cũ (--spec).")
    return [f"{name}: bộ dữ liệu được lập theo mẫu {spec.id} phiên bản {was.get('version')}, khác phiên bản "
            f"{spec.version} đang dùng; mọi chỉ tiêu của nó đều có trong mẫu đang dùng nên vẫn được đọc theo mã "
            "chỉ tiêu."]


def refuse_workbook(path: Path) -> None:
    """A summary workbook (or any spreadsheet) given where the dataset CSV is expected: say which is which."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return  # the CSV reader names the problem
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or path.suffix.lower() in {".xlsx", ".xls", ".ods"}:
        raise DatasetMismatch(f"{path.name} là một bảng tính (tệp Excel), không phải bộ dữ liệu; cần tệp CSV "
                              "…_du-lieu.csv mà lệnh consolidate ghi bên cạnh bảng tổng hợp")


def check_dataset(csv_path: Path, df, spec: Spec, report_year: int | None = None) -> list[str]:
    """:func:`check_descriptor`, and, when ``report_year`` is given, that the dataset is of that report year
    (its latest year: a year-N dataset also holds the N-1 column)."""
    notes = check_descriptor(csv_path, list(df.columns), spec)
    if report_year is not None:
        check_report_year(csv_path, df, report_year)
    return notes


def check_report_year(csv_path: Path | str, df, report_year: int) -> None:
    """Refuse a dataset that is not of ``report_year`` (its latest year: a year-N dataset also holds N-1)."""
    years = sorted({int(y) for y in df["year"].dropna()})
    if not years or years[-1] != report_year:
        raise DatasetMismatch(f"{Path(csv_path).name} là bộ dữ liệu năm {years[-1] if years else '(không có số liệu)'}"
                              f"; cần bộ dữ liệu năm {report_year} (tệp …_du-lieu.csv do lệnh consolidate năm "
                              f"{report_year} ghi)")
