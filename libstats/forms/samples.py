"""Realistic filled returns for demos, docs, tests and benchmarks.

Magnitudes and ratios follow the project's domain notes (``shared/reference/DOMAIN.md``, beside the repository,
not in it): bigger provinces have bigger figures, visits ≈ 60 per card, items ≈ 1.5–2.5 per visit,
year-over-year changes mostly within −10 % … +25 %. The narratives are believable Vietnamese text for every
bullet. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from functools import cache

from libstats.model.form import PROVINCE_FIELD, Form, build_form
from libstats.model.provinces import Province, code_list_for_year, components, province, provinces_for_year, size, slug
from libstats.forms.template import (DEFAULT_PASSWORD, TemplateOptions, forked_map, sender_values, template_filename,
                       write_template)

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
    "Đội ngũ cán bộ thư viện cơ bản đáp ứng yêu cầu, tuy nhiên ở cấp xã phần lớn vẫn làm kiêm nhiệm.",
    "Mô hình tủ sách cộng đồng, điểm đọc sách tại nhà văn hóa thôn được nhân rộng ở {n} xã, phường.",
]
_CLOSINGS = [
    "Kết quả trên góp phần lan tỏa văn hóa đọc trong cộng đồng.",
    "Trong thời gian tới, đơn vị tiếp tục duy trì và nâng cao hiệu quả các hoạt động này.",
    "Đơn vị kiến nghị Bộ tiếp tục quan tâm hỗ trợ kinh phí và hướng dẫn chuyên môn.",
]


_FALLBACK_OPENING = "Kết quả nổi bật năm {year} về {topic} được tóm tắt như sau."
_LEADS = re.compile(r"^(?:(?:tình hình|công tác|kết quả|các|những)\s+)+")


def _repeats(sentence: str) -> bool:
    """A sentence that says the same two words twice ("triển khai tình hình triển khai"); "thư viện" and
    "thông tin" may recur (the outline itself repeats them)."""
    words = re.findall(r"\w+", sentence.lower())
    pairs = [" ".join(words[i:i + 2]) for i in range(len(words) - 1)]
    return any(pairs.count(p) > 1 for p in set(pairs) - {"thư viện", "thông tin"})


def narrative_text(label: str, province: Province, year: int, rng: random.Random) -> str:
    topic = re.sub(r"^[-+\s]*(?:[IVX]+\.|\d+(?:\.\d+)*\.|[a-d]\))?\s*", "", label)  # "2.4. ", "a) ", "- "
    topic = topic.split("(")[0].rstrip(" .;:").lower()
    topic = re.sub(r"\s*trong năm \d{4}$", "", _LEADS.sub("", topic))
    unit = "Sở"  # the department writes about itself
    openings = [o.format(year=year, unit=unit, topic=topic) for o in rng.sample(_OPENINGS, len(_OPENINGS))]
    parts = [next((o for o in openings if not _repeats(o)), _FALLBACK_OPENING.format(year=year, topic=topic))]
    parts += [m.format(n=rng.randint(2, 40)) for m in rng.sample(_MIDDLES, rng.randint(2, 4))]
    parts.append(rng.choice(_CLOSINGS))
    return " ".join(parts)


BASE_YEAR = 2023  # figures of this year (and earlier) are drawn afresh; every later year follows from the one before

# Year-N figures of one public level per library (cấp huyện) or per unit (cấp xã: libraries and commune reading
# rooms), near the domain notes' magnitudes: cards, visits at the library, items served per visit, stock.
_PER_UNIT = {"huyen": (290, 14_000, 1.6, 18_000), "xa": (8, 3_000, 1.3, 1_500)}
_ACTIVITY = ("the_cap_moi", "the_doi_moi", "the_hieu_luc", "luot_tai_tv", "luot_ngoai_tv", "luot_tl",
             "luot_truy_cap", "bo_sung", "bao_bo_sung", "sach_luan_chuyen", "tl_so", "luot_phuc_vu")


def _level_figures(level: str, n_libs: int, rooms: int, scale: float, rng: random.Random) -> dict[str, int]:
    """Base-year figures of one public level of one province."""
    if level == "tinh":
        cards = int(rng.uniform(1_500, 7_000) * scale)
        visits = int(cards * rng.uniform(35, 55))
        stock = int(rng.uniform(120_000, 600_000) * scale)
        return {"so_thu_vien": 1, "tv_doc_lap": 1, "tv_trong_ttvh": 0, "the_cap_moi": cards,
                "the_doi_moi": int(cards * rng.uniform(0.3, 0.8)), "the_hieu_luc": int(cards * rng.uniform(2.2, 3.2)),
                "luot_tai_tv": visits, "luot_ngoai_tv": int(visits * rng.uniform(0.15, 0.45)),
                "luot_tl": int(visits * rng.uniform(1.6, 2.4)), "luot_truy_cap": int(rng.uniform(1e5, 9e5) * scale),
                "von_tl": stock, "bo_sung": int(stock * rng.uniform(0.02, 0.05)),
                "bao_bo_sung": rng.randint(80, 400), "sach_luan_chuyen": int(stock * rng.uniform(0.03, 0.12)),
                "tl_so": int(rng.uniform(2_000, 80_000) * scale)}
    cards_per, visits_per, items_per, stock_per = _PER_UNIT[level]
    units = n_libs + rooms
    cards = int(units * cards_per * rng.uniform(0.6, 1.4))
    visits = int(units * visits_per * rng.uniform(0.8, 1.2))
    stock = int(units * stock_per * rng.uniform(0.7, 1.3))
    merged = round(n_libs * rng.uniform(0.2, 0.7) if level == "huyen" else n_libs * rng.uniform(0.5, 0.9))
    return {"so_thu_vien": n_libs, "tv_doc_lap": n_libs - merged, "tv_trong_ttvh": merged, "the_cap_moi": cards,
            "the_doi_moi": int(cards * rng.uniform(0.2, 0.6)), "the_hieu_luc": int(cards * rng.uniform(2.0, 2.8)),
            "luot_tai_tv": visits, "luot_ngoai_tv": int(visits * rng.uniform(0.05, 0.3)),
            "luot_tl": int(visits * items_per * rng.uniform(0.9, 1.3)),
            "luot_truy_cap": int(n_libs * 300 * rng.uniform(0, 2)) if level == "huyen" else 0,
            "von_tl": stock, "bo_sung": int(stock * rng.uniform(0.02, 0.05)),
            "bao_bo_sung": int(n_libs * rng.uniform(5, 20) if level == "huyen" else n_libs * rng.uniform(0, 3)),
            "sach_luan_chuyen": int(stock * rng.uniform(0.02, 0.08)) if level == "huyen" else 0,
            "tl_so": int(n_libs * rng.uniform(0, 80)) if level == "huyen" else 0}


def _type_figures(communes: int, scale: float, rng: random.Random) -> dict[tuple[str, str], int]:
    """Base-year counts of the other library types, and their visits."""
    private = rng.choice([0, 0, 1, 1, 1, 2])  # about 50 in the country (DOMAIN.md: 48-61)
    counts = {("so_thu_vien", "tu_nhan"): (private, (300, 4000)),
              ("so_thu_vien", "cong_dong"): (rng.randint(0, int(4 * scale) + 1), (200, 3000)),
              ("so_phong_doc", "phong_doc_co_so"): (int(communes * rng.uniform(1.1, 1.7)), (50, 600)),
              ("so_phong_doc", "khong_gian_doc"): (rng.randint(3, int(40 * scale) + 4), (100, 2000)),
              ("so_thu_vien", "khac"): (rng.randint(0, 8), (100, 3000)),
              ("so_xe", "o_to"): (rng.choice([0, 1, 1, 1, 2]), (4000, 30000))}
    out = {("so_tv_moi", "tu_nhan"): int(private > 0 and rng.random() < 0.1)}
    for (ind, dim), (n, per) in counts.items():
        out[(ind, dim)] = n
        out[("luot_phuc_vu", dim)] = n * rng.randint(*per)
    return out


def _consistent(fig: dict[tuple[str, str], int], levels: Iterable[str]) -> dict[tuple[str, str], int]:
    """The relations every return obeys: valid cards ≥ new cards, merged + independent = libraries, the cars'
    visits inside the outreach visits."""
    for lv in levels:
        cards = fig.get(("the_cap_moi", lv), 0)
        fig[("the_hieu_luc", lv)] = max(fig.get(("the_hieu_luc", lv), 0), int(cards * 1.8))
        libs, merged = fig.get(("so_thu_vien", lv), 0), fig.get(("tv_trong_ttvh", lv), 0)
        fig[("tv_trong_ttvh", lv)] = min(merged, libs)
        fig[("tv_doc_lap", lv)] = libs - fig[("tv_trong_ttvh", lv)]
    outreach = sum(v for (ind, dim), v in fig.items() if ind == "luot_ngoai_tv" and dim in levels)
    fig[("luot_phuc_vu", "o_to")] = min(fig.get(("luot_phuc_vu", "o_to"), 0), int(outreach * 0.6))
    return fig


def _base(p: Province, year: int, seed: int, levels: tuple[str, ...]) -> dict[tuple[str, str], int]:
    rng = random.Random(f"{seed}:{year}:{p.key}")
    districts, communes = size(p)
    scale = max(0.4, min(3.0, communes / 170))
    communal = max(1, round(communes * rng.uniform(0.2, 0.4)))
    libs = {"tinh": (1, 0), "huyen": (max(1, round(districts * rng.uniform(0.85, 1.0))), 0),
            "xa": (communal, round(communal * rng.uniform(1.8, 2.4)))}  # commune libraries, reading rooms
    fig: dict[tuple[str, str], int] = {}
    for lv in levels:
        for ind, v in _level_figures(lv, *libs[lv], scale, rng).items():
            fig[(ind, lv)] = v
    fig[("so_phong_doc", "phong_doc_xa")] = libs["xa"][1]
    fig.update(_type_figures(communes, scale, rng))
    return _consistent(fig, levels)


def _next_year(before: dict[tuple[str, str], int], rng: random.Random, levels: tuple[str, ...]
               ) -> dict[tuple[str, str], int]:
    """One year on: activity grows or shrinks a little (province-wide trend and noise), stock grows by what was
    added less what was weeded out, counts of libraries barely move, a handful of private libraries open."""
    trend = rng.uniform(-0.04, 0.12)
    fig = {}
    for (ind, dim), v in before.items():
        if ind in _ACTIVITY:
            fig[(ind, dim)] = round(v * (1 + trend + rng.uniform(-0.04, 0.04)))
        elif ind == "von_tl":
            fig[(ind, dim)] = v
        elif ind in ("so_phong_doc",) and v > 20:
            fig[(ind, dim)] = round(v * (1 + rng.uniform(-0.01, 0.04)))
        else:
            fig[(ind, dim)] = v
    for (ind, dim), v in before.items():
        if ind == "von_tl":
            fig[(ind, dim)] = v + fig.get(("bo_sung", dim), 0) - round(v * rng.uniform(0.005, 0.02))
    new = int(rng.random() < 0.08)  # about five new private libraries a year in the country
    fig[("so_tv_moi", "tu_nhan")] = new
    fig[("so_thu_vien", "tu_nhan")] = before.get(("so_thu_vien", "tu_nhan"), 0) + new
    opened = fig[("so_thu_vien", "tu_nhan")] - before.get(("so_thu_vien", "tu_nhan"), 0)
    if opened and not before.get(("so_thu_vien", "tu_nhan")):
        fig[("luot_phuc_vu", "tu_nhan")] = rng.randint(300, 4000)
    return _consistent(fig, levels)


def _carried(spec, year: int) -> dict[str, str]:
    return {lv.id: lv.carried_into for lv in spec.levels if not lv.exists_in(year) and lv.carried_into}


def _merged(form: Form, p: Province, seed: int) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Last year's figures of a province of the new list: its old provinces' figures summed, ended levels carried
    as the spec says (what the rebased dataset holds); and the ended levels' own figures, summed."""
    prev_form = build_form(form.year - 1, form.spec)
    carry = _carried(form.spec, form.year)
    summed: dict[tuple[str, str], int] = {}
    ended: dict[tuple[str, str], int] = {}
    for old in components(p.code):
        for (ind, dim), v in _figures(prev_form, province(form.year - 1, old), seed).items():
            if dim in carry:
                ended[(ind, dim)] = ended.get((ind, dim), 0) + v
            key = (ind, carry.get(dim, dim))
            summed[key] = summed.get(key, 0) + v
    return summed, ended


