"""Golden files: the 2024 generic form as stored reference, compared part by part with dates normalised.

Regenerate after an intentional change of the template (then review the diff of the parts):
    python -m tests.golden
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from libstats.form import build_form
from libstats.template import TemplateOptions, write_template

HERE = Path(__file__).parent / "golden_files"
REFERENCE = HERE / "bao-cao-thu-vien-2024_mau-chung.xlsx"
FIXED = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
_DATES = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def make(path: Path) -> Path:
    return write_template(build_form(2024), path, TemplateOptions(generated_at=FIXED))


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: _DATES.sub(b"DATE", z.read(name)) for name in sorted(z.namelist())}


if __name__ == "__main__":
    make(REFERENCE)
    print(f"wrote {REFERENCE} ({len(parts(REFERENCE))} parts)")
