"""The Ministry's summary workbook (XlsxWriter), Vietnamese, printable on A4 landscape.

Every figure comes from the consolidation's tidy dataset, whose rows name the file, sheet and cell they were
read from; the "Dữ liệu" sheet and the CSV beside the workbook carry that trace.
"""

from __future__ import annotations

import datetime as dt
import numbers
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from libstats.atomic import atomic_path
from libstats.checks.check import OUTPUT_PROPERTY
from libstats.consolidation.consolidate import Consolidation, headline_dim, national_table, province_table, sum_present
from libstats.consolidation.dataset import COVER, NARRATIVE, figures, load_dataset, previous_figures
from libstats.consolidation.rollover import carry_map
from libstats.model.findings import Severity, fmt_rate
from libstats.consolidation.ledger import FATES
from libstats.model.rules import pct_change
from libstats.model.layout import line_chars, wrapped_lines
from libstats.model.population import per_inhabitant_frame, population
from libstats.forms.template import FONT, xlsx_writer
from libstats.outputs.synthesis import proposals_register, write_proposals_sheet

__all__ = ["write_summary", "SHEETS", "explanation_lines", "type_groups", "per_inhabitant_table"]

SHEETS = {"overview": "Tổng quan", "national": "Toàn quốc", "types": "Loại hình khác", "charts": "Biểu đồ",
          "per_inhabitant": "Bình quân theo dân số",
          "contacts": "Liên hệ", "explanations": "Giải thích số liệu",
          "findings": "Kết quả kiểm tra", "ledger": "Sổ theo dõi tệp", "previous": "Đối chiếu năm trước",
          "data": "Dữ liệu"}
_HEAD_FILL = "#D9E2F3"


def _blank(v) -> bool:
    if v is None or isinstance(v, str):
        return v is None or v == ""
    return v != v if isinstance(v, float) else bool(pd.isna(v))


class _Out:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb, self._f, self._tables = wb, {}, {}

    def province_table(self, con: Consolidation, indicator: str, dim: str) -> pd.DataFrame:
        """``consolidate.province_table``, made once per headline for the sheets that show it (not changed)."""
        if (indicator, dim) not in self._tables:
            self._tables[indicator, dim] = province_table(con, indicator, dim)
        return self._tables[indicator, dim]

    def f(self, **kw):
        props = {"font_name": FONT, "font_size": 11, "valign": "top", **kw}
        key = tuple(sorted(props.items()))
        if key not in self._f:
            self._f[key] = self.wb.add_format(props)
        return self._f[key]

    def cell(self, ws, row, col, value, **fmt):
        self._write(ws, row, col, value, self.f(border=1, **fmt))

    @staticmethod
    def _write(ws, row, col, value, f):
        kind = type(value)
        if kind is str and value:  # the common cases first, without the checks below
            ws.write_string(row, col, value, f)
        elif kind is int:
            ws.write_number(row, col, value, f)
        elif _blank(value):
            ws.write_blank(row, col, None, f)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):  # numpy and pandas numbers too
            ws.write_number(row, col, float(value), f)
        else:
            ws.write_string(row, col, str(value), f)  # text from a province always stays text

    def table(self, ws, row: int, headers: list[str], rows: list[list], formats: list[dict], widths: list[float],
              bold_rows: set[int] = frozenset(), head_height: float = 32) -> int:
        for col, (h, w) in enumerate(zip(headers, widths, strict=True)):
            ws.write_string(row, col, h, self.f(bold=True, border=1, bg_color=_HEAD_FILL, text_wrap=True,
                                                align="center", valign="vcenter"))
            ws.set_column(col, col, w)
        ws.set_row(row, head_height)
        rates = {col: fmt["rate_of"] for col, fmt in enumerate(formats) if "rate_of" in fmt}
        formats = [{k: v for k, v in fmt.items() if k != "rate_of"} for fmt in formats]
        plain = [self.f(border=1, bold=False, **fmt) for fmt in formats]
        bold = [self.f(border=1, bold=True, **fmt) for fmt in formats]
        wraps = [col for col, fmt in enumerate(formats) if fmt.get("text_wrap")]
        for i, values in enumerate(rows, start=1):
            for col, (v, f) in enumerate(zip(values, bold if (i - 1) in bold_rows else plain, strict=True)):
                if col in rates and not _blank(v):
                    self._rate(ws, row + i, col, values, rates[col], f)
                else:
                    self._write(ws, row + i, col, v, f)
            lines = max((wrapped_lines(values[col], widths[col]) for col in wraps if isinstance(values[col], str)),
                        default=1)
            if lines > 1:
                ws.set_row(row + i, min(15 * lines + 3, MAX_ROW_HEIGHT))
        ws.repeat_rows(row)
        return row + len(rows) + 1

    @staticmethod
    def _rate(ws, row: int, col: int, values: list, of: tuple[int, int], f) -> None:
        """A rate of change as the formula over the row's N and N−1 cells, with its exact value as the cached
        result (never a rounded constant); shown by the column's format."""
        n, p = (float(values[c]) for c in of)
        ref_n, ref_p = (xl_rowcol_to_cell(row, c) for c in of)
        ws.write_formula(row, col, f"=({ref_n}-{ref_p})/{ref_p}*100", f, (n - p) / p * 100)

    def sheet(self, name: str, title: str, landscape: bool = True):
        """A sheet with its title, on A4, printed one page wide."""
        ws = self.wb.add_worksheet(name)
        ws.write_string(0, 0, title, self.f(bold=True, font_size=13))
        ws.set_paper(9)
        ws.set_landscape() if landscape else ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer("&R&8Trang &P/&N")
        return ws