def _reorganised(form: Form, p: Province, seed: int) -> dict[tuple[str, str], int]:
    """The first year of a new province list: one provincial library per new province, and each former
    district library became a branch of it, was handed to a commune, merged into another unit or dissolved."""
    rng = random.Random(f"{seed}:{form.year}:{p.key}:reform")
    summed, ended = _merged(form, p, seed)
    carry = _carried(form.spec, form.year)
    levels = tuple(lv.id for lv in form.levels)
    fig = dict(summed)
    for dim, into in carry.items():
        n = ended.get(("so_thu_vien", dim), 0)
        branch = round(n * rng.uniform(0.3, 0.6))
        handed = round((n - branch) * rng.uniform(0.5, 0.9))
        merged = round((n - branch - handed) * rng.uniform(0.5, 1.0))
        fates = {"thanh_chi_nhanh": branch, "giao_xa": handed, "sap_nhap": merged,
                 "giai_the": n - branch - handed - merged}
        for fate, count in fates.items():
            fig[("tv_sap_xep", fate)] = count
        moved, lost = (branch / n, (merged + fates["giai_the"]) / n) if n else (0.0, 0.0)
        top = levels[0]
        for (ind, d), v in ended.items():
            if d != dim or ind in ("so_thu_vien", "tv_doc_lap", "tv_trong_ttvh"):
                continue
            fig[(ind, into)] -= round(v * (moved + lost * 0.6))
            fig[(ind, top)] = fig.get((ind, top), 0) + round(v * moved)
        fig[("so_thu_vien", into)] -= n - handed
        fig[("so_thu_vien", top)] = 1
        fig[("tv_trong_ttvh", into)] = round(fig[("so_thu_vien", into)] * rng.uniform(0.5, 0.9))
    for key in [k for k in fig if k[0] in ("tv_doc_lap", "tv_trong_ttvh") and k[1] == levels[0]]:
        fig[key] = 1 if key[0] == "tv_doc_lap" else 0
    return _next_year(fig, rng, levels) | {k: v for k, v in fig.items() if k[0] == "tv_sap_xep"}


