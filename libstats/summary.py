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

from .atomic import atomic_path
from .check import OUTPUT_PROPERTY
from .consolidate import Consolidation, national_table, province_table, sum_present
from .findings import Severity
from .ledger import FATES
from .rules import pct_change
from .layout import wrapped_lines
from .template import FONT

__all__ = ["write_summary", "SHEETS"]

SHEETS = {"overview": "Tổng quan", "national": "Toàn quốc", "types": "Loại hình khác", "charts": "Biểu đồ",
          "explanations": "Giải thích số liệu",
          "findings": "Kết quả kiểm tra", "ledger": "Sổ theo dõi tệp", "previous": "Đối chiếu năm trước",
          "data": "Dữ liệu"}
_HEAD_FILL = "#D9E2F3"


def _blank(v) -> bool:
    return v is None or (v == "" if isinstance(v, str) else bool(pd.isna(v)))


class _Out:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb, self._f = wb, {}

    def f(self, **kw):
        props = {"font_name": FONT, "font_size": 11, "valign": "top", **kw}
        key = tuple(sorted(props.items()))
        if key not in self._f:
            self._f[key] = self.wb.add_format(props)
        return self._f[key]

    def cell(self, ws, row, col, value, **fmt):
        f = self.f(border=1, **fmt)
        if _blank(value):
            ws.write_blank(row, col, None, f)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):  # numpy and pandas numbers too
            ws.write_number(row, col, float(value), f)
        else:
            ws.write_string(row, col, str(value), f)  # text from a province always stays text

    def table(self, ws, row: int, headers: list[str], rows: list[list], formats: list[dict], widths: list[float],
              bold_rows: set[int] = frozenset()) -> int:
        for col, (h, w) in enumerate(zip(headers, widths, strict=True)):
            ws.write_string(row, col, h, self.f(bold=True, border=1, bg_color=_HEAD_FILL, text_wrap=True,
                                                align="center", valign="vcenter"))
            ws.set_column(col, col, w)
        ws.set_row(row, 32)
        for i, values in enumerate(rows, start=1):
            lines = 1
            for col, (v, fmt) in enumerate(zip(values, formats, strict=True)):
                self.cell(ws, row + i, col, v, bold=(i - 1) in bold_rows, **fmt)
                if fmt.get("text_wrap") and isinstance(v, str):
                    lines = max(lines, wrapped_lines(v, widths[col]))
            if lines > 1:
                ws.set_row(row + i, min(15 * lines, 400))
        return row + len(rows) + 1

    def sheet(self, name: str, title: str, landscape: bool = True, fit_width: bool = True):
        ws = self.wb.add_worksheet(name)
        ws.write_string(0, 0, title, self.f(bold=True, font_size=13))
        ws.set_paper(9)
        ws.set_landscape() if landscape else ws.set_portrait()
        if fit_width:
            ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer("&R&8Trang &P/&N")
        return ws


NUM, PCT, TXT = {"num_format": "#,##0"}, {"num_format": "+0.0;-0.0;0.0"}, {"text_wrap": True}
SIGNED = {"num_format": "+#,##0;-#,##0;0"}


