"""Check one returned file: intake, identity, extraction, rules → a result with a verdict.

Never raises on bad input: every problem becomes a finding, so one file never stops a batch.
"""

from __future__ import annotations

import re
from pathlib import Path

from libstats.model.findings import Finding, Severity, make
from libstats.model.form import PROVINCE_FIELD, build_form
from libstats.intake.formats import IntakeError, take_in
from libstats.model.layout import META_PREFIX
from libstats.intake.reader import extract, guess_province_from_name, identify, province_from_cover
from libstats.intake.reader import prepare as prepare_reader
from libstats.checks.result import CheckResult
from libstats.model.rules import Context, build_rules
from libstats.model.spec import Spec, default_spec
from libstats.intake.xlsx import XlsxError, open_xlsx

__all__ = ["check_file", "prepare", "OUTPUT_PROPERTY", "SAVED_PROPERTY"]

OUTPUT_PROPERTY = META_PREFIX + "output"  # "feedback" or "summary": a file libstats wrote, not a return
SAVED_PROPERTY = META_PREFIX + "saved"  # a feedback copy: the original's saved time, kept as its own


def _fail(res: CheckResult, finding: Finding) -> CheckResult:
    res.findings.append(finding)
    return res


_LOCK_FILE = re.compile(r"^(~\$.+|\.~lock\..+#)$")  # Excel's owner file, LibreOffice's lock file
_DATASET_HEAD = ("province_code,code_list", "\ufeffprovince_code,code_list")


def _own_output(path: Path) -> str:
    """What libstats output a non-spreadsheet file is (its dataset, the dataset's descriptor), or ''."""
    if not path.is_file():  # a FIFO or a device is never opened
        return ""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return ""
    if head.startswith(_DATASET_HEAD):
        return "bộ dữ liệu tổng hợp"
    if path.name == "datapackage.json" and '"libstats' in head:
        return "tệp mô tả bộ dữ liệu"
    return ""


def _own_workbook(wb) -> str:
    """What libstats output a workbook is: a summary, or a feedback copy nobody has saved since; else ''."""
    kind = wb.custom.get(OUTPUT_PROPERTY)
    if kind == "summary":
        return "bảng tổng hợp"
    if kind == "feedback" and wb.custom.get(SAVED_PROPERTY) == (wb.modified or "-"):
        return "tệp phản hồi, chưa được sửa và lưu lại từ khi gửi"
    return ""


def prepare(year: int, spec: Spec) -> None:
    """Lay out the form of ``year`` and make what checking its returns derives from it, once: call it before
    forking check workers, so that they inherit it instead of each making it again."""
    form = build_form(year, spec)
    build_rules(form)
    prepare_reader(form)


def check_file(path: str | Path, spec: Spec | None = None, year: int | None = None,
               display: str | None = None, problem: str = "", conversions: Path | None = None) -> CheckResult:
    """Check one file against ``spec`` (default: the shipped spec) for report ``year`` (None: the file's).
    ``problem``: why the file is not to be read at all (a link, a FIFO: see ``batch.collect_files``);
    ``conversions``: where .xls/.ods conversions are kept (``formats.take_in``)."""
    path, spec = Path(path), spec or default_spec()
    name = display or path.name
    res = CheckResult(str(path), name)
    if problem:
        return _fail(res, make("F13", file=name, detail=problem))
    if _LOCK_FILE.match(path.name):
        return _fail(res, make("F12", file=name, detail=path.name))
    try:
        st = path.stat()
        res.size, res.mtime = st.st_size, st.st_mtime
        intake = take_in(path, conversions)
    except IntakeError as exc:
        own = _own_output(path) if exc.code in ("F01", "F05") else ""
        return _fail(res, make("F11", file=name, detail=own) if own else make(exc.code, file=name, detail=exc.detail))
    except OSError as exc:
        return _fail(res, make("F09", file=name, detail=exc.strerror or type(exc).__name__))
    res.sha256, res.kind = intake.sha256, intake.kind
    if intake.converted:
        res.findings.append(make("F08", file=name, detail="." + intake.kind))
    if intake.kind == "xlsm":
        res.findings.append(make("F10", file=name))
    try:
        wb = open_xlsx(intake.data, z=intake.zip)
        res.saved = wb.modified
        own = _own_workbook(wb)
        if own:
            return _fail(res, make("F11", file=name, detail=own))
        ident, found = identify(wb, spec, name, year)
        res.findings += found
        res.form_id, res.version, res.year, res.generated = ident.form_id, ident.version, ident.year, ident.generated
        res.spec_sha256 = ident.spec_sha256
        if any(f.severity == Severity.ERROR for f in found) or ident.year is None:
            return res
        form = build_form(ident.year, spec)
        ext = extract(wb, form, name, older=any(f.code == "I03" for f in found))
    except XlsxError as exc:
        return _fail(res, make(exc.code, file=name, detail=exc.detail))
    res.values, res.sources = ext.values, ext.sources
    res.findings += ext.findings
    res.province = ident.province or province_from_cover(ext, ident.year)
    cover = form.fields[PROVINCE_FIELD]
    if res.province is None:
        if ext.values.get(PROVINCE_FIELD):  # an empty cell is R01, from the rules below
            res.findings.append(make("I08", file=name, sheet=cover.sheet, cell=cover.cell, field=PROVINCE_FIELD,
                                     detail=repr(ext.values[PROVINCE_FIELD])))
    else:
        named = guess_province_from_name(Path(name).name, ident.year) or guess_province_from_name(
            Path(name).parent.name, ident.year)
        if named is not None and named != res.province:
            res.findings.append(make("I05", file=name, sheet=cover.sheet, cell=cover.cell, field=PROVINCE_FIELD,
                                     detail=res.province.name, expected=named.name))
    ctx = Context(form, ext.values, ext.sources, name, ext.flagged)
    for rule in build_rules(form):
        res.findings.extend(rule.findings(ctx))
    return res
