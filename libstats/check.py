"""Check one returned file: intake, identity, extraction, rules → a result with a verdict.

Never raises on bad input: every problem becomes a finding, so one file never stops a batch.
"""

from __future__ import annotations

from pathlib import Path

from .findings import Finding, Severity, make
from .form import PROVINCE_FIELD, build_form
from .intake import IntakeError, take_in
from .reader import extract, guess_province_from_name, identify, province_from_cover
from .result import CheckResult
from .rules import Context, build_rules
from .spec import Spec, default_spec
from .xlsx import XlsxError, open_xlsx

__all__ = ["check_file"]


def _fail(res: CheckResult, finding: Finding) -> CheckResult:
    res.findings.append(finding)
    return res


def check_file(path: str | Path, spec: Spec | None = None, year: int | None = None,
               display: str | None = None) -> CheckResult:
    """Check one file against ``spec`` (default: the shipped spec) for report ``year`` (None: the file's)."""
    path, spec = Path(path), spec or default_spec()
    name = display or path.name
    res = CheckResult(str(path), name)
    try:
        st = path.stat()
        res.size, res.mtime = st.st_size, st.st_mtime
        intake = take_in(path)
    except IntakeError as exc:
        return _fail(res, make(exc.code, file=name, detail=exc.detail))
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
        ident, found = identify(wb, spec, name, year)
        res.findings += found
        res.form_id, res.version, res.year, res.generated = ident.form_id, ident.version, ident.year, ident.generated
        res.spec_sha256 = ident.spec_sha256
        if any(f.severity == Severity.ERROR for f in found) or ident.year is None:
            return res
        form = build_form(ident.year, spec)
        ext = extract(wb, form, name)
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