MAX_ROW_HEIGHT = 409  # points: Excel's tallest row; a longer text continues on the next rows (_chunks)
NUM, PCT, TXT = {"num_format": "#,##0"}, {"num_format": "+0.0;-0.0;0.0"}, {"text_wrap": True}
SIGNED = {"num_format": "+#,##0;-#,##0;0"}


def rate(n_col: int, p_col: int) -> dict:
    """The format of a "Tỷ lệ (%)" column computed from the row's N and N−1 columns (_Out.table)."""
    return {**PCT, "rate_of": (n_col, p_col)}


def _overview(o: _Out, con: Consolidation, nat: pd.DataFrame, previous: Path | None, data_sheet: bool):
    ws = o.sheet(SHEETS["overview"], f"TỔNG HỢP BÁO CÁO CÔNG TÁC THƯ VIỆN NĂM {con.year} (so sánh với năm "
                 f"{con.year - 1})", landscape=False)
    received = {e.result.province.key for e in con.ledger if e.result.province is not None}
    facts = [("Năm báo cáo", con.year), ("Đơn vị nhận báo cáo", con.form.receiving_unit),
             ("Số tỉnh, thành phố phải báo cáo", len(con.expected)),
             ("Số tỉnh đã gửi tệp", len(received)), ("Số tỉnh có báo cáo được chấp nhận", len(con.reporting)),
             ("Số tệp đã nhận", len(con.ledger)),
             ("Tỉnh chưa báo cáo hoặc chưa được chấp nhận", ", ".join(p.name for p in con.missing) or "không có"),
             ("Thời điểm tổng hợp", dt.datetime.now().strftime("%d/%m/%Y %H:%M"))]
    facts += _collection_facts(con.review.collection)
    for i, (k, v) in enumerate(facts, start=2):
        o.cell(ws, i, 0, k, bold=True, text_wrap=True)
        ws.merge_range(i, 1, i, 5, "", o.f(border=1, text_wrap=True, align="left"))
        o.cell(ws, i, 1, v, text_wrap=True, align="left")
        lines = max(wrapped_lines(k, 58), wrapped_lines(v, 100) if isinstance(v, str) else 1)
        if lines > 1:
            ws.set_row(i, min(15 * lines + 3, MAX_ROW_HEIGHT))
    row = len(facts) + 3
    ws.write_string(row, 0, f"Các chỉ tiêu chính ({con.form.spec.national_label}, tổng các cấp)", o.f(bold=True))
    rows = []
    for h in con.form.spec.headlines:
        r = _national_row(con, nat, h)
        covered = f"{r['provinces_n']}/{len(con.expected)} tỉnh" + (f". {r['note']}" if r["note"] else "")
        rows.append([f"{h.label} ({con.form.spec.indicators[h.sum[0]].unit})", r["n"], r["p"], r["diff"], r["pct"],
                     covered])
    row = o.table(ws, row + 1, ["Chỉ tiêu", f"Năm {con.year}", f"Năm {con.year - 1}", "Tăng/giảm", "Tỷ lệ (%)",
                                "Số tỉnh có số liệu"], rows, [TXT, NUM, NUM, SIGNED, rate(1, 2), TXT],
                  [44, 16, 16, 14, 11, 24])
    notes = [n for n in [con.form.spec.national_note] if n] + [
             "Số liệu tính từ các báo cáo được chấp nhận; mỗi con số truy được về tệp, trang và ô nguồn (tệp CSV "
             "kèm theo, …_du-lieu.csv" + (", và trang “Dữ liệu”)." if data_sheet else ")."),
             "Tỷ lệ (%) = (năm N − năm N−1) / năm N−1 × 100; để trống khi năm N−1 bằng 0 hoặc không có.",
             "Tỉnh chưa báo cáo được ghi “chưa báo cáo”, không tính là 0; mỗi tổng ghi rõ số tỉnh có số liệu.",
             "Ô tỉnh ghi x (không thống kê) là không có số liệu, không tính là 0: tổng chỉ cộng các tỉnh có số "
             "liệu, và “số tỉnh có số liệu” không tính tỉnh ghi x."]
    carried = [lv for lv in con.form.spec.levels if not lv.exists_in(con.year) and lv.exists_in(con.year - 1)]
    for lv in carried:
        notes.append(f"Năm {con.year} không còn {lv.label.lower()}: số liệu {lv.label.lower()} năm {con.year - 1} "
                     f"được cộng vào {con.form.spec.dim_label(lv.carried_into).lower()} khi so sánh; tổng các cấp "
                     f"không thay đổi. Khi tổng hợp có bộ dữ liệu năm trước, trang “{SHEETS['national']}” ghi "
                     f"riêng phần này (dòng “trong đó: thư viện {lv.label.lower()} cũ”).")
    if con.form.code_list == "2025" and con.year == 2025:
        notes.append("So sánh với năm 2024 trên cơ sở 34 tỉnh, thành phố mới: số liệu năm 2024 của các tỉnh hợp "
                     "nhất được cộng lại.")
    if previous is not None:
        notes.append(f"Số liệu năm {con.year - 1} do các tỉnh ghi được đối chiếu với bộ dữ liệu năm trước "
                     f"({previous.name}); khác biệt ở trang “{SHEETS['previous']}”.")
    ws.write_string(row + 1, 0, "Ghi chú", o.f(bold=True))
    for i, note in enumerate(notes, start=row + 2):
        ws.merge_range(i, 0, i, 5, "• " + note, o.f(text_wrap=True))
        ws.set_row(i, 30)
    if con.review.collection is not None:
        _reviewed(o, ws, con, row + len(notes) + 3)


