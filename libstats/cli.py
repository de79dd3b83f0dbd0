"""The command line: a thin layer over the library. The only module that imports click."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import findings as findings_mod
from .dictionary import dictionary_csv, dictionary_markdown
from .form import build_form
from .template import select_provinces, write_templates
from .spec import load_spec
from .template import DEFAULT_PASSWORD

__all__ = ["main"]


def _progress(label: str, quiet: bool = False):
    def wrap(items):
        items = list(items)
        if quiet or len(items) < 2:
            return items
        return _iter_bar(items, label)
    return wrap


def _iter_bar(items, label):
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield from bar


def year_option(required: bool = True):
    return click.option("--year", type=click.IntRange(2000, 2100), required=required,
                        help="Report year N (the report compares N with N-1).")


def quiet_option(fn):
    return click.option("-q", "--quiet", is_flag=True, help="No progress bar.")(fn)


def spec_option(fn):
    return click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="Report spec (TOML); default: the spec shipped with libstats.")(fn)


def _spec(spec_path: Path | None):
    return load_spec(spec_path) if spec_path else None


def library_errors(fn):
    """Turn the library's input errors (a bad spec, code, dataset or path) into a clean message, exit code 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="libstats")
def main():
    """libstats: the annual library report (Tổng kết công tác thư viện) of Vietnam's provinces.

    Generate locked templates, check the returned workbooks, consolidate them into the Ministry's summary.
    """


@main.command()
@year_option()
@click.option("--province", "codes", multiple=True, metavar="CODE",
              help="Province code of the year's code list (repeatable). Without it: the blank generic form.")
@click.option("--all-provinces", is_flag=True, help="One workbook for every province of the year.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("templates"),
              show_default=True, help="Folder to write into.")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True,
              help="Sheet-protection password (ASCII). A guard against accidents, not security.")
@click.option("--previous", "previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Last year's tidy dataset (CSV from consolidate): prefill and lock the N-1 column.")
@spec_option
@quiet_option
@library_errors
def template(year, codes, all_provinces, out_dir, password, previous, spec_path, quiet):
    """Generate the locked Excel template(s) of a report year.

    Example: libstats template --year 2024 --all-provinces --out templates/2024
    """
    form = build_form(year, _spec(spec_path))
    provinces = select_provinces(year, codes, all_provinces)
    prefill = None
    if previous:
        from .dataset import load_dataset
        from .rollover import previous_year_prefill
        from .template import TemplateOptions
        last_year = load_dataset(previous, form.spec, year - 1)
        for note in last_year.attrs["notes"]:
            click.echo(f"Lưu ý: {note}", err=True)
        figures = previous_year_prefill(form, last_year)

        def prefill(p):
            return TemplateOptions(**vars(figures(p)))
    paths = write_templates(form, provinces, out_dir, password=password, prefill=prefill,
                               progress=_progress("Đang tạo mẫu", quiet))
    click.echo(f"Đã tạo {len(paths)} tệp mẫu năm {year} trong {out_dir}")
    if len(paths) == 1:
        click.echo(str(paths[0]))


@main.command()
@year_option()
@click.option("--format", "fmt", type=click.Choice(["csv", "markdown"]), default="markdown", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: stdout).")
@spec_option
@library_errors
def dictionary(year, fmt, output, spec_path):
    """The data dictionary: every field id with its sheet, cell, label, unit, type and rules.

    Example: libstats dictionary --year 2024 --format csv -o dictionary-2024.csv
    """
    form = build_form(year, _spec(spec_path))
    text = dictionary_csv(form) if fmt == "csv" else dictionary_markdown(form)
    _emit(text, output, bom=fmt == "csv")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: stdout).")
def codes(output):
    """The catalogue of finding codes, as Markdown.

    Example: libstats codes -o docs/finding-codes.md
    """
    _emit(findings_mod.catalogue_markdown(), output)