@cache
def _figures_cached(spec, year: int, key: str, seed: int) -> dict[tuple[str, str], int]:
    form = build_form(year, spec)
    code_list, code = key.split(":")
    p = province(year, code)
    levels = tuple(lv.id for lv in form.levels)
    if year <= BASE_YEAR:
        return _base(p, year, seed, levels)
    if code_list_for_year(year - 1) != code_list:
        return _reorganised(form, p, seed)
    rng = random.Random(f"{seed}:{year}:{key}")
    return _next_year(_figures(build_form(year - 1, spec), province(year - 1, code), seed), rng, levels)


def _figures(form: Form, p: Province, seed: int) -> dict[tuple[str, str], int]:
    """Year-N figures of a province: drawn in the base year, then each year from the year before."""
    return dict(_figures_cached(form.spec, form.year, p.key, seed))


def _previous_figures(form: Form, p: Province, seed: int) -> dict[tuple[str, str], int]:
    """What the province reports as year N−1: exactly its year N−1 figures (summed through a merger)."""
    if form.year - 1 < 2000:
        return {}
    if code_list_for_year(form.year - 1) != p.code_list:
        return _merged(form, p, seed)[0]
    return _figures(build_form(form.year - 1, form.spec), province(form.year - 1, p.code), seed)


def _explanation(form: Form, p: Province) -> str:
    if code_list_for_year(form.year - 1) != p.code_list:
        return ("Sắp xếp đơn vị hành chính từ 01/7/2025: số năm trước là tổng các tỉnh cũ; thư viện cấp huyện cũ "
                "chuyển thành chi nhánh thư viện tỉnh hoặc giao về xã.")
    return "Thay đổi do sắp xếp lại mạng lưới và mở thêm điểm phục vụ trong năm."


