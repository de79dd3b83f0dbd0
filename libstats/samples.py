"""Realistic filled returns for demos, docs, tests and benchmarks.

Magnitudes and ratios follow the project's domain notes (DOMAIN.md): bigger provinces have bigger figures,
visits ≈ 60 per card, items ≈ 1.5–2.5 per visit, year-over-year changes mostly within −10 % … +25 %. The
narratives are believable Vietnamese text for every bullet. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .form import PROVINCE_FIELD, Form
from .provinces import Province, provinces_for_year, sender, size, slug
from .template import DEFAULT_PASSWORD, sender_values, TemplateOptions, template_filename, write_template

__all__ = ["sample_values", "narrative_text", "Flaw", "FLAWS", "write_samples"]

_PEOPLE = ["Nguyễn Thị Hồng", "Trần Văn Minh", "Lê Thị Thu Hà", "Phạm Quốc Tuấn", "Hoàng Thị Lan", "Vũ Đức Thắng",
           "Đặng Thị Mai", "Bùi Văn Hải", "Đỗ Thị Ngọc Anh", "Ngô Thanh Sơn", "Dương Thị Huyền", "Lý Văn Phúc"]
_OPENINGS = [
    "Trong năm {year}, {unit} đã chủ động tham mưu và triển khai đồng bộ các nhiệm vụ về {topic}.",
    "Năm {year}, công tác {topic} tiếp tục được {unit} quan tâm chỉ đạo, đạt nhiều kết quả tích cực.",
    "Thực hiện kế hoạch năm {year}, {unit} đã tập trung triển khai {topic} theo đúng hướng dẫn của Bộ.",
]
_MIDDLES = [
    "Thư viện tỉnh phối hợp với các thư viện cấp xã tổ chức {n} đợt luân chuyển tài liệu, phục vụ bạn đọc ở "
    "vùng sâu, vùng xa.",
    "Đã tổ chức {n} hội nghị, tập huấn chuyên môn cho cán bộ thư viện cơ sở, nâng cao chất lượng phục vụ.",
    "Các hoạt động được lồng ghép với Ngày Sách và Văn hóa đọc Việt Nam, thu hút đông đảo học sinh, sinh viên "
    "tham gia.",
    "Việc ứng dụng công nghệ thông tin được đẩy mạnh; cơ sở dữ liệu thư mục được cập nhật thêm {n} nghìn biểu ghi.",
    "Nguồn kinh phí còn hạn chế nhưng đơn vị đã huy động thêm nguồn xã hội hóa để bổ sung tài liệu.",
    "Đội ngũ cán bộ thư viện cơ bản đáp ứng yêu cầu, tuy nhiên cán bộ cấp xã phần lớn kiêm nhiệm.",
    "Mô hình tủ sách cộng đồng, điểm đọc sách tại nhà văn hóa thôn được nhân rộng ở {n} xã, phường.",
]
_CLOSINGS = [
    "Kết quả trên góp phần lan tỏa văn hóa đọc trong cộng đồng.",
    "Trong thời gian tới, đơn vị tiếp tục duy trì và nâng cao hiệu quả các hoạt động này.",
    "Đơn vị kiến nghị Bộ tiếp tục quan tâm hỗ trợ kinh phí và hướng dẫn chuyên môn.",
]


def narrative_text(label: str, province: Province, year: int, rng: random.Random) -> str:
    topic = re.sub(r"^[-+\s]*(?:[IVX]+\.|\d+(?:\.\d+)*\.|[a-d]\))?\s*", "", label)  # "2.4. ", "a) ", "- "
    topic = topic.split("(")[0].rstrip(" .;:").lower()
    unit = f"{sender(province, year).name} {province.name}"
    parts = [rng.choice(_OPENINGS).format(year=year, unit=unit, topic=topic)]
    parts += [m.format(n=rng.randint(2, 40)) for m in rng.sample(_MIDDLES, rng.randint(2, 4))]
    parts.append(rng.choice(_CLOSINGS))
    return " ".join(parts)


def _level_figures(level: str, n_libs: int, scale: float, rng: random.Random) -> dict[str, int]:
    """Year-N figures of one public level of one province."""
    if level == "tinh":
        cards = int(rng.uniform(800, 12000) * scale)
        visits = int(cards * rng.uniform(25, 70))
        stock = int(rng.uniform(120_000, 600_000) * scale)
        return {"so_thu_vien": 1, "the_cap_moi": cards, "the_hieu_luc": int(cards * rng.uniform(1.8, 3.2)),
                "luot_tai_tv": visits, "luot_ngoai_tv": int(visits * rng.uniform(0.1, 0.5)),
                "luot_tl": int(visits * rng.uniform(1.5, 2.5)), "luot_truy_cap": int(rng.uniform(1e5, 9e5) * scale),
                "von_tl": stock, "bo_sung": int(stock * rng.uniform(0.02, 0.06)),
                "tl_so": int(rng.uniform(2_000, 80_000) * scale)}
    per = {"huyen": (290, 14_000, 22_000, 18_000, 300), "xa": (25, 1_500, 2_600, 2_500, 0)}[level]
    cards = int(n_libs * per[0] * rng.uniform(0.6, 1.4))
    visits = int(n_libs * per[1] * rng.uniform(0.6, 1.4))
    stock = int(n_libs * per[3] * rng.uniform(0.7, 1.3))
    return {"so_thu_vien": n_libs, "the_cap_moi": cards, "the_hieu_luc": int(cards * rng.uniform(1.5, 2.5)),
            "luot_tai_tv": visits, "luot_ngoai_tv": int(visits * rng.uniform(0.05, 0.3)),
            "luot_tl": int(visits * rng.uniform(1.4, 2.4)), "luot_truy_cap": int(n_libs * per[4] * rng.uniform(0, 2)),
            "von_tl": stock, "bo_sung": int(stock * rng.uniform(0.02, 0.05)),
            "tl_so": int(n_libs * rng.uniform(0, 80)) if level == "huyen" else 0}


def _type_figures(communes: int, scale: float, rng: random.Random) -> dict[tuple[str, str], int]:
    private = rng.choice([0, 0, 0, 1, 1, 2, 3])
    community = rng.randint(0, int(6 * scale) + 1)
    rooms = int(communes * rng.uniform(0.2, 0.8))
    spaces = rng.randint(3, int(40 * scale) + 4)
    other = rng.randint(0, 8)
    cars = rng.choice([0, 1, 1, 1, 2])
    counts = {("so_thu_vien", "tu_nhan"): (private, (300, 4000)),
              ("so_thu_vien", "cong_dong"): (community, (200, 3000)),
              ("so_phong_doc", "phong_doc_co_so"): (rooms, (50, 600)),
              ("so_phong_doc", "khong_gian_doc"): (spaces, (100, 2000)), ("so_thu_vien", "khac"): (other, (100, 3000)),
              ("so_xe", "o_to"): (cars, (4000, 30000))}
    out = {("so_tv_moi", "tu_nhan"): rng.randint(0, private),
           ("so_phong_doc", "phong_doc_xa"): int(communes * rng.uniform(0.5, 1.5))}
    for (ind, dim), (n, per) in counts.items():
        out[(ind, dim)] = n
        out[("luot_phuc_vu", dim)] = n * rng.randint(*per)
    return out


def _previous(value: int, rng: random.Random) -> int:
    if value == 0:
        return 0
    change = rng.uniform(-0.10, 0.25)
    return max(0, round(value / (1 + change)))


def sample_values(form: Form, province: Province, seed: int = 2024) -> dict[str, object]:
    """A complete, consistent, plausible return of ``province`` for ``form``'s year."""
    rng = random.Random(f"{seed}:{form.year}:{province.key}")
    districts, communes = size(province)
    scale = max(0.4, min(3.0, communes / 180))
    figures: dict[tuple[str, str], int] = {}
    level_libs = {"tinh": 1, "huyen": max(1, round(districts * rng.uniform(0.85, 1.0))),
                  "xa": max(1, round(communes * rng.uniform(0.08, 0.25)))}
    for level in form.levels:
        for ind, v in _level_figures(level.id, level_libs[level.id], scale, rng).items():
            figures[(ind, level.id)] = v
    figures.update(_type_figures(communes, scale, rng))
    # the cars' visits (Bảng 3) are part of the outreach visits of all levels (Bảng 2)
    outreach = sum(v for (ind, _), v in figures.items() if ind == "luot_ngoai_tv")
    figures[("luot_phuc_vu", "o_to")] = min(figures[("luot_phuc_vu", "o_to")], int(outreach * 0.6))
    values: dict[str, object] = {}
    prev: dict[tuple[str, str], int] = {k: _previous(v, rng) for k, v in figures.items()}
    for row in form.rows:
        if row.is_total:
            continue
        values[row.n.id] = figures.get((row.indicator, row.dim), 0)
        values[row.p.id] = prev.get((row.indicator, row.dim), 0)
    for row in form.rows:
        if row.is_total:
            parts = [r for r in form.rows if r.table == row.table and r.indicator == row.indicator and not r.is_total]
            values[row.n.id] = sum(values[r.n.id] for r in parts)
            values[row.p.id] = sum(values[r.p.id] for r in parts)
    for row in form.rows:
        n, p = values[row.n.id], values[row.p.id]
        if p and abs(n - p) / p > form.spec.swing_threshold_pct / 100:
            values[row.gc.id] = "Thay đổi do sắp xếp lại mạng lưới và mở thêm điểm phục vụ trong năm."
    for f in form.fields_of("narrative"):
        values[f.id] = narrative_text(f.label, province, form.year, rng)
    values.update(sender_values(form, province))
    values.update({
        "bia_don_vi_soan": "Thư viện " + province.full_name.replace("Tỉnh ", "tỉnh ").replace("Thành phố ",
                                                                                             "thành phố "),
        "bia_nguoi_phu_trach": rng.choice(_PEOPLE),
        "bia_dien_thoai": f"0{rng.randint(200, 299)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "bia_email": f"thuvien.{slug(province.name).replace('-', '')}@example.gov.vn",
        "bia_ngay": dt.date(form.year, 12, rng.randint(1, 12)),
        "bia_thu_truong": rng.choice(_PEOPLE),
    })
    values.pop(PROVINCE_FIELD, None)
    return values


