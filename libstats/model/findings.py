"""Findings: typed records drawn from one catalogue of codes.

A finding says what is wrong, where (file, sheet, cell as the user sees it, field id) and how to fix it, in
Vietnamese for the provincial officer. Codes are grouped by prefix: F file intake, I identity, S structure,
V values, R rules, B batch comparisons, L ledger,
C collection. ``docs/finding-codes.md`` is generated from CATALOGUE.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum

__all__ = ["watch_findings", "outlier_detail", "Severity", "Code", "CATALOGUE", "Finding", "make", "verdict", "Verdict",
           "catalogue_markdown",
           "fmt_number", "fmt_rate", "Judged"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return {"error": "Lỗi", "warning": "Cảnh báo", "info": "Thông tin"}[self.value]


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity | None  # None: the spec or the rule gives the severity
    title: str  # English, for developers
    template: str  # Vietnamese, with {placeholders}


ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

_CODES = [
    # File intake
    Code("F01", ERR, "not a spreadsheet", "Tệp không phải là bảng tính Excel ({detail}). Hãy gửi lại tệp .xlsx đã điền."),
    Code("F02", ERR, "empty file", "Tệp rỗng (0 byte). Hãy gửi lại tệp báo cáo đã điền."),
    Code("F03", ERR, "corrupt or truncated", "Tệp bị hỏng hoặc gửi không trọn vẹn ({detail}). Hãy mở lại tệp "
         "gốc bằng Excel, lưu lại và gửi lại."),
    Code("F04", ERR, "password to open", "Tệp được đặt mật khẩu mở nên không đọc được. Hãy bỏ mật khẩu mở tệp "
         "(vẫn giữ nguyên mẫu) rồi gửi lại."),
    Code("F05", ERR, "HTML saved as .xls", "Tệp là trang web (HTML) được đặt tên .xls, không phải bảng tính. Hãy điền "
         "vào mẫu .xlsx đã được gửi và gửi lại."),
    Code("F06", ERR, "too large or zip bomb", "Tệp quá lớn hoặc bất thường ({detail}). Hãy gửi lại đúng tệp mẫu "
         "đã điền."),
    Code("F07", ERR, "needs LibreOffice", "Tệp định dạng {detail} cần LibreOffice để chuyển đổi nhưng máy kiểm tra "
         "chưa cài. Hãy lưu tệp dưới dạng .xlsx (Excel Workbook) và gửi lại."),
    Code("F08", INFO, "converted", "Tệp định dạng {detail} đã được tự động chuyển sang .xlsx để đọc."),
    Code("F09", ERR, "reader failed", "Không đọc được tệp trong giới hạn cho phép ({detail}). Hãy mở tệp bằng Excel, "
         "lưu lại dạng .xlsx và gửi lại."),
    Code("F10", INFO, "macro workbook", "Tệp có macro (.xlsm): macro không được chạy, chỉ đọc số liệu."),
    Code("F11", INFO, "libstats' own output", "Tệp do libstats tạo ({detail}), không phải báo cáo của tỉnh: đã để "
         "riêng, không tổng hợp."),
    Code("F12", INFO, "lock file", "Tệp khóa tạm của chương trình bảng tính ({detail}), không phải báo cáo: đã để "
         "riêng."),
    Code("F13", ERR, "not a file to read", "Không đọc tệp này: {detail}. Hãy đặt chính tệp báo cáo (.xlsx) vào "
         "hộp thư."),
    # Identity
    Code("I01", ERR, "another report", "Tệp không phải mẫu báo cáo công tác thư viện (mẫu '{detail}'). Hãy dùng đúng "
         "mẫu đã được gửi."),
    Code("I02", ERR, "another year", "Tệp là mẫu báo cáo năm {detail}, không phải năm {expected}. Hãy điền vào mẫu "
         "năm {expected}."),
    Code("I03", WARN, "older spec version", "Tệp dùng mẫu phiên bản {detail}, phiên bản hiện hành là {expected}. "
         "Số liệu vẫn đọc được; lần sau hãy dùng mẫu mới."),
    Code("I04", ERR, "unknown spec version", "Tệp dùng mẫu phiên bản {detail} không xác định (hiện hành: {expected}). "
         "Hãy điền vào mẫu hiện hành."),
    Code("I05", WARN, "province differs", "Tệp ghi tỉnh {detail} nhưng được gửi với tên tệp/thư mục của {expected}. "
         "Hãy kiểm tra lại đã gửi đúng tệp của tỉnh chưa."),
    Code("I06", WARN, "metadata recovered", "Tệp không còn thông tin nhận dạng của mẫu (có thể đã sao chép sang tệp "
         "mới); đã nhận dạng theo bố cục: {detail}. Lần sau hãy điền trực tiếp vào tệp mẫu."),
    Code("I07", ERR, "unidentifiable", "Không nhận dạng được tệp là mẫu báo cáo nào ({detail}). Hãy điền vào tệp mẫu "
         "đã được gửi, không sao chép sang tệp mới."),
    Code("I08", ERR, "province missing", "Chưa chọn hoặc không nhận ra tỉnh, thành phố báo cáo ({detail}). Hãy chọn "
         "tỉnh ở trang Bìa."),
    Code("I09", ERR, "code list mismatch", "Mã tỉnh {detail} thuộc danh mục {expected}, không phải danh mục dùng cho "
         "năm báo cáo này. Hãy dùng mẫu của đúng năm."),
    Code("I10", ERR, "province metadata differs from the cover", "Thông tin nhận dạng của tệp ghi {detail} "
         "nhưng trang Bìa ghi {expected}. Số liệu được xếp theo tỉnh ghi ở trang Bìa. Hãy điền vào đúng tệp mẫu "
         "của tỉnh mình (tải lại mẫu nếu cần) và chọn đúng tỉnh ở trang Bìa."),
    # Structure
    Code("S01", WARN, "names missing, fell back", "Các ô nhập ở trang '{sheet}' (từ ô '{field}') đã mất tên (defined "
         "name); đã đọc theo vị trí gốc của mẫu. Hãy kiểm tra các ô này và không xóa, chèn dòng cột trong mẫu."),
    Code("S02", ERR, "name broken", "Ô nhập '{field}' không còn (tên trỏ tới {detail}), có thể do xóa dòng, cột hoặc "
         "trang. Hãy điền lại vào tệp mẫu gốc."),
    Code("S03", ERR, "name not one cell", "Ô nhập '{field}' đang trỏ tới {detail}, không phải một ô đơn (có thể đã "
         "gộp ô). Hãy bỏ gộp ô và điền lại."),
    Code("S04", WARN, "sheet unprotected", "Trang '{sheet}' đã bị bỏ khóa bảo vệ. Hãy dùng tệp mẫu gốc, chỉ điền vào "
         "ô màu vàng."),
    Code("S05", WARN, "cell moved", "Ô nhập '{field}' đã dịch từ {detail} sang {cell} (dòng hoặc cột đã bị chèn, xóa). "
         "Số liệu vẫn đọc đúng; lần sau không chèn, xóa dòng cột."),
    Code("S06", WARN, "sheet renamed", "Trang '{detail}' đã bị đổi tên thành '{sheet}'. Số liệu vẫn đọc được; lần sau "
         "không đổi tên trang."),
    Code("S07", ERR, "sheet removed", "Thiếu trang '{sheet}' của mẫu. Hãy điền lại vào tệp mẫu gốc."),
    Code("S08", WARN, "formula in input", "Ô '{field}' chứa công thức ({detail}); đã lấy giá trị đã tính. Hãy nhập "
         "trực tiếp con số."),
    Code("S09", ERR, "formula without value", "Ô '{field}' chứa công thức ({detail}) nhưng không có giá trị đã tính. "
         "Hãy nhập trực tiếp con số."),
    Code("S10", WARN, "input merged, value kept", "Ô nhập '{field}' đã bị gộp với ô khác ({detail}); đã đọc giá trị. Hãy bỏ gộp ô để giữ nguyên mẫu."),
    Code("S11", ERR, "input on a hidden sheet", "Ô nhập '{field}' (ô {cell} trang '{sheet}') đang trỏ tới trang "
         "ẩn {detail}. Số liệu trên trang ẩn không được tổng hợp vì người điền không nhìn thấy. Hãy điền lại vào "
         "tệp mẫu gốc."),
    # Values
    Code("V01", INFO, "number typed as text", "Ô '{field}' ghi '{detail}' dạng chữ; đọc là {value}."),
    Code("V02", ERR, "ambiguous number", "Ô '{field}' ghi '{detail}': không rõ là {value}. Hãy nhập số không có dấu "
         "phân cách (ví dụ 1234567)."),
    Code("V03", ERR, "negative", "Ô '{field}' có số âm ({detail}). Số liệu thống kê phải từ 0 trở lên."),
    Code("V04", ERR, "fraction", "Ô '{field}' có số lẻ ({detail}). Chỉ tiêu này phải là số nguyên. Nếu dấu chấm, dấu "
         "phẩy là để ngăn cách hàng nghìn thì mỗi nhóm sau dấu phải đủ 3 chữ số (ví dụ 12.500)."),
    Code("V05", ERR, "text in number cell", "Ô '{field}' ghi '{detail}', không phải con số. Hãy nhập con số (hoặc 0 nếu "
         "không có)."),
    Code("V06", ERR, "error value", "Ô '{field}' có giá trị lỗi {detail}. Hãy nhập giá trị đúng (con số hoặc nội "
         "dung) thay cho giá trị lỗi."),
    Code("V07", INFO, "zero by word", "Ô '{field}' ghi '{detail}'; đã hiểu là 0."),
    Code("V08", INFO, "not counted (x)", "Ô '{field}' ghi '{detail}' (không thống kê): ô này không có số liệu, "
         "không tính là 0; các tổng chỉ cộng những ô có số liệu."),
    Code("V09", WARN, "text too long", "Ô '{field}' dài {detail} ký tự, quá giới hạn {expected}; đã giữ nguyên toàn văn."),
    Code("V10", ERR, "number too large", "Ô '{field}' có số {detail}, lớn hơn mức tối đa {expected}. Hãy kiểm tra lại."),
    Code("V11", WARN, "bad date", "Ô '{field}' ghi '{detail}', không phải ngày hợp lệ (dd/mm/yyyy)."),
    # Rules
    Code("R01", None, "required empty", "Ô '{field}' còn trống. Hãy điền {detail}."),
    Code("R02", ERR, "total is not the sum", "Tổng cộng '{field}' là {value} nhưng cộng các cấp là {expected}. Hãy sửa "
         "cho khớp."),
    Code("R03", None, "relation", "{detail} ('{field}' = {value}, so với {expected})."),
    Code("R04", WARN, "swing without explanation", "'{field}' thay đổi {detail} so với năm trước (ngưỡng {expected}) "
         "nhưng chưa có giải thích. Hãy ghi lý do ở cột Giải thích."),
    Code("R05", WARN, "same as last year", "Mọi số liệu của {detail} giống hệt năm trước. Hãy kiểm tra đã cập nhật số "
         "liệu năm nay chưa."),
    Code("R06", INFO, "total over what was counted", "Tổng cộng '{field}' = {value} là tổng các cấp có số liệu; "
         "{detail} ghi x (không thống kê) nên không được cộng."),
    # Batch and previous year
    Code("B01", WARN, "previous year differs", "Số liệu năm trước '{field}' là {value}, khác số đã báo cáo năm ngoái "
         "({expected}). Hãy kiểm tra hoặc giải thích ở cột Giải thích."),
    Code("B02", WARN, "outlier", "'{field}' khác thường so với các tỉnh khác ({detail}). Hãy kiểm tra lại."),
    # Ledger
    Code("L01", INFO, "superseded", "Tệp đã được thay bằng tệp {detail} của cùng tỉnh (gửi sau)."),
    Code("L02", WARN, "superseded file differs", "Tệp thay thế khác tệp trước ở ô '{field}': {detail}."),
    # Collection (register, upload page)
    Code("C01", ERR, "sent through another province's link", "Tệp ghi tỉnh {detail} nhưng được gửi qua đường dẫn "
         "của {expected}. Hãy gửi đúng tệp báo cáo của {expected}."),
    Code("C02", WARN, "correction of last year's figure", "Tỉnh đính chính '{field}': số năm trước đã ghi là "
         "{value}, số đúng là {expected}. Bộ sẽ xem xét chấp nhận hoặc không."),
]
CATALOGUE: dict[str, Code] = {c.code: c for c in _CODES}


def fmt_number(v) -> str:
    """A number as a Vietnamese officer writes it: 29.477.733; 12,5."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return str(v)
    if float(v).is_integer():
        return f"{v:,.0f}".replace(",", ".")
    return f"{v:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def outlier_detail(value: float, usual: float, label: str) -> str:
    """An outlier said the way a province officer reads it: "12.500 lượt ..., cao gấp 2,7 lần mức thường gặp ở
    các tỉnh (4.600)". ``usual`` is the median over the provinces; ``label`` names the ratio."""
    def num(x: float) -> str:
        return fmt_number(round(x)) if abs(x) >= 100 or float(x).is_integer() else f"{x:.1f}".replace(".", ",")

    if usual <= 0:
        return f"{label}: {num(value)}, trong khi ở phần lớn các tỉnh là 0"
    times = value / usual
    if times >= 1:
        how = f"cao gấp {num(times)} lần" if times >= 1.5 else f"cao hơn {fmt_number(round((times - 1) * 100))}%"
    else:
        how = f"chỉ bằng {fmt_number(round(times * 100))}%" if times > 0 else "bằng 0, khác hẳn"
    return f"{label}: {num(value)}, {how} mức thường gặp ở các tỉnh ({num(usual)})"