def sample_values(form: Form, province: Province, seed: int = 2024) -> dict[str, object]:
    """A complete, consistent, plausible return of ``province`` for ``form``'s year, whose year N−1 column is
    the province's own year N−1 return (summed over the old provinces after a merger)."""
    rng = random.Random(f"{seed}:{form.year}:{province.key}:text")
    now, before = _figures(form, province, seed), _previous_figures(form, province, seed)
    values: dict[str, object] = {}
    for row in form.rows:
        if not row.is_total:
            values[row.n.id] = now.get((row.indicator, row.dim), 0)
            values[row.p.id] = before.get((row.indicator, row.dim), 0)
    for row in form.rows:
        if row.is_total:
            parts = [r for r in form.rows if r.table == row.table and r.indicator == row.indicator and not r.is_total]
            values[row.n.id] = sum(values[r.n.id] for r in parts)
            values[row.p.id] = sum(values[r.p.id] for r in parts)
    for row in form.rows:
        n, p = values[row.n.id], values[row.p.id]
        if p and abs(n - p) / p > form.spec.swing_threshold_pct / 100:
            values[row.gc.id] = _explanation(form, province)
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
class _Job:
    """What a flaw needs to write the file(s) of one province."""

    form: Form
    out: Path
    province: Province
    values: dict
    provinces: list[Province]
    password: str

    @property
    def name(self) -> str:
        return template_filename(self.form, self.province)

    def write(self, name: str, values: dict, days: int = 0, **opts) -> Path:
        return write_template(self.form, self.out / name, TemplateOptions(
            province=self.province, values=values, password=self.password, generated_at=_saved(self.form, days),
            **opts))