def _collection_facts(st) -> list[tuple[str, object]]:
    """The collection's status (collect.Status) when consolidated from a collection folder; [] otherwise."""
    if st is None:
        return []
    names = lambda items: ", ".join(s.province.name for s in items) or "không có"  # noqa: E731
    return [("Hạn gửi báo cáo", st.deadline.strftime("%d/%m/%Y")),
            ("Đợt thu thập: phải báo cáo / đã gửi / được chấp nhận / đã duyệt",
             f"{st.expected} / {len(st.received)} / {len(st.accepted)} / {len(st.approved)}"),
            ("Số tỉnh chưa có báo cáo được chấp nhận (danh sách ở trên)", len(st.missing)),
            (f"Gửi muộn hoặc quá hạn chưa gửi ({len(st.late)})", names(st.late)),
            ("Tỷ lệ báo cáo", fmt_rate(st.reporting_rate)), ("Tỷ lệ đúng hạn", fmt_rate(st.on_time_rate))]


def _reviewed(o: _Out, ws, con: Consolidation, row: int) -> None:
    """The warnings the Ministry reviewed in the collection's register, each with its note."""
    names = {p.key: p.name for p in con.expected}
    ws.write_string(row, 0, f"Cảnh báo đã được Bộ xem xét ({len(con.review.reviewed)})", o.f(bold=True))
    if not con.review.reviewed:
        ws.write_string(row + 1, 0, "Không có.", o.f())
        return
    vn = dt.timezone(dt.timedelta(hours=7))
    rows = [[r["message"], names.get(r["province"], r["province"]), f"{r['code']} {r['sheet']}!{r['cell']}".strip("! "),
             r["note"], dt.datetime.fromisoformat(r["at"]).astimezone(vn).strftime("%d/%m/%Y")]
            for r in con.review.reviewed]
    cols, widths = [0, 1, 2, 3, 5], [44, 16, 16, 25, 24]  # the note spans columns D:E
    head = o.f(bold=True, border=1, bg_color=_HEAD_FILL, text_wrap=True)
    for c, h in zip(cols, ["Cảnh báo", "Tỉnh", "Mã, vị trí", "Ghi chú của Bộ", "Ngày xem"], strict=True):
        ws.write_string(row + 1, c, h, head)
    ws.merge_range(row + 1, 3, row + 1, 4, "Ghi chú của Bộ", head)
    for i, values in enumerate(rows, start=row + 2):
        for c, v in zip(cols, values, strict=True):
            o.cell(ws, i, c, v, text_wrap=True)
        ws.merge_range(i, 3, i, 4, values[3], o.f(border=1, text_wrap=True))
        lines = max(wrapped_lines(str(v), w) for v, w in zip(values, widths, strict=True))
        ws.set_row(i, min(15 * lines + 3, MAX_ROW_HEIGHT))


def _national_note(o: _Out, ws, row: int, con: Consolidation, cols: int) -> int:
    """What the national totals leave out (the spec's note), under a table that shows one; the next row."""
    note = con.form.spec.national_note
    if note:
        ws.merge_range(row, 0, row, cols - 1, note, o.f(italic=True, text_wrap=True, align="left"))
        ws.set_row(row, 15 * 3 + 3)
    return row + 1


def _national_row(con: Consolidation, nat: pd.DataFrame, h) -> pd.Series:
    dim = headline_dim(con.form.spec, h)
    return nat[(nat["indicator"] == h.id) & (nat["dim"] == dim)].iloc[0]


def _national(o: _Out, con: Consolidation, nat: pd.DataFrame):
    ws = o.sheet(SHEETS["national"], f"SỐ LIỆU {con.form.spec.national_label.upper()} THEO CẤP VÀ LOẠI HÌNH THƯ VIỆN "
                 f"NĂM {con.year}")
    rows = [[r.label, r.dim_label, r.unit, r.n, r.p, r.diff, r.pct, r.provinces_n, r.provinces_p, r.note]
            for r in nat.itertuples()]
    bold = {i for i, r in enumerate(nat.itertuples()) if r.dim == con.form.spec.total.id}
    last = o.table(ws, 2, ["Chỉ tiêu", "Cấp / loại hình", "Đơn vị", f"Năm {con.year}", f"Năm {con.year - 1}",
                           "Tăng/giảm", "Tỷ lệ (%)", f"Số tỉnh có số liệu năm {con.year}",
                           f"Số tỉnh có số liệu năm {con.year - 1}",
                           "Ghi chú"],
                   rows, [TXT, TXT, {}, NUM, NUM, SIGNED, rate(3, 4), {}, {}, TXT],
                   [46, 30, 11, 15, 15, 13, 10, 12, 12, 40],
                   bold)
    _national_note(o, ws, last + 1, con, 10)
    ws.freeze_panes(3, 1)
    ws.autofilter(2, 0, last - 1, 9)


def _provinces(o: _Out, con: Consolidation):
    spec = con.form.spec
    for h in spec.headlines:
        dim = headline_dim(spec, h)
        df = o.province_table(con, h.id, dim)
        what = "tổng các cấp" if dim == spec.total.id else spec.dim_label(dim).lower()
        ws = o.sheet(f"Tỉnh - {h.short_label}", f"{h.label.upper()} THEO TỈNH, THÀNH PHỐ NĂM {con.year} ({what})",
                     landscape=False)
        ws.write_string(1, 0, f"Đơn vị tính: {spec.indicators[h.sum[0]].unit}", o.f(italic=True))
        rows = [[r.province_code, r.province_name, r.status, r.n, r.p, r.diff, r.pct, r.rank]
                for r in df.itertuples()]
        bold = {i for i, r in enumerate(df.itertuples()) if r.kind != "province"}
        last = o.table(ws, 2, ["Mã", "Tỉnh, thành phố / vùng", "Ghi chú", f"Năm {con.year}", f"Năm {con.year - 1}",
                               "Tăng/giảm", "Tỷ lệ (%)", "Xếp hạng"], rows,
                       [{}, TXT, TXT, NUM, NUM, SIGNED, rate(3, 4), {}], [6, 40, 16, 15, 15, 13, 10, 9], bold)
        _national_note(o, ws, last + 1, con, 8)
        ws.freeze_panes(3, 2)
        ws.autofilter(2, 0, last - 1, 7)