def fmt_rate(x: float) -> str:
    """A share (0.712) as a Vietnamese percentage: 71,2%."""
    return f"{x * 100:.1f}".replace(".", ",") + "%"


_WATCHERS: list[Callable[[Finding], object]] = []


def watch_findings(callback: Callable[[Finding], object]) -> Callable[[], None]:
    """Call ``callback`` with every finding made in this process from now on, including those received from a
    worker process (unpickled); returns the function that stops it. For accounting of a run (the test suite
    checks that its tests produce every code of the catalogue)."""
    _WATCHERS.append(callback)
    return lambda: _WATCHERS.remove(callback)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    field: str = ""

    def __post_init__(self):
        for watcher in _WATCHERS:
            watcher(self)

    def __setstate__(self, state: dict) -> None:  # (pickle's own way, then the watchers)
        self.__dict__.update(state)
        for watcher in _WATCHERS:
            watcher(self)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def make(code: str, *, severity: Severity | str | None = None, file: str = "", sheet: str = "", cell: str = "",
         field: str = "", label: str = "", **params) -> Finding:
    """A finding of catalogue ``code``; ``label`` is what the officer sees for the field."""
    entry = CATALOGUE[code]
    sev = Severity(severity) if severity is not None else entry.severity
    if sev is None:
        raise ValueError(f"{code} needs a severity")
    params = {"detail": "", "expected": "", "value": "", "field": label or field, "sheet": sheet, "cell": cell,
              **params}
    message = unicodedata.normalize("NFC", entry.template.format(**params))
    return Finding(code, sev, message, file, sheet, cell, field)


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    WARNINGS = "accepted_with_warnings"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"accepted": "Chấp nhận", "accepted_with_warnings": "Chấp nhận (có cảnh báo)",
                "rejected": "Không chấp nhận"}[self.value]


class Judged:
    """The verdict and the counts of anything that has ``findings`` (a file's result, a ledger entry)."""

    findings: list[Finding]

    @property
    def verdict(self) -> Verdict:
        return verdict(self.findings)

    @property
    def errors(self) -> int:
        return sum(f.severity == Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == Severity.WARNING for f in self.findings)


def verdict(findings: list[Finding]) -> Verdict:
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return Verdict.REJECTED
    if Severity.WARNING in severities:
        return Verdict.WARNINGS
    return Verdict.ACCEPTED


def catalogue_markdown() -> str:
    """The finding-code catalogue as Markdown (docs/finding-codes.md is this text)."""
    lines = ["# Finding codes", "", "Generated from `libstats/model/findings.py` by `libstats codes`; a test keeps it "
             "current.", "", "| code | severity | what | message (Vietnamese, as the officer reads it) |",
             "|---|---|---|---|"]
    for c in _CODES:
        sev = c.severity.value if c.severity else "set by the spec"
        lines.append(f"| {c.code} | {sev} | {c.title} | {c.template.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