def _clean(job: _Job) -> list[Path]:
    return [job.write(job.name, job.values)]


def _text_numbers(job: _Job) -> list[Path]:
    v = dict(job.values, so_xe_o_to_p="1,5")  # a fraction where a count is asked: refused
    big = next(r.n.id for r in job.form.rows if job.values[r.n.id] >= 1_000_000)  # two groups: one reading
    one = next(r.n.id for r in job.form.rows if 1_000 <= job.values[r.n.id] < 1_000_000)  # one group: "5.731"
    for fid in (big, one):
        v[fid] = f"{job.values[fid]:,}".replace(",", ".")
    return [job.write(job.name, v)]


def _missing_section(job: _Job) -> list[Path]:
    v = {k: x for k, x in job.values.items()  # the narratives and the year-N figures of section 2.3
         if not ((f := job.form.fields.get(k)) and f.section == "2.3" and f.kind in ("narrative", "number")
                 and f.column in (None, "n"))}
    return [job.write(job.name, v)]


def _swing(job: _Job) -> list[Path]:
    v = dict(job.values)
    v["luot_tl_tinh_n"] = job.values["luot_tl_tinh_n"] * 3
    v["luot_tl_tong_n"] = job.values["luot_tl_tong_n"] + 2 * job.values["luot_tl_tinh_n"]
    v.pop("luot_tl_tinh_gc", None)
    return [job.write(job.name, v)]