@dataclass(frozen=True)
class Flaw:
    """A problem planted in one sample return, with the finding codes the checks must give for it."""

    id: str
    position: int  # index of the province in the year's list
    description: str
    codes: frozenset[str]  # codes the file(s) of this province must carry (and no other warning or error)


FLAWS = (
    Flaw("text-numbers", 1, "Số liệu gõ dạng chữ: '1.234.567' đọc được (thông tin), '1,234' không rõ nghĩa (lỗi).",
         frozenset({"V01", "V02"})),
    Flaw("missing-section", 2, "Bỏ trống cả trang “2.3 Loại hình khác” và bảng số liệu 2.3 năm N.",
         frozenset({"R01"})),
    Flaw("swing", 3, "Số lượt tài nguyên thông tin cấp tỉnh tăng gấp ba mà không giải thích.",
         frozenset({"R04"})),
    Flaw("old-template", 4, "Điền vào mẫu phiên bản cũ (2023.1).", frozenset({"I03"})),
    Flaw("resubmission", 5, "Gửi hai lần: lần đầu sai tổng số thẻ, lần sau đã sửa.", frozenset({"L01", "L02", "R02"})),
    Flaw("wrong-province", 6, "Tệp của tỉnh này đặt tên theo tỉnh kế tiếp (gửi nhầm); tỉnh kế tiếp không có tệp.",
         frozenset({"I05"})),
    Flaw("corrupt", 8, "Tệp bị hỏng khi gửi (chỉ còn một nửa).", frozenset({"F03"})),
)


