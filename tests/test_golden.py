"""The 2024 generic form equals the stored reference, part by part as normalised XML (regenerate:
python -m tests.golden); the comparison itself sees a real change and shows it."""

import shutil
import zipfile

from tests import golden


def test_2024_form_matches_the_reference_part_by_part(tmp_path):
    diff = golden.differences(golden.make(tmp_path / "made.xlsx"))
    assert not diff, f"the form differs from the reference (if intended: python -m tests.golden):\n{diff}"


def test_the_comparison_shows_a_changed_element_and_ignores_volatile_ones(tmp_path):
    changed = tmp_path / "changed.xlsx"
    with zipfile.ZipFile(golden.REFERENCE) as src, zipfile.ZipFile(changed, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "docProps/core.xml":  # a new creation date is not a difference
                data = golden._DATES.sub("2031-01-01T00:00:00Z", data.decode()).encode()
            if name == "xl/worksheets/sheet1.xml":  # a row 0.25 pt higher is the same pixels; a locked cell is not
                data = data.replace(b' ht="', b' ht="0', 1).replace(b'<sheetProtection', b'<sheetProtection x="1"')
            dst.writestr(name, data)
    diff = golden.differences(changed)
    assert "xl/worksheets/sheet1.xml" in diff and '+<sheetProtection x="1"' in diff
    assert "core.xml" not in diff and diff.count("\n+<") == 1
    same = shutil.copy(golden.REFERENCE, tmp_path / "same.xlsx")
    assert golden.differences(same) == ""
