"""The workbook contract: where things live in a libstats workbook, shared by the writer and the reader.

Sheet names that are not sections of the outline, the metadata (custom-property prefix, the very-hidden sheet
and its cells), the fixed positions on the cover, the narrative and table sheets and the check sheet, and the
A1 helpers. ``form.py`` lays the spec's fields out on this grid; ``template.py`` writes it, ``reader.py`` and
``xlsx.py`` read it. Nothing here imports a spreadsheet library.
"""

from __future__ import annotations

import re

__all__ = ["INSTRUCTIONS_SHEET", "DEFINITIONS_SHEET", "CHECK_SHEET", "LISTS_SHEET", "META_SHEET", "META_PREFIX",
           "META_CELLS", "COVER_TITLE_CELL", "COVER_FIRST_ROW", "NARRATIVE_FIRST_ROW", "TABLE_COLUMNS",
           "CHECK_FIRST_ROW", "CHECK_RESULT_COL", "CHECK_COUNT_CELLS", "PROVINCE_LIST_NAME", "col_name",
           "cell_name", "split_address", "parse_ref", "check_result_cell", "line_chars", "wrapped_lines"]

# Sheets that are not sections of the outline.
INSTRUCTIONS_SHEET, DEFINITIONS_SHEET, CHECK_SHEET = "Hướng dẫn", "Định nghĩa", "Kiểm tra"
LISTS_SHEET, META_SHEET = "Danh mục", "_libstats"
PROVINCE_LIST_NAME = "ds_tinh"  # the defined name of the province dropdown's list

# Metadata: custom properties "libstats_<key>", mirrored on the very-hidden META_SHEET as key in column A and
# value in column B, one per row from row 1 (at most META_ROWS rows).
META_PREFIX = "libstats_"
META_ROWS = 12
META_CELLS = tuple((f"A{r}", f"B{r}") for r in range(1, META_ROWS + 1))

# Cover: the report's title (with its year) and the first input row (0-based; the province is on the row before).
COVER_TITLE_CELL = "A5"
COVER_FIRST_ROW = 9

# Narrative and table sheets: rows 0-3 hold the part, its title and the column header.
NARRATIVE_FIRST_ROW = 4
# Table sheet columns (0-based): STT, indicator, level/type, unit, N, N-1, change, %, explanation.
TABLE_COLUMNS = {"stt": 0, "label": 1, "dim": 2, "unit": 3, "n": 4, "p": 5, "diff": 6, "pct": 7, "gc": 8,
                 "pc": 9}  # pc: the province's correction of a locked N-1 figure (after every older column)

# Check sheet: the error and warning counts, then one rule a row from CHECK_FIRST_ROW (0-based), result in D.
CHECK_FIRST_ROW = 5
CHECK_RESULT_COL = 3
CHECK_COUNT_CELLS = ("D2", "D3")

_ADDR = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")


def split_address(addr: str) -> tuple[int, int]:
    """'E5' → (4, 4) zero-based (row, col)."""
    m = _ADDR.match(addr)
    if not m:
        raise ValueError(addr)
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    return int(m[2]) - 1, col - 1


def col_name(col: int) -> str:
    """0-based column → letters: 0 → 'A', 26 → 'AA' (the inverse of split_address's column)."""
    name = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


def cell_name(row: int, col: int) -> str:
    """0-based row/col → 'E5'."""
    return f"{col_name(col)}{row + 1}"


def is_address(addr: str) -> bool:
    return bool(_ADDR.match(addr))


def parse_ref(text: str) -> tuple[str, str] | None:
    """"'Sheet name'!$E$5" → ("Sheet name", "E5"); None when it is not one cell on one sheet."""
    text = text.strip().lstrip("=")
    if "!" not in text:
        return None
    sheet, _, addr = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    addr = addr.replace("$", "")
    if not _ADDR.match(addr):
        return None
    return sheet, addr


def check_result_cell(index: int) -> str:
    """The check sheet's result cell of rule ``index`` (0-based, in the order of ``rules.build_rules``)."""
    return cell_name(CHECK_FIRST_ROW + index, CHECK_RESULT_COL)


def line_chars(width: float) -> int:
    """Rough number of characters on one line of a column ``width`` characters wide (12 pt Times)."""
    return max(1, int(width * 1.1))


def wrapped_lines(text: str, width: float) -> int:
    """Rough number of wrapped lines of ``text`` in a column ``width`` characters wide (12 pt Times)."""
    per_line = line_chars(width)
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