_SAVED = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)


def _saved(form: Form, days: int = 0) -> dt.datetime:
    return _SAVED.replace(year=form.year) + dt.timedelta(days=330 + days)


def _flawed_values(flaw: Flaw, form: Form, values: dict) -> dict:
    v = dict(values)
    if flaw.id == "text-numbers":
        v["luot_tl_tinh_n"] = f"{values['luot_tl_tinh_n']:,}".replace(",", ".")
        v["so_xe_o_to_p"] = "1,234"
    elif flaw.id == "missing-section":
        for f in form.fields.values():  # the narratives and the year-N figures of section 2.3
            if f.section == "2.3" and f.kind in ("narrative", "number") and f.column in (None, "n"):
                v.pop(f.id, None)
    elif flaw.id == "swing":
        v["luot_tl_tinh_n"] = values["luot_tl_tinh_n"] * 3
        v["luot_tl_tong_n"] = values["luot_tl_tong_n"] + 2 * values["luot_tl_tinh_n"]
        v.pop("luot_tl_tinh_gc", None)
    return v


def write_samples(form: Form, out_dir: Path, seed: int = 2024, flaws: bool = False,
                  password: str = DEFAULT_PASSWORD,
                  progress: Callable[[Iterable], Iterable] = lambda it: it) -> list[Path]:
    """A filled return for every province of ``form``'s year (and the flawed ones with ``flaws``)."""
    provinces = list(provinces_for_year(form.year))
    by_position = {f.position: f for f in FLAWS} if flaws else {}
    silent = {f.position + 1 for f in by_position.values() if f.id == "wrong-province"}  # its file was misnamed
    paths = []
    for i, p in enumerate(progress(provinces)):
        if i in silent:
            continue
        values = sample_values(form, p, seed)
        flaw = by_position.get(i)
        paths += _write_one(form, out_dir, p, values, flaw, provinces, password)
    return paths


def _write_one(form: Form, out: Path, p: Province, values: dict, flaw: Flaw | None, provinces: list[Province],
               password: str) -> list[Path]:
    def write(name: str, vals: dict, days: int = 0, **opts) -> Path:
        return write_template(form, out / name, TemplateOptions(province=p, values=vals, password=password,
                                                                generated_at=_saved(form, days), **opts))

    name = template_filename(form, p)
    if flaw is None or flaw.id in ("text-numbers", "missing-section", "swing"):
        return [write(name, _flawed_values(flaw, form, values) if flaw else values)]
    if flaw.id == "old-template":
        return [write(name, values, spec_version="2023.1")]
    if flaw.id == "resubmission":
        wrong = dict(values, the_cap_moi_tong_n=values["the_cap_moi_tong_n"] + 250)
        first = write(name.replace(".xlsx", "_lan-1.xlsx"), wrong, days=-5)
        return [first, write(name, values)]
    if flaw.id == "wrong-province":
        after = provinces[provinces.index(p) + 1]
        return [write(template_filename(form, after), values)]
    if flaw.id == "corrupt":
        path = write(name, values)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return [path]
    raise ValueError(f"unknown flaw {flaw.id}")