def per_inhabitant_table(con: Consolidation, ratio) -> pd.DataFrame:
    """One ratio per inhabitant, a row per expected province: figure, population, the ratio for N and N−1, the
    rank in year N (1 = highest); blank where the province has not reported or its population is unknown."""
    df = per_inhabitant_frame(figures(con.tidy), ratio, list(con.expected), con.year)
    reported = df["province_code"].isin(con.reporting)
    for col in ("figure_n", "ratio_n", "figure_p", "ratio_p"):
        df[col] = df[col].astype("Float64").where(reported, pd.NA)
    df["status"] = ["chưa báo cáo" if not rep else f"chưa có số dân năm {con.year}" if pd.isna(people) else ""
                    for rep, people in zip(reported, df["population_n"], strict=True)]
    df["rank"] = df["ratio_n"].rank(ascending=False, method="min").astype("Int64")
    return df


def _per_inhabitant(o: _Out, con: Consolidation):
    """A table per ratio of the spec's ``per_inhabitant``: each province's figure ÷ its population, ranked;
    blank (never invented) where the population is unknown."""
    spec = con.form.spec
    if not spec.per_inhabitant:
        return
    ws = o.sheet(SHEETS["per_inhabitant"], f"CÁC CHỈ TIÊU BÌNH QUÂN THEO DÂN SỐ CỦA TỈNH, THÀNH PHỐ NĂM {con.year}",
                 landscape=False)
    ws.write_string(1, 0, "Dân số trung bình của tỉnh theo số liệu thống kê chính thức; tỉnh chưa có số dân để "
                          "trống, không ước tính.", o.f(italic=True))
    if not any(population(p.code_list, p.code, con.year) for p in con.expected if p.code in con.reporting):
        for col, w in enumerate((6, 28, 22, 15, 14, 13, 13, 9)):
            ws.set_column(col, col, w)
        ws.merge_range(3, 0, 3, 7, f"Chưa tính được các chỉ tiêu bình quân theo dân số: chưa có số dân năm {con.year} "
                                   "của các tỉnh, thành phố đã báo cáo "
                                   f"({'; '.join(ratio.label for ratio in spec.per_inhabitant)}).",
                       o.f(text_wrap=True))
        ws.set_row(3, 33)
        return
    row = 3
    for ratio in spec.per_inhabitant:
        df = per_inhabitant_table(con, ratio)
        what = spec.dim_label(ratio.dim).lower()
        ws.write_string(row, 0, f"{ratio.label} ({what})", o.f(bold=True))
        rows = [[r.province_code, r.province_name, r.status, r.figure_n, r.population_n, r.ratio_n, r.ratio_p,
                 r.rank] for r in df.itertuples()]
        dec = {"num_format": "#,##0.00"}
        row = o.table(ws, row + 1, ["Mã", "Tỉnh, thành phố", "Ghi chú", f"Số liệu năm {con.year}",
                                    f"Dân số năm {con.year}", f"Bình quân năm {con.year}",
                                    f"Bình quân năm {con.year - 1}", "Xếp hạng"], rows,
                      [{}, TXT, TXT, NUM, NUM, dec, dec, {}], [6, 28, 22, 15, 14, 13, 13, 9]) + 1


TYPE_COLUMNS = 10  # figures per "Loại hình khác" sheet: five rows of N and N−1 print one A4 landscape page wide


def type_groups(con: Consolidation) -> list[list]:
    """The table rows of the other library types (and the mobile libraries, the former district libraries' fate),
    in the spec's order of the types, cut into sheets of whole types of at most TYPE_COLUMNS figures each."""
    by_type: dict[str, list] = {}
    for r in con.form.rows:
        by_type.setdefault(r.dim, []).append(r)
    groups: list[list] = []
    for t in con.form.spec.types:
        rows = by_type.get(t.id, [])
        if not rows:
            continue
        if groups and 2 * (len(groups[-1]) + len(rows)) <= TYPE_COLUMNS:
            groups[-1].extend(rows)
        else:
            groups.append(list(rows))
    return groups


def _types(o: _Out, con: Consolidation):
    """The other library types, a sheet per group of types (type_groups), each printed one page wide: a row per
    province, N and N−1 of each figure, the units in the header."""
    tidy = figures(con.tidy)
    value = dict(zip(zip(tidy["province_code"], tidy["field_id"], strict=True), tidy["value"], strict=True))
    groups = type_groups(con)
    for k, rows_spec in enumerate(groups, start=1):
        name = SHEETS["types"] if len(groups) == 1 else f"{SHEETS['types']} ({k})"
        types = "; ".join(dict.fromkeys(r.dim_label for r in rows_spec))
        ws = o.sheet(name, f"CÁC LOẠI HÌNH THƯ VIỆN KHÁC NĂM {con.year} (so với năm {con.year - 1}): {types}")
        headers = ["Mã", "Tỉnh, thành phố"] + [f"{r.dim_label}: {r.label} ({r.unit}) — năm {y}" for r in rows_spec
                                              for y in (con.year, con.year - 1)]
        rows, reporting = [], con.reporting
        for p in con.expected:
            if p.code in reporting:
                rows.append([p.code, p.name] + [value.get((p.code, f.id), pd.NA) for r in rows_spec
                                                for f in (r.n, r.p)])
            else:
                rows.append([p.code, p.name, "chưa báo cáo"] + [pd.NA] * (2 * len(rows_spec) - 1))
        totals = ["", con.form.spec.national_label] + [
            sum_present([r[i] for r in rows if not isinstance(r[i], str)]) for i in range(2, len(headers))]
        last = o.table(ws, 2, headers, rows + [totals], [{}, TXT] + [NUM] * (2 * len(rows_spec)),
                       [5, 18] + [11] * (2 * len(rows_spec)), {len(rows)}, head_height=110)
        ws.freeze_panes(3, 2)
        ws.autofilter(2, 0, last - 1, len(headers) - 1)


