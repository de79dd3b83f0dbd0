"""Ask LibreOffice itself whether what a person types passes a named cell's data validation.

Run by Debian's /usr/bin/python3 (the only interpreter with the `uno` module), never imported by the tests.
Usage: uno_validity.py PIPE_NAME JOB.json RESULT.json

JOB: {"input": path, "name": defined name, "typed": [text or number...]}
RESULT: {"type": validation type, "formula": formula1 as LibreOffice shows it,
         "valid": [bool per typed value, as LibreOffice's "Mark invalid data" sees it]}
"""

import json
import sys

import uno

from uno_fill import connect, prop


def main():
    pipe, job_path, result_path = sys.argv[1:4]
    job = json.load(open(job_path, encoding="utf-8"))
    desktop = connect(pipe)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["input"]), "_blank", 0, (prop("Hidden", True),))
    try:
        cells = doc.NamedRanges.getByName(job["name"]).getReferredCells()
        cell, sheet = cells.getCellByPosition(0, 0), cells.Spreadsheet
        validation = cell.Validation
        valid = []
        for typed in job["typed"]:
            sheet.clearArrows()
            if isinstance(typed, (int, float)):
                cell.setValue(typed)
            else:
                cell.setString(typed)
            valid.append(not sheet.showInvalid())  # True when some cell of the sheet was marked invalid
        result = {"type": validation.Type.value, "formula": validation.getFormula1(), "valid": valid}
    finally:
        doc.close(True)
    json.dump(result, open(result_path, "w", encoding="utf-8"), ensure_ascii=False)


if __name__ == "__main__":
    main()
