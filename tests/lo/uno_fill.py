"""Drive a running headless LibreOffice through UNO: fill named cells, recalculate, save as .xlsx, read back.

Run by Debian's /usr/bin/python3 (the only interpreter with the `uno` module), never imported by the tests.
Usage: uno_fill.py PIPE_NAME JOB.json RESULT.json      (one job)
       uno_fill.py PIPE_NAME --serve                   (jobs read from stdin, "JOB.json<TAB>RESULT.json" a line;
                                                        answers "ok" or "error <traceback>" a line: one client,
                                                        one connection for a whole test session)

JOB: {"input": path, "output": path or null, "filter": LibreOffice export filter (default .xlsx; "pdf" picks the
      PDF filter of the document's kind), "values": {name: number or text},
      "read_names": [name...], "read_cells": [["sheet", "D6"]...]}
A text document (.docx) can only be exported.
RESULT: {"names": {name: {"value": number, "string": text, "formula": text}}, "cells": [...], "sheets": [...]}
"""

import json
import sys
import time
import traceback

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(pipe):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + 600  # LibreOffice starting on a loaded machine (a guard against a hang)
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def cell_info(cell):
    return {"value": cell.getValue(), "string": cell.getString(), "formula": cell.getFormula()}


def main():
    pipe = sys.argv[1]
    if sys.argv[2] != "--serve":
        run(connect(pipe), *sys.argv[2:4])
        return
    desktop = connect(pipe)
    for line in sys.stdin:
        job_path, result_path = line.rstrip("\n").split("\t")
        try:
            run(desktop, job_path, result_path)
            answer = "ok"
        except Exception:
            answer = "error " + traceback.format_exc().replace("\n", "\\n")
        print(answer, flush=True)


def run(desktop, job_path, result_path):
    job = json.load(open(job_path, encoding="utf-8"))
    url = uno.systemPathToFileUrl(job["input"])
    doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
    try:
        text = doc.supportsService("com.sun.star.text.TextDocument")
        filt = job.get("filter") or "Calc MS Excel 2007 XML"
        if filt == "pdf":
            filt = "writer_pdf_Export" if text else "calc_pdf_Export"
        if text:
            doc.storeToURL(uno.systemPathToFileUrl(job["output"]), (prop("FilterName", filt),))
            json.dump({}, open(result_path, "w", encoding="utf-8"))
            return
        names = doc.NamedRanges
        for name, value in job.get("values", {}).items():
            cell = names.getByName(name).getReferredCells().getCellByPosition(0, 0)
            if isinstance(value, (int, float)):
                cell.setValue(value)
            else:
                cell.setString(value)
        doc.calculateAll()
        result = {"names": {}, "cells": [], "sheets": list(doc.Sheets.ElementNames)}
        for name in job.get("read_names", []):
            result["names"][name] = cell_info(names.getByName(name).getReferredCells().getCellByPosition(0, 0))
        for sheet, addr in job.get("read_cells", []):
            result["cells"].append(cell_info(doc.Sheets.getByName(sheet).getCellRangeByName(addr)))
        if job.get("output"):
            doc.storeToURL(uno.systemPathToFileUrl(job["output"]), (prop("FilterName", filt),))
    finally:
        doc.close(True)
    json.dump(result, open(result_path, "w", encoding="utf-8"), ensure_ascii=False)


if __name__ == "__main__":
    main()