def shown(text: str) -> str:
    """A name or text from a file as it may be printed on a terminal: control characters made visible."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _render_review(rv, verbose: bool) -> None:
    from .ledger import FATES

    width = min(60, max([len(shown(e.result.display)) for e in rv.ledger] + [10]))
    click.echo(f"{'Tệp':<{width}}  {'Tỉnh':<16} {'Kết quả':<28} {'Lỗi':>4} {'C.báo':>5}")
    for e in rv.ledger:
        name = e.result.province.name if e.result.province else "?"
        colour = {"rejected": "red", "accepted_with_warnings": "yellow", "accepted": "green"}.get(e.fate)
        click.echo(f"{shown(e.result.display):<{width}}  {name:<16} " + click.style(f"{FATES[e.fate]:<28}", fg=colour)
                   + f" {e.errors:>4} {e.warnings:>5}")
    for e in rv.ledger:
        listed = [f for f in e.findings if verbose or f.severity != "info"]
        if not listed:
            continue
        click.echo(f"\n{shown(e.result.display)}:")
        for f in listed:
            where = f"{f.sheet}!{f.cell}" if f.cell else f.sheet
            click.echo(f"  [{f.code} {f.severity.label}] {shown(where) + ': ' if where else ''}{shown(f.message)}")
    counts = rv.counts()
    click.echo(f"\n{len(rv.ledger)} tệp: " + "; ".join(f"{FATES[k].lower()}: {v}" for k, v in counts.items()))


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@year_option(required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (for machines).")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write a feedback workbook per file (a copy with a findings sheet) into this folder.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Last year's tidy dataset: compare each province's N-1 figures with what it reported then.")
@click.option("-v", "--verbose", is_flag=True, help="Also list information findings.")
@spec_option
@quiet_option
@library_errors
def check(inputs, year, as_json, feedback_dir, previous, verbose, spec_path, quiet):
    """Check returned workbooks (files or folders): a verdict and located findings for each file.

    Exit code 0 when no file has an error, 1 when some file has (or nothing could be checked), 2 on usage
    errors.

    On a collection folder (one with register.sqlite) the register decides: the file that counts for each
    province is the approved one (else the latest), reviewed warnings are listed with their notes, not counted.

    Example: libstats check inbox/ --year 2024 --feedback feedback/
    """
    import json as json_mod

    from .feedback import write_feedbacks
    from .review import guard_outputs, review_inbox

    from .collect import is_collection, review_collection

    guard_outputs(inputs, [feedback_dir])
    bar = _progress("Đang kiểm tra", quiet or as_json)
    if is_collection(inputs):
        col = _collection_of(inputs[0], year)
        rv = review_collection(col, _spec(spec_path), previous, progress=bar)
    else:
        rv = review_inbox(list(inputs), year, _spec(spec_path), previous, progress=bar)
    if not rv.ledger:
        raise click.UsageError("không có tệp nào để kiểm tra")
    made = write_feedbacks(rv.ledger, feedback_dir) if feedback_dir else [None] * len(rv.ledger)
    if as_json:
        click.echo(json_mod.dumps([{**e.as_dict(), "feedback": str(m) if m else None}
                                   for e, m in zip(rv.ledger, made, strict=True)], ensure_ascii=False, indent=1))
    else:
        _render_review(rv, verbose)
        _render_reviewed(rv)
        if feedback_dir:
            click.echo(f"\nTệp phản hồi ({sum(m is not None for m in made)} tệp): {shown(str(feedback_dir))}")
    sys.exit(1 if rv.has_errors else 0)


def _collection_of(root: Path, year: int | None):
    """The collection in ``root``, refused (in Vietnamese) when ``--year`` asks for another year."""
    from .collect import open_collection

    col = open_collection(root)
    if year is not None and year != col.year:
        raise click.UsageError(f"thư mục {root} là đợt thu thập năm {col.year}, không phải năm {year} (--year)")
    return col


def _render_reviewed(rv) -> None:
    """The warnings the Ministry reviewed in a collection: listed with their notes, not counted again."""
    listed = [(e, f, note) for e in rv.ledger for f, note in e.reviewed]
    if listed:
        click.echo("\nCảnh báo đã được Bộ xem xét (không tính lại):")
    for e, f, note in listed:
        where = f"{f.sheet}!{f.cell}" if f.cell else f.sheet
        click.echo(f"  {shown(e.result.display)}: [{f.code}] {shown(where)} — ghi chú: {shown(note)}")


def dataset_path(summary: Path) -> Path:
    """Where the tidy dataset goes: beside the summary, same stem."""
    return summary.with_name(summary.stem + "_du-lieu.csv")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@year_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The summary workbook to write; the tidy dataset goes beside it (…_du-lieu.csv).")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Last year's tidy dataset: compare the provinces' N-1 figures with it.")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write a feedback workbook per file into this folder.")
@spec_option
@quiet_option
@library_errors
def consolidate(inputs, year, output, previous, feedback_dir, spec_path, quiet):
    """Check every return in the inbox and consolidate the accepted ones into the national summary.

    Nothing is written when no province is accepted or the inbox holds another year's returns (exit 1).

    On a collection folder (one with register.sqlite) the register decides which file counts, reviewed warnings
    and the collection's status go to the overview, and accepted corrections of last year's figures are applied.

    Example: libstats consolidate inbox/ --year 2024 -o tong-hop-2024.xlsx
    """
    from .consolidate import consolidate as run
    from .dataset import write_dataset
    from .feedback import write_feedbacks
    from .ledger import FATES
    from .review import guard_outputs
    from .summary import write_summary

    from .collect import consolidate_collection, is_collection

    data = dataset_path(output)
    guard_outputs(inputs, [output, data, feedback_dir])
    bar = _progress("Đang kiểm tra", quiet)
    if is_collection(inputs):
        con = consolidate_collection(_collection_of(inputs[0], year), _spec(spec_path), previous, progress=bar)
    else:
        con = run(list(inputs), year, previous, _spec(spec_path), progress=bar)
    if not con.ledger:
        raise click.UsageError("không có tệp nào trong hộp thư")
    counts = con.review.counts()
    click.echo(f"Năm {year}: {len(con.ledger)} tệp; " + "; ".join(f"{FATES[k].lower()}: {v}" for k, v in
                                                                     sorted(counts.items())))
    if not con.reporting:
        raise click.ClickException(f"Không có báo cáo nào của năm {year} được chấp nhận, nên không ghi bảng tổng "
                                   "hợp và bộ dữ liệu (các tệp cũ, nếu có, giữ nguyên). Xem lỗi của từng tệp bằng "
                                   f"lệnh: libstats check … --year {year}")
    write_summary(con, output, previous)
    write_dataset(con.tidy, data, con.form.spec)
    if feedback_dir:
        write_feedbacks(con.ledger, feedback_dir)
    click.echo(f"Tỉnh có báo cáo được chấp nhận: {len(con.reporting)}/{len(con.expected)}")
    if con.missing:
        click.echo("Chưa báo cáo hoặc chưa được chấp nhận: " + ", ".join(p.name for p in con.missing))
    click.echo(f"Bảng tổng hợp: {shown(str(output))}")
    click.echo(f"Bộ dữ liệu:    {shown(str(data))}")
    if feedback_dir:
        click.echo(f"Tệp phản hồi:  {shown(str(feedback_dir))}")


@main.command()
@year_option()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the filled sample returns into.")
@click.option("--seed", type=int, default=2024, show_default=True, help="Same seed, same returns.")
@click.option("--flaws", is_flag=True, help="Plant the documented flaws (docs/samples.md) in a few returns.")
@quiet_option
@library_errors
def samples(year, out_dir, seed, flaws, quiet):
    """Filled sample returns for every province of a year, as an officer would fill them.

    Example: libstats samples --year 2024 --out samples/2024 --flaws
    """
    from .samples import write_samples

    paths = write_samples(build_form(year), out_dir, seed, flaws, progress=_progress("Báo cáo mẫu", quiet))
    click.echo(f"Đã tạo {len(paths)} báo cáo mẫu năm {year} trong {out_dir}")


@main.command()
@click.argument("out_dir", required=False, type=click.Path(file_okay=False, path_type=Path),
                default=Path("libstats-demo"))
@click.option("--year", type=click.IntRange(2000, 2100), default=2024, show_default=True, help="Report year.")
@quiet_option
@library_errors
def demo(out_dir, year, quiet):
    """The whole cycle on built-in data: templates, sample returns, checks, feedback, national summary.

    Example: libstats demo libstats-demo
    """
    from .demo import run_demo
    from .ledger import FATES

    res = run_demo(out_dir, year, say=click.echo, progress=lambda label: _progress(label, quiet))
    con = res.consolidation
    click.echo(f"\nKết quả: {len(con.ledger)} tệp — " + "; ".join(f"{FATES[k].lower()}: {v}" for k, v in
                                                                 con.review.counts().items()))
    click.echo(f"Tỉnh được tổng hợp: {len(con.reporting)}/{len(con.expected)}; chưa có: "
               + (", ".join(p.name for p in con.missing) or "không"))
    click.echo(f"Bảng tổng hợp:   {res.summary}")
    click.echo(f"Bộ dữ liệu:      {res.dataset}")
    click.echo(f"Tệp phản hồi:    {res.feedback}")
    click.echo(f"Mẫu biểu:        {res.templates}")
    click.echo(f"Báo cáo mẫu:     {res.inbox}")


@main.command()
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to_list", type=click.Choice(["2025"]), default="2025", show_default=True,
              help="The code list to re-express the dataset on.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The rebased dataset (CSV) to write.")
@library_errors
def rebase(dataset, to_list, output):
    """Re-express a 63-province dataset on the 34-province basis (2025 reform).

    Each new province's figure is the sum of its old provinces' (whole-province mergers); the 2024 district
    level is carried into the commune level, as the spec says; a sum with a missing part stays missing.

    Example: libstats rebase tong-hop-2024_du-lieu.csv --to 2025 -o du-lieu-2024-theo-34-tinh.csv
    """
    from .dataset import load_dataset, write_dataset
    from .review import guard_outputs
    from .rollover import carry_map, rebase_frame
    from .spec import default_spec

    guard_outputs([dataset], [output])
    df = load_dataset(dataset)
    for note in df.attrs["notes"]:
        click.echo(f"Lưu ý: {note}", err=True)
    out = rebase_frame(df, to_list, carry_map(default_spec(), int(to_list)))
    write_dataset(out, output)
    click.echo(f"Đã chuyển {df['province_code'].nunique()} tỉnh sang {out['province_code'].nunique()} tỉnh "
               f"(danh mục {to_list}): {output}")


@main.command()
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The report draft to write (.docx).")
@click.option("--wording", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The report's wording (TOML); default: workbook_templates/bao-cao-quoc-gia.toml.")
@spec_option
@library_errors
def report(dataset, output, wording, spec_path):
    """Draft the national report (Word .docx) from the tidy dataset that consolidate writes.

    Section by section in the outline's order: national figures and tables, the provinces that stand out,
    what the provinces wrote (themes, quoted excerpts with their cells), annexes by province.

    Example: libstats report tong-hop-2024_du-lieu.csv -o bao-cao-2024.docx
    """
    from .report import build_report

    res = build_report(dataset, output, _spec(spec_path), wording)
    click.echo(f"Dự thảo báo cáo năm {res.year} ({res.reported}/{res.expected} tỉnh, thành phố; "
               f"{len(res.excerpts)} đoạn trích): {output}")


collection_dir = click.argument("root", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))


@main.group()
def collect():
    """A collection round: a folder with the inbox, the register and the forms sent out."""


@collect.command("init")
@collection_dir
@year_option()
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day to send (YYYY-MM-DD).")
@quiet_option
@library_errors
def collect_init(root, year, deadline, quiet):
    """Create a collection folder: inbox/, forms/ (one form per province) and the register.

    Example: libstats collect init thu-thap-2024 --year 2024 --deadline 2025-03-15
    """
    from .collect import init_collection

    col = init_collection(root, year, deadline.date(), progress=_progress("Đang tạo mẫu", quiet))
    click.echo(f"Đã tạo đợt thu thập năm {year} (hạn gửi {deadline:%d/%m/%Y}) trong {root}")
    click.echo(f"Mẫu gửi các tỉnh: {col.forms}; hộp thư: {col.inbox}")
    click.echo(f"Tạo đường dẫn gửi báo cáo cho các tỉnh: libstats links {root}")


@collect.command("corrected-previous")
@collection_dir
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Last year's tidy dataset (CSV from consolidate).")
@library_errors
def collect_corrected_previous(root, previous):
    """Last year's dataset with the corrections the Ministry accepted (each row says what it replaced and where
    the correction came from), written to DIR/summary/.

    Example: libstats collect corrected-previous thu-thap-2025 --previous tong-hop-2024_du-lieu.csv
    """
    from .collect import accepted_corrections, corrected_previous, open_collection

    col = open_collection(root)
    out = corrected_previous(col, previous)
    click.echo(f"Đã áp dụng {len(accepted_corrections(col))} đính chính được chấp nhận: {out}")


@main.command()
@collection_dir
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON (for machines).")
@library_errors
def status(root, as_json):
    """The collection's status: expected, received, accepted, approved, missing, late, rates, each province.

    Files dropped into DIR/inbox are checked and recorded first.

    Example: libstats status thu-thap-2024
    """
    import json as json_mod

    from .collect import VN_TZ, collection_status, open_collection

    st = collection_status(open_collection(root))
    if as_json:
        click.echo(json_mod.dumps(st.as_dict(), ensure_ascii=False, indent=1))
        return
    pct = lambda x: f"{x * 100:.1f}".replace(".", ",") + "%"  # noqa: E731
    click.echo(f"Năm {st.year}, hạn gửi {st.deadline:%d/%m/%Y}: phải báo cáo {st.expected}; đã gửi "
               f"{len(st.received)}; được chấp nhận {len(st.accepted)}; đã duyệt {len(st.approved)}; chưa có "
               f"{len(st.missing)}; muộn {len(st.late)}")
    click.echo(f"Tỷ lệ báo cáo {pct(st.reporting_rate)}; tỷ lệ đúng hạn {pct(st.on_time_rate)}")
    for s in st.provinces:
        last = s.last.received.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if s.last else ""
        click.echo(f"{s.province.code}  {s.province.name:<20} {s.label:<24} {s.rounds:>3} lần  {last}")
    for f in st.unidentified:
        click.echo(f"Tệp không nhận dạng được tỉnh: {f.stored}")


@main.command()
@collection_dir
@click.option("--province", "codes", multiple=True, metavar="CODE",
              help="Reissue only this province's link (repeatable; 'ministry' for the Ministry's).")
@library_errors
def links(root, codes):
    """Issue the secret links as CSV (code, name, link path); the links issued before stop working.

    Only the hashes are kept, so keep the CSV: add the server's address before each path.

    Example: libstats links thu-thap-2024 > duong-dan.csv
    """
    import csv

    from .collect import issue_links, open_collection

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["code", "name", "link"])
    writer.writerows(issue_links(open_collection(root), list(codes) or None))


@main.command()
@collection_dir
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--allow-public", is_flag=True, help="Allow an address other than loopback (behind an HTTPS proxy).")
@library_errors
def serve(root, host, port, allow_public):
    """Serve the collection's pages: each province's upload page and the Ministry's page.

    Example: libstats serve thu-thap-2024 --port 8000
    """
    import ipaddress

    import uvicorn

    from .web import create_app

    loopback = host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)
    if not loopback and not allow_public:
        raise click.UsageError(f"không mở máy chủ ở địa chỉ {host} khi chưa có --allow-public "
                               "(hãy đặt sau một reverse proxy có HTTPS; xem hướng dẫn)")
    app = create_app(root)
    click.echo(f"Trang thu thập năm {app.state.collection.year}: http://{host}:{port}/ (Ctrl+C để dừng)")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=allow_public)


def _is_ip(text: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _emit(text: str, output: Path | None, bom: bool = False) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from .atomic import atomic_path
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    click.echo(f"Đã ghi {output}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