def _overview(o: _Out, con: Consolidation, nat: pd.DataFrame, previous: Path | None):
    ws = o.sheet(SHEETS["overview"], f"TỔNG HỢP BÁO CÁO CÔNG TÁC THƯ VIỆN NĂM {con.year} (so sánh với năm "
                 f"{con.year - 1})", landscape=False)
    received = {e.result.province.key for e in con.ledger if e.result.province is not None}
    facts = [("Năm báo cáo", con.year), ("Đơn vị nhận báo cáo", con.form.receiving_unit),
             ("Số tỉnh, thành phố phải báo cáo", len(con.expected)),
             ("Số tỉnh đã gửi tệp", len(received)), ("Số tỉnh có báo cáo được chấp nhận", len(con.reporting)),
             ("Số tệp đã nhận", len(con.ledger)),
             ("Tỉnh chưa báo cáo hoặc chưa được chấp nhận", ", ".join(p.name for p in con.missing) or "không có"),
             ("Thời điểm tổng hợp", dt.datetime.now().strftime("%d/%m/%Y %H:%M"))]
    for i, (k, v) in enumerate(facts, start=2):
        o.cell(ws, i, 0, k, bold=True, text_wrap=True)
        ws.merge_range(i, 1, i, 5, "", o.f(border=1, text_wrap=True, align="left"))
        o.cell(ws, i, 1, v, text_wrap=True, align="left")
    ws.set_row(8, 15 * max(1, len(facts[6][1]) // 70 + 1))
    row = len(facts) + 3
    ws.write_string(row, 0, "Các chỉ tiêu chính (toàn quốc, tổng các cấp)", o.f(bold=True))
    total = nat[nat["dim"] == con.form.spec.total.id].drop_duplicates("indicator").set_index("indicator")
    rows = []
    for h in con.form.spec.headlines:
        r = total.loc[h.id]
        covered = f"{r['provinces_n']}/{len(con.expected)} tỉnh" + (f". {r['note']}" if r["note"] else "")
        rows.append([h.label, r["n"], r["p"], r["diff"], r["pct"], covered])
    row = o.table(ws, row + 1, ["Chỉ tiêu", f"Năm {con.year}", f"Năm {con.year - 1}", "Tăng/giảm", "Tỷ lệ (%)",
                                "Số tỉnh có số liệu"], rows, [TXT, NUM, NUM, SIGNED, PCT, TXT],
                  [44, 16, 16, 14, 11, 24])
    notes = ["Số liệu tính từ các báo cáo được chấp nhận; mỗi con số truy được về tệp, trang và ô nguồn (trang "
             "“Dữ liệu” và tệp CSV kèm theo).",
             "Tỷ lệ (%) = (năm N − năm N−1) / năm N−1 × 100; để trống khi năm N−1 bằng 0 hoặc không có.",
             "Tỉnh chưa báo cáo được ghi “chưa báo cáo”, không tính là 0; mỗi tổng ghi rõ số tỉnh tính vào.",
             "Ô tỉnh ghi x (không thống kê) là không có số liệu, không tính là 0: tổng chỉ cộng các tỉnh có số "
             "liệu, và “số tỉnh có số liệu” không tính tỉnh ghi x."]
    carried = [lv for lv in con.form.spec.levels if not lv.exists_in(con.year) and lv.exists_in(con.year - 1)]
    for lv in carried:
        notes.append(f"Năm {con.year} không còn {lv.label.lower()}: số liệu {lv.label.lower()} năm {con.year - 1} "
                     f"được cộng vào {con.form.spec.dim_label(lv.carried_into).lower()} khi so sánh; tổng các cấp "
                     "không thay đổi.")
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


def _national(o: _Out, con: Consolidation, nat: pd.DataFrame):
    ws = o.sheet(SHEETS["national"], f"SỐ LIỆU TOÀN QUỐC THEO CẤP VÀ LOẠI HÌNH THƯ VIỆN NĂM {con.year}")
    rows = [[r.label, r.dim_label, r.unit, r.n, r.p, r.diff, r.pct, r.provinces_n, r.provinces_p, r.note]
            for r in nat.itertuples()]
    bold = {i for i, r in enumerate(nat.itertuples()) if r.dim == con.form.spec.total.id}
    last = o.table(ws, 2, ["Chỉ tiêu", "Cấp / loại hình", "Đơn vị", f"Năm {con.year}", f"Năm {con.year - 1}",
                           "Tăng/giảm", "Tỷ lệ (%)", f"Số tỉnh có số liệu năm {con.year}",
                           f"Số tỉnh có số liệu năm {con.year - 1}",
                           "Ghi chú"],
                   rows, [TXT, TXT, {}, NUM, NUM, SIGNED, PCT, {}, {}, TXT], [46, 30, 11, 15, 15, 13, 10, 12, 12, 40],
                   bold)
    ws.freeze_panes(3, 1)
    ws.autofilter(2, 0, last - 1, 9)
    ws.repeat_rows(2)


def _provinces(o: _Out, con: Consolidation):
    spec = con.form.spec
    for h in spec.headlines:
        df = province_table(con, h.id, spec.total.id)
        ws = o.sheet(f"Tỉnh - {h.label}"[:31], f"{h.label.upper()} THEO TỈNH, THÀNH PHỐ NĂM {con.year} "
                     f"(tổng các cấp)")
        rows = [[r.province_code, r.province_name, r.status, r.n, r.p, r.diff, r.pct, r.rank]
                for r in df.itertuples()]
        bold = {i for i, r in enumerate(df.itertuples()) if r.kind != "province"}
        last = o.table(ws, 2, ["Mã", "Tỉnh, thành phố / vùng", "Ghi chú", f"Năm {con.year}", f"Năm {con.year - 1}",
                               "Tăng/giảm", "Tỷ lệ (%)", "Xếp hạng"], rows,
                       [{}, TXT, TXT, NUM, NUM, SIGNED, PCT, {}], [6, 40, 16, 15, 15, 13, 10, 9], bold)
        ws.freeze_panes(3, 2)
        ws.autofilter(2, 0, last - 1, 7)
        ws.repeat_rows(2)


def _types(o: _Out, con: Consolidation):
    ws = o.sheet(SHEETS["types"], f"CÁC LOẠI HÌNH THƯ VIỆN KHÁC VÀ Ô TÔ THƯ VIỆN LƯU ĐỘNG NĂM {con.year}")
    rows_spec = [r for r in con.form.rows if r.table in ("loai_hinh_khac", "xa_hoi_hoa")]
    tidy = con.tidy[con.tidy["year"] == con.year]
    value = dict(zip(zip(tidy["province_code"], tidy["field_id"], strict=True), tidy["value"], strict=True))
    headers = ["Mã", "Tỉnh, thành phố"] + [f"{r.dim_label}: {r.label}" for r in rows_spec]
    rows = []
    for p in con.expected:
        if p.code in con.reporting:
            rows.append([p.code, p.name] + [value.get((p.code, r.n.id), pd.NA) for r in rows_spec])
        else:
            rows.append([p.code, p.name, "chưa báo cáo"] + [pd.NA] * (len(rows_spec) - 1))
    totals = ["", "TOÀN QUỐC"] + [sum_present([r[i] for r in rows if not isinstance(r[i], str)])
                                  for i in range(2, len(headers))]
    last = o.table(ws, 2, headers, rows + [totals], [{}, TXT] + [NUM] * len(rows_spec),
                   [6, 22] + [14] * len(rows_spec), {len(rows)})
    ws.set_row(2, 75)
    ws.freeze_panes(3, 2)
    ws.autofilter(2, 0, last - 1, len(headers) - 1)


def _narratives(o: _Out, con: Consolidation):
    for sheet in con.form.sheets:
        fields = [it.field for it in sheet.items if it.field is not None and it.field.kind == "narrative"]
        if not fields:
            continue
        ws = o.sheet(f"TM {sheet.name}"[:31], f"THUYẾT MINH: {sheet.name.upper()} — {sheet.part_title}",
                     fit_width=False)
        ws.repeat_columns(0)
        headers = ["Tỉnh, thành phố"] + [f.label for f in fields]
        rows = [[r.province.name] + [r.values.get(f.id) for f in fields] for r in
                sorted(con.used, key=lambda r: r.province.code)]
        o.table(ws, 2, headers, rows, [TXT] * len(headers), [18] + [70] * len(fields))
        ws.set_row(2, 90)
        for i in range(len(rows)):
            ws.set_row(3 + i, 150)
        ws.freeze_panes(3, 1)


def _charts(o: _Out, con: Consolidation, nat: pd.DataFrame):
    ws = o.sheet(SHEETS["charts"], f"BIỂU ĐỒ — NĂM {con.year} SO VỚI NĂM {con.year - 1}")
    spec, levels = con.form.spec, con.form.levels
    row = 2
    for h in spec.headlines:
        data = [nat[(nat["indicator"] == h.id) & (nat["dim"] == lv.id)].iloc[0] for lv in levels]
        ws.write_string(row, 0, h.label, o.f(bold=True))
        ws.write_string(row + 1, 0, "Cấp", o.f(bold=True))
        ws.write_string(row + 1, 1, f"Năm {con.year}", o.f(bold=True))
        ws.write_string(row + 1, 2, f"Năm {con.year - 1}", o.f(bold=True))
        for i, (lv, d) in enumerate(zip(levels, data, strict=True)):
            o.cell(ws, row + 2 + i, 0, lv.label)
            o.cell(ws, row + 2 + i, 1, d.n, **NUM)
            o.cell(ws, row + 2 + i, 2, d.p, **NUM)
        chart = o.wb.add_chart({"type": "column"})
        for col, name in ((1, f"Năm {con.year}"), (2, f"Năm {con.year - 1}")):
            chart.add_series({"name": name, "categories": [ws.name, row + 2, 0, row + 1 + len(levels), 0],
                              "values": [ws.name, row + 2, col, row + 1 + len(levels), col]})
        chart.set_title({"name": f"{h.label} theo cấp", "name_font": {"name": FONT, "size": 11}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 520, "height": 260})
        ws.insert_chart(row, 4, chart)
        row += 14
    ws.set_column(0, 2, 16)
    _rises_and_falls(o, ws, con, row)


def _rises_and_falls(o: _Out, ws, con: Consolidation, row: int):
    spec = con.form.spec
    headline = next((h for h in spec.headlines if len(h.sum) > 1), spec.headlines[0])
    df = province_table(con, headline.id, spec.total.id)
    df = df[(df["kind"] == "province") & df["pct"].notna()].sort_values("pct")
    picked = pd.concat([df.head(5), df.tail(5)]).drop_duplicates("province_code")
    ws.write_string(row, 0, f"Tăng, giảm nhiều nhất: {headline.label} (%)", o.f(bold=True))
    for i, r in enumerate(picked.itertuples(), start=1):
        o.cell(ws, row + i, 0, r.province_name)
        o.cell(ws, row + i, 1, r.pct, **PCT)
    if len(picked):
        chart = o.wb.add_chart({"type": "bar"})
        chart.add_series({"name": "Tỷ lệ tăng/giảm (%)", "categories": [ws.name, row + 1, 0, row + len(picked), 0],
                          "values": [ws.name, row + 1, 1, row + len(picked), 1], "invert_if_negative": True})
        chart.set_title({"name": f"Các tỉnh tăng, giảm nhiều nhất — {headline.label}",
                         "name_font": {"name": FONT, "size": 11}})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": 320})
        ws.insert_chart(row, 4, chart)


def _explanations(o: _Out, con: Consolidation):
    """What each province wrote in the explanation column, beside the figures it explains."""
    ws = o.sheet(SHEETS["explanations"], f"GIẢI THÍCH CỦA CÁC TỈNH VỀ SỐ LIỆU NĂM {con.year} SO VỚI NĂM {con.year - 1}")
    rows = []
    for res in sorted(con.used, key=lambda r: r.province.code):
        for r in con.form.rows:
            text = res.values.get(r.gc.id)
            if text:
                n, p = res.values.get(r.n.id), res.values.get(r.p.id)
                pct = pct_change(n, p)
                rows.append([res.province.name, r.label, r.dim_label, n, p, round(pct, 1) if pct is not None else None,
                             text, f"{res.display} · {res.sources.get(r.gc.id, ('', ''))[1]}"])
    last = o.table(ws, 2, ["Tỉnh", "Chỉ tiêu", "Cấp / loại hình", f"Năm {con.year}", f"Năm {con.year - 1}",
                           "Tỷ lệ (%)", "Giải thích của tỉnh", "Tệp · ô"], rows,
                   [{}, TXT, TXT, NUM, NUM, PCT, TXT, TXT], [16, 36, 18, 13, 13, 9, 60, 30])
    ws.freeze_panes(3, 1)
    ws.autofilter(2, 0, max(last - 1, 3), 7)


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


def _previous(o: _Out, con: Consolidation):
    ws = o.sheet(SHEETS["previous"], f"ĐỐI CHIẾU SỐ LIỆU NĂM {con.year - 1}: tỉnh ghi năm nay và đã báo cáo năm "
                 "trước")
    df = con.previous_diffs
    rows = [[r.province_name, r.indicator, r.dim, r.reported_now, r.reported_last_year, r.diff, r.source_file,
             f"{r.sheet}!{r.cell}"] for r in df.itertuples()] if not df.empty else []
    o.table(ws, 2, ["Tỉnh", "Chỉ tiêu", "Cấp / loại hình", "Ghi năm nay", "Đã báo cáo năm trước", "Chênh lệch",
                    "Tệp", "Ô"], rows, [{}, TXT, {}, NUM, NUM, SIGNED, TXT, {}], [16, 40, 20, 14, 14, 12, 34, 20])


def _data(o: _Out, con: Consolidation):
    ws = o.sheet(SHEETS["data"], "DỮ LIỆU NGUỒN: mỗi con số với tệp, trang và ô đã đọc")
    df = con.tidy
    cols = list(df.columns)
    rows = df.astype(object).where(df.notna(), None).values.tolist()
    last = o.table(ws, 2, cols, rows, [NUM if c == "value" else {} for c in cols], [10] * len(cols))
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, max(last - 1, 3), len(cols) - 1)


def write_summary(con: Consolidation, path: Path, previous: Path | None = None) -> Path:
    """Write the summary workbook atomically."""
    nat = national_table(con)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False, "nan_inf_to_errors": True})
        wb.set_properties({"title": f"Tổng hợp báo cáo công tác thư viện năm {con.year}", "author": "libstats"})
        wb.set_custom_property(OUTPUT_PROPERTY, "summary")  # found in an inbox, it is set aside, never a return
        o = _Out(wb)
        _overview(o, con, nat, previous)
        _national(o, con, nat)
        _provinces(o, con)
        _types(o, con)
        _charts(o, con, nat)
        _narratives(o, con)
        _explanations(o, con)
        _findings(o, con)
        _ledger(o, con)
        if previous is not None:
            _previous(o, con)
        _data(o, con)
        wb.close()
    return path