def _chunks(text: str, width: float, max_lines: int) -> list[str]:
    """``text`` cut at spaces into pieces that each fit ``max_lines`` wrapped lines of a column ``width`` wide
    (a row holds at most MAX_ROW_HEIGHT points: a longer text continues on the next rows)."""
    if wrapped_lines(text, width * 0.9) <= max_lines:
        return [text]  # fits whole (most do): the same answer as the word-by-word loop below, which never cuts it
    per_line = line_chars(width * 0.9)

    def grown(done: int, last: int, piece: str) -> tuple[int, int]:
        # the wrapped lines of the lines already ended, and the length of the last line, with ``piece`` added
        first, *others = piece.split("\n")
        last += len(first)
        for line in others:
            done, last = done + max(1, -(-last // per_line)), len(line)
        return done, last

    pieces, current, state = [], "", (0, 0)  # state: as grown() gives it for ``current``
    for word in text.split(" "):
        if not current:
            current, state = word, grown(0, 0, word)
            continue
        done, last = grown(*state, " " + word)
        if done + max(1, -(-last // per_line)) > max_lines:  # wrapped_lines(current + " " + word) would exceed
            pieces.append(current)
            current, state = word, grown(0, 0, word)
        else:
            current, state = f"{current} {word}", (done, last)
    return pieces + [current]


def _narratives(o: _Out, con: Consolidation):
    """One sheet per outline section: each bullet, then what every province wrote, whole (long texts continue
    on the next rows), portrait, one page wide."""
    texts = con.tidy[con.tidy["kind"] == NARRATIVE] if "kind" in con.tidy else con.tidy.iloc[0:0]
    by_field: dict[str, list[tuple[str, str, str]]] = {}  # field → (province code, name, text), by code
    for fid, code, name, text in zip(texts["field_id"], texts["province_code"], texts["province_name"],
                                     texts["text"], strict=True):
        by_field.setdefault(fid, []).append((code, name, text))
    width, line = 92, 15
    for sheet in con.form.sheets:
        fields = [it.field for it in sheet.items if it.field is not None and it.field.kind == "narrative"]
        if not fields:
            continue
        ws = o.sheet(f"TM {sheet.name}"[:31], f"THUYẾT MINH CỦA CÁC TỈNH: {sheet.name}", landscape=False)
        ws.write_string(1, 0, sheet.part_title, o.f(italic=True))
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, width)
        head = o.f(bold=True, border=1, bg_color=_HEAD_FILL, text_wrap=True)
        row = 3
        for f in fields:
            ws.merge_range(row, 0, row, 1, f.label, head)
            ws.set_row(row, line * wrapped_lines(f.label, width + 16) + 3)
            row += 1
            group = by_field.get(f.id)
            if group is None:
                ws.merge_range(row, 0, row, 1, "Không tỉnh nào ghi nội dung này.", o.f(italic=True, border=1))
                row += 2
                continue
            for _, name, text in sorted(group, key=lambda t: t[0]):
                pieces = _chunks(str(text), width, (MAX_ROW_HEIGHT - 3) // line - 1)
                for k, piece in enumerate(pieces):
                    o.cell(ws, row, 0, name if k == 0 else f"{name} (tiếp)", bold=k == 0, text_wrap=True)
                    o.cell(ws, row, 1, piece, text_wrap=True)
                    ws.set_row(row, min(line * wrapped_lines(piece, width) + 3, MAX_ROW_HEIGHT))
                    row += 1
            row += 1
        ws.freeze_panes(3, 0)


def _charts(o: _Out, con: Consolidation, nat: pd.DataFrame):
    """One page per headline: its figures by level beside the ten provinces ranked highest; then the
    provinces that rose and fell most. Axes with thousands separators; a page break before every block."""
    ws = o.sheet(SHEETS["charts"], f"BIỂU ĐỒ — NĂM {con.year} SO VỚI NĂM {con.year - 1}")
    spec = con.form.spec
    ws.set_column(0, 0, 24)
    ws.set_column(1, 2, 14)
    row, breaks, block = 2, [], 22
    for h in spec.headlines:
        dim = headline_dim(spec, h)
        # by this year's levels only: last year's figures of a level that ended are inside the level they went
        # into (the "Toàn quốc" sheet shows that part on its own line)
        dims = [lv.id for lv in con.form.levels] if dim == spec.total.id else [dim]
        if row > 2:
            breaks.append(row)
        ws.write_string(row, 0, h.label, o.f(bold=True, font_size=12))
        for col, text in enumerate(("Cấp / loại hình", f"Năm {con.year}", f"Năm {con.year - 1}")):
            o.cell(ws, row + 1, col, text, bold=True)
        for i, d in enumerate(dims):
            r = nat[(nat["indicator"] == h.id) & (nat["dim"] == d)].iloc[0]
            o.cell(ws, row + 2 + i, 0, r.dim_label)
            o.cell(ws, row + 2 + i, 1, r.n, **NUM)
            o.cell(ws, row + 2 + i, 2, r.p, **NUM)
        chart = o.wb.add_chart({"type": "column"})
        for col in (1, 2):
            chart.add_series({"name": [ws.name, row + 1, col],
                              "categories": [ws.name, row + 2, 0, row + 1 + len(dims), 0],
                              "values": [ws.name, row + 2, col, row + 1 + len(dims), col]})
        _style(chart, f"{h.label} theo cấp")
        ws.insert_chart(row + 1, 4, chart, {"x_offset": 10})
        df = o.province_table(con, h.id, dim)
        top = sorted(((-int(n), code, name) for kind, n, code, name in zip(
            df["kind"], df["n"], df["province_code"], df["province_name"], strict=True)
            if kind == "province" and not pd.isna(n)))[:10]  # highest first, then by code
        first = row + 3 + len(dims)
        o.cell(ws, first, 0, "Mười tỉnh cao nhất", bold=True)
        o.cell(ws, first, 1, f"Năm {con.year}", bold=True)
        for i, (minus_n, _, name) in enumerate(top, start=1):
            o.cell(ws, first + i, 0, name)
            o.cell(ws, first + i, 1, -minus_n, **NUM)
        if len(top):
            bar = o.wb.add_chart({"type": "bar"})
            bar.add_series({"name": f"Năm {con.year}", "categories": [ws.name, first + 1, 0, first + len(top), 0],
                            "values": [ws.name, first + 1, 1, first + len(top), 1]})
            bar.set_y_axis({"reverse": True})
            _style(bar, f"{h.label}: mười tỉnh cao nhất", value_axis="x")
            ws.insert_chart(row + 1, 4, bar, {"x_offset": 500})
        row += block
    breaks.append(row)
    _rises_and_falls(o, ws, con, row)
    ws.set_h_pagebreaks(breaks)


def _style(chart, title: str, value_axis: str = "y"):
    chart.set_title({"name": title, "name_font": {"name": FONT, "size": 11}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 480, "height": 380})
    axis = {"num_format": "#,##0", "num_font": {"name": FONT, "size": 9}}
    (chart.set_y_axis if value_axis == "y" else chart.set_x_axis)(axis)


def _rises_and_falls(o: _Out, ws, con: Consolidation, row: int):
    spec = con.form.spec
    headline = next((h for h in spec.headlines if len(h.sum) > 1), spec.headlines[0])
    df = o.province_table(con, headline.id, headline_dim(spec, headline))
    df = df[(df["kind"] == "province") & df["pct"].notna()].sort_values(["pct", "province_code"])
    picked = pd.concat([df.head(5), df.tail(5)]).drop_duplicates("province_code")
    ws.write_string(row, 0, f"Tăng, giảm nhiều nhất: {headline.label} (%)", o.f(bold=True, font_size=12))
    for i, r in enumerate(picked.itertuples(), start=1):
        o.cell(ws, row + i, 0, r.province_name)
        o.cell(ws, row + i, 1, (r.n - r.p) / r.p * 100, **PCT)  # exact, shown rounded by the format
    if len(picked):
        chart = o.wb.add_chart({"type": "bar"})
        chart.add_series({"name": "Tỷ lệ tăng/giảm (%)", "categories": [ws.name, row + 1, 0, row + len(picked), 0],
                          "values": [ws.name, row + 1, 1, row + len(picked), 1], "invert_if_negative": True,
                          "data_labels": {"value": True, "num_format": "+0.0;-0.0", "position": "outside_end"}})
        chart.set_title({"name": f"Các tỉnh tăng, giảm nhiều nhất — {headline.label}",
                         "name_font": {"name": FONT, "size": 11}})
        chart.set_legend({"none": True})
        chart.set_x_axis({"label_position": "low"})  # province names at the left edge, never over the bars
        chart.set_y_axis({"label_position": "low", "reverse": True})
        chart.set_size({"width": 760, "height": 360})
        ws.insert_chart(row + 1, 3, chart)


def _swing_size(pct) -> float:
    return -1.0 if pct is None else abs(pct)


def explanation_lines(con: Consolidation) -> list[list]:
    """The lines of "Giải thích số liệu": first every swing past the threshold that no one explained (the check's
    R04 warnings, kept from the check, not recomputed), with whom to call; then the explanations, identical texts
    collapsed into one line with their count, sorted by the size of the change (the largest of a collapsed line).
    A line: province(s), indicator, level or type, N, N−1, change %, text, count, file · cell."""
    rows_of = {r.n.id: r for r in con.form.rows}
    calls, texts = [], {}
    for e in (e for e in con.ledger if e.used):
        res, values = e.result, e.result.values

        def line(r, text: str, f, res=res) -> list:
            n, p = res.values.get(r.n.id), res.values.get(r.p.id)
            return [res.province.name, r.label, r.dim_label, n, p, pct_change(n, p), text, 1,
                    f"{res.display} · {res.sources.get(f.id, (f.sheet, f.cell))[1]}"]

        calls += [line(rows_of[f.field], f"CHƯA GIẢI THÍCH: cần liên hệ tỉnh (trang “{SHEETS['contacts']}”)",
                       rows_of[f.field].n) for f in e.findings if f.code == "R04" and f.field in rows_of]
        notes = {f.field: note for f, note in e.reviewed if f.code == "R04"}
        for r in con.form.rows:
            text = str(values.get(r.gc.id) or "").strip() or (f"Bộ đã xem: {notes[r.n.id]}" if r.n.id in notes else "")
            if text:
                texts.setdefault(text, []).append(line(r, text, r.gc))
    collapsed = []
    for group in texts.values():
        top = max(group, key=lambda line: _swing_size(line[5]))
        if len(group) > 1:
            names = list(dict.fromkeys(line[0] for line in group))
            top = [", ".join(names), f"{top[1]} (và {len(group) - 1} số liệu khác)", *top[2:7], len(group), top[8]]
        collapsed.append(top)
    return (sorted(calls, key=lambda line: -_swing_size(line[5]))
            + sorted(collapsed, key=lambda line: (-_swing_size(line[5]), -line[7], line[6])))


def _explanations(o: _Out, con: Consolidation):
    """What the provinces wrote in the explanation column beside the figures it explains (explanation_lines)."""
    ws = o.sheet(SHEETS["explanations"], f"GIẢI THÍCH CỦA CÁC TỈNH VỀ SỐ LIỆU NĂM {con.year} SO VỚI NĂM {con.year - 1}")
    ws.write_string(1, 0, f"Trước hết các số liệu thay đổi quá {con.form.spec.swing_threshold_pct:g}% chưa có giải "
                          "thích (cần liên hệ tỉnh), rồi các giải thích theo mức thay đổi, từ lớn đến nhỏ; các giải "
                          "thích giống hệt nhau gộp một dòng, ghi số lần.", o.f(italic=True))
    last = o.table(ws, 2, ["Tỉnh", "Chỉ tiêu", "Cấp / loại hình", f"Năm {con.year}", f"Năm {con.year - 1}",
                           "Tỷ lệ (%)", "Giải thích của tỉnh", "Số lần", "Tệp · ô"], explanation_lines(con),
                   [TXT, TXT, TXT, NUM, NUM, rate(3, 4), TXT, {}, TXT], [18, 30, 14, 12, 12, 9, 50, 7, 26])
    ws.freeze_panes(3, 1)
    ws.autofilter(2, 0, max(last - 1, 3), 8)


def _findings(o: _Out, con: Consolidation):
    ws = o.sheet(SHEETS["findings"], "KẾT QUẢ KIỂM TRA TỪNG TỆP")
    rows = []
    for e in con.ledger:
        r = e.result
        for f in e.findings:
            rows.append([r.display, r.province.name if r.province else "", e.verdict.label, f.code,
                         f.severity.label, f.sheet, f.cell, f.message])
    last = o.table(ws, 2, ["Tệp", "Tỉnh", "Kết luận", "Mã", "Mức độ", "Trang", "Ô", "Nội dung"], rows,
                   [TXT, {}, {}, {}, {}, TXT, {}, TXT], [34, 16, 18, 6, 10, 18, 7, 90])
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, max(last - 1, 3), 7)
    for sev, color in ((Severity.ERROR, "#F8CBAD"), (Severity.WARNING, "#FFE699")):
        ws.conditional_format(3, 4, max(last - 1, 3), 4, {"type": "text", "criteria": "begins with",
                                                            "value": sev.label, "format": o.wb.add_format(
                                                                {"bg_color": color})})


def _ledger(o: _Out, con: Consolidation):
    ws = o.sheet(SHEETS["ledger"], "SỔ THEO DÕI TỆP ĐÃ NHẬN (mỗi tệp một dòng)")
    rows = [[e.result.display, e.result.province.name if e.result.province else "",
             e.result.province.key if e.result.province else "", FATES[e.fate], e.reason, e.result.saved,
             e.errors, e.warnings, len(e.differences), e.result.sha256[:12]] for e in con.ledger]
    last = o.table(ws, 2, ["Tệp", "Tỉnh", "Mã (danh mục)", "Kết quả", "Lý do / thay bằng", "Lưu lần cuối",
                           "Lỗi", "Cảnh báo", "Số ô khác tệp dùng", "SHA-256"], rows,
                   [TXT, {}, {}, {}, TXT, {}, {}, {}, {}, {}], [34, 16, 12, 20, 50, 20, 6, 8, 10, 14])
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, max(last - 1, 3), 9)


def _previous(o: _Out, con: Consolidation, last_year: pd.DataFrame):
    """The N−1 figures the provinces wrote that differ from last year's dataset; a line saying so when none
    does, and the reporting provinces whose N−1 figures could not be checked (no figures in last year's dataset)."""
    ws = o.sheet(SHEETS["previous"], f"ĐỐI CHIẾU SỐ LIỆU NĂM {con.year - 1}: tỉnh ghi năm nay và đã báo cáo năm "
                 "trước")
    known = {code for code, _, _ in previous_figures(last_year, con.year - 1, con.form.code_list,
                                                     carry_map(con.form.spec, con.year))}
    unchecked = [p.name for p in con.expected if p.code in con.reporting and p.code not in known]
    checked = sum(1 for code in con.reporting if code in known)
    df = con.previous_diffs
    lines = [f"Không có chênh lệch: số liệu năm {con.year - 1} của {checked} tỉnh, thành phố khớp với bộ dữ liệu "
             "năm trước." if df.empty else
             f"{len(df)} số liệu năm {con.year - 1} khác bộ dữ liệu năm trước ({df['province_code'].nunique()} tỉnh); "
             f"đã đối chiếu {checked} tỉnh, thành phố."]
    if unchecked:
        lines.append(f"Chưa đối chiếu được số liệu năm {con.year - 1} của {len(unchecked)} tỉnh, thành phố (không có "
                     f"trong bộ dữ liệu năm trước, ví dụ năm trước không gửi báo cáo): {', '.join(unchecked)}.")
    widths = [16, 40, 20, 14, 14, 12, 34, 20]
    for col, w in enumerate(widths):
        ws.set_column(col, col, w)
    for i, text in enumerate(lines, start=1):
        ws.merge_range(i, 0, i, len(widths) - 1, text, o.f(text_wrap=True))
        ws.set_row(i, 15 * wrapped_lines(text, sum(widths)) + 3)
    if df.empty:
        return
    rows = [[r.province_name, r.indicator, r.dim, r.reported_now, r.reported_last_year, r.diff, r.source_file,
             f"{r.sheet}!{r.cell}"] for r in df.itertuples()]
    o.table(ws, len(lines) + 2, ["Tỉnh", "Chỉ tiêu", "Cấp / loại hình", "Ghi năm nay", "Đã báo cáo năm trước",
                                 "Chênh lệch", "Tệp", "Ô"], rows, [{}, TXT, {}, NUM, NUM, SIGNED, TXT, {}], widths)


def _data(o: _Out, con: Consolidation):
    """Every row of the dataset, for filters and pivots; prints only its heading and a note (the CSV beside
    the workbook carries the same rows). Written row by row through the public API, last, in a workbook opened
    in ``constant_memory`` mode (each row goes to disk as it is written)."""
    ws = o.sheet(SHEETS["data"], "DỮ LIỆU NGUỒN: mỗi con số, mỗi nội dung với tệp, trang và ô đã đọc")
    ws.write_string(1, 0, "Trang dữ liệu để lọc, tính toán; không in (vùng in chỉ gồm dòng này). Cùng dữ liệu "
                          "có trong tệp CSV kèm theo.", o.f(italic=True))
    df = con.tidy
    cols = list(df.columns)
    o.table(ws, 2, cols, [], [{}] * len(cols), [40 if c == "text" else 10 for c in cols])
    value, plain = cols.index("value") if "value" in cols else -1, o.f(border=1)
    number = o.f(border=1, **NUM)
    for i, values in enumerate(df.astype(object).where(df.notna(), None).itertuples(index=False), start=3):
        for col, v in enumerate(values):
            if v is None or v == "":
                ws.write_blank(i, col, None, plain)
            elif col == value or (isinstance(v, numbers.Real) and not isinstance(v, bool)):
                ws.write_number(i, col, float(v), number if col == value else plain)
            else:
                ws.write_string(i, col, str(v), plain)
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, max(2 + len(df), 3), len(cols) - 1)
    ws.print_area(0, 0, 1, 5)


def _contacts(o: _Out, con: Consolidation):
    """Who prepared each province's report, to call it back: the cover fields, one row per province."""
    ws = o.sheet(SHEETS["contacts"], f"DANH SÁCH LIÊN HỆ: NGƯỜI LẬP BÁO CÁO CỦA CÁC TỈNH, THÀNH PHỐ NĂM {con.year}")
    fields = con.form.fields_of("field")
    cover = con.tidy[con.tidy["kind"] == COVER] if "kind" in con.tidy else con.tidy.iloc[0:0]
    text = dict(zip(zip(cover["province_code"], cover["field_id"], strict=True), cover["text"], strict=True))
    files = dict(zip(cover["province_code"], cover["source_file"], strict=True))
    rows, reporting = [], con.reporting
    for p in con.expected:
        if p.code in reporting:
            rows.append([p.code, p.name, *[text.get((p.code, f.id), "") for f in fields], files.get(p.code, "")])
        else:
            rows.append([p.code, p.name, "chưa báo cáo", *[""] * len(fields)])
    last = o.table(ws, 2, ["Mã", "Tỉnh, thành phố", *[f.label for f in fields], "Tệp"], rows,
                   [{}, TXT, *[TXT] * len(fields), TXT], [5, 14, *[max(14, min(30, 4 + max(
                       (len(str(r[2 + i])) for r in rows), default=10))) for i in range(len(fields))], 30])
    ws.freeze_panes(3, 2)
    ws.autofilter(2, 0, max(last - 1, 3), len(fields) + 2)


def write_summary(con: Consolidation, path: Path, previous: Path | None = None, data_sheet: bool = False) -> Path:
    """Write the summary workbook atomically; with ``data_sheet``, also every row of the dataset (the CSV's rows)
    in a "Dữ liệu" sheet, for pivots inside the workbook."""
    last_year = load_dataset(previous, con.form.spec, con.year - 1) if previous is not None else None
    nat = national_table(con, last_year)
    with atomic_path(path) as tmp:
        # the data sheet of a commune-level collection has hundreds of thousands of rows: streamed to disk
        wb = xlsx_writer(tmp, nan_inf_to_errors=True, in_memory=not data_sheet, constant_memory=data_sheet)
        wb.set_properties({"title": f"Tổng hợp báo cáo công tác thư viện năm {con.year}", "author": "libstats"})
        wb.set_custom_property(OUTPUT_PROPERTY, "summary")  # found in an inbox, it is set aside, never a return
        o = _Out(wb)
        _overview(o, con, nat, previous, data_sheet)
        _national(o, con, nat)
        _provinces(o, con)
        _per_inhabitant(o, con)
        _types(o, con)
        _charts(o, con, nat)
        _contacts(o, con)
        _narratives(o, con)
        write_proposals_sheet(wb, proposals_register(con.tidy, con.year))  # sheet "Kiến nghị" (outputs.synthesis)
        _explanations(o, con)
        _findings(o, con)
        _ledger(o, con)
        if last_year is not None:
            _previous(o, con, last_year)
        if data_sheet:
            _data(o, con)
        wb.close()
    return path