def _old_template(job: _Job) -> list[Path]:
    return [job.write(job.name, job.values, spec_version="2023.1")]


def _resubmission(job: _Job) -> list[Path]:
    wrong = dict(job.values, the_cap_moi_tong_n=job.values["the_cap_moi_tong_n"] + 250)
    first = job.write(job.name.replace(".xlsx", "_lan-1.xlsx"), wrong, days=-5)
    return [first, job.write(job.name, job.values)]


def _wrong_province(job: _Job) -> list[Path]:
    after = job.provinces[job.provinces.index(job.province) + 1]
    return [job.write(template_filename(job.form, after), job.values)]


def _corrupt(job: _Job) -> list[Path]:
    path = job.write(job.name, job.values)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [path]


@dataclass(frozen=True)
class Flaw:
    """A problem planted in one sample return, with the finding codes the checks must give for it."""

    id: str
    position: int  # index of the province in the year's list
    description: str
    codes: frozenset[str]  # codes the file(s) of this province must carry (and no other warning or error)
    write: Callable[[_Job], list[Path]] = _clean
    hides_next: bool = False  # the next province sends no file of its own


FLAWS = (
    Flaw("text-numbers", 1, "Số liệu gõ dạng chữ: '1.234.567' và '5.731' (một nhóm hàng nghìn) đọc được (thông tin), "
         "'1,5' không thể là số đếm (lỗi).", frozenset({"V01", "V04"}), _text_numbers),
    Flaw("missing-section", 2, "Bỏ trống cả trang “2.3 Loại hình khác” và bảng số liệu 2.3 năm N.",
         frozenset({"R01"}), _missing_section),
    Flaw("swing", 3, "Số lượt tài nguyên thông tin cấp tỉnh tăng gấp ba mà không giải thích.",
         frozenset({"R04"}), _swing),
    Flaw("old-template", 4, "Điền vào mẫu phiên bản cũ (2023.1).", frozenset({"I03"}), _old_template),
    Flaw("resubmission", 5, "Gửi hai lần: lần đầu sai tổng số thẻ, lần sau đã sửa.", frozenset({"L01", "L02", "R02"}),
         _resubmission),
    Flaw("wrong-province", 6, "Tệp của tỉnh này đặt tên theo tỉnh kế tiếp (gửi nhầm); tỉnh kế tiếp không có tệp.",
         frozenset({"I05"}), _wrong_province, hides_next=True),
    Flaw("corrupt", 8, "Tệp bị hỏng khi gửi (chỉ còn một nửa).", frozenset({"F03"}), _corrupt),
)


_SAVED = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)


def _saved(form: Form, days: int = 0) -> dt.datetime:
    return _SAVED.replace(year=form.year) + dt.timedelta(days=330 + days)


def write_samples(form: Form, out_dir: Path, seed: int = 2024, flaws: bool = False,
                  password: str = DEFAULT_PASSWORD,
                  progress: Callable[[Iterable], Iterable] = lambda it: it,
                  jobs: int = os.cpu_count() or 1) -> list[Path]:
    """A filled return for every province of ``form``'s year (and the flawed ones with ``flaws``), written by
    ``jobs`` forked processes."""
    provinces = list(provinces_for_year(form.year))
    by_position = {f.position: f for f in FLAWS} if flaws else {}
    silent = {f.position + 1 for f in by_position.values() if f.hides_next}
    made = forked_map(_write_one, (form, out_dir, seed, password, provinces, by_position),
                      [i for i in range(len(provinces)) if i not in silent], progress, jobs)
    return [path for paths in made for path in paths]


def _write_one(run: tuple, i: int) -> list[Path]:
    form, out_dir, seed, password, provinces, by_position = run
    job = _Job(form, out_dir, provinces[i], sample_values(form, provinces[i], seed), provinces, password)
    return by_position[i].write(job) if i in by_position else _clean(job)
