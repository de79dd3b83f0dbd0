"""Golden files: the 2024 generic form as stored reference, compared part by part as normalised XML.

Like XlsxWriter's own test helper: each XML part is split into its elements, volatile ones are dropped
(creation dates, the application version, the workbook view), relationships and content types are sorted,
and row heights are compared in pixels (what the spreadsheet program shows: XlsxWriter 3.3 writes 39.75 where
3.2 wrote 40, the same 53 pixels). A difference shows the differing elements of the part.

Regenerate after an intentional change of the template (then review the diff of the parts):
    python -m tests.golden
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import zipfile
from pathlib import Path

from libstats.model.form import build_form
from libstats.forms.template import TemplateOptions, write_template

HERE = Path(__file__).parent / "golden_files"
REFERENCE = HERE / "bao-cao-thu-vien-2024_mau-chung.xlsx"
FIXED = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)

_VOLATILE = re.compile(r"^<(dcterms:created|dcterms:modified|AppVersion|workbookView|calcPr|fileVersion)\b")
_DATES = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_ROW_HEIGHT = re.compile(r'\bht="([0-9.]+)"')
_SORTED = re.compile(r"(\.rels|\[Content_Types\]\.xml)$")


def make(path: Path) -> Path:
    return write_template(build_form(2024), path, TemplateOptions(generated_at=FIXED))


def _pixels(match: re.Match) -> str:
    return f'ht="{round(float(match.group(1)) * 4 / 3)}px"'


def elements(name: str, data: bytes) -> list[str]:
    """A part as its list of normalised elements (binary parts as one opaque item)."""
    if not name.endswith((".xml", ".rels", ".vml")):
        return [f"<binary {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}>"]
    text = data.decode("utf-8")
    items = [e.strip() for e in re.split(r"(?=<)", text.replace("\r\n", "\n"))]
    items = [_ROW_HEIGHT.sub(_pixels, _DATES.sub("DATE", e)) for e in items if e and not _VOLATILE.match(e)]
    return sorted(items) if _SORTED.search(name) else items


def parts(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as z:
        return {name: elements(name, z.read(name)) for name in sorted(z.namelist())}


def differences(made: Path, reference: Path = REFERENCE, context: int = 1, limit: int = 40) -> str:
    """Empty when the two workbooks are the same part by part; otherwise the differing elements of each part."""
    a, b = parts(reference), parts(made)
    out = [f"part only in the reference: {n}" for n in sorted(set(a) - set(b))]
    out += [f"part only in the new file: {n}" for n in sorted(set(b) - set(a))]
    for name in sorted(set(a) & set(b)):
        if a[name] != b[name]:
            diff = list(difflib.unified_diff(a[name], b[name], f"reference/{name}", f"made/{name}", n=context,
                                             lineterm=""))
            out += diff[:limit] + ([f"... {len(diff) - limit} more lines"] if len(diff) > limit else [])
    return "\n".join(out)


if __name__ == "__main__":
    make(REFERENCE)
    print(f"wrote {REFERENCE} ({len(parts(REFERENCE))} parts)")
