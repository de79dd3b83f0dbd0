"""The command line: a thin layer over the library. The only module that imports click."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from libstats.model import findings as findings_mod
from libstats.forms.dictionary import dictionary_csv, dictionary_markdown
from libstats.model.form import build_form
from libstats.forms.template import select_provinces, write_templates
from libstats.model.spec import load_spec
from libstats.forms.template import DEFAULT_PASSWORD

__all__ = ["main"]

# click's own words (usage, errors, help headings), in Vietnamese like everything else a user reads. click
# looks each one up through gettext in its modules; these modules' lookups are pointed at this table, before
# any option is declared (a path type names itself when it is made). Unknown words stay as click wrote them.
CLICK_VI = {
    "Usage:": "Cách dùng:", "Options": "Tùy chọn", "Commands": "Lệnh",
    "Show this message and exit.": "Hiện trợ giúp này rồi thoát.",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
    "%(prog)s, version %(version)s": "%(prog)s, phiên bản %(version)s",
    "default: {default}": "mặc định: {default}", "required": "bắt buộc",
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Gõ '{command} {option}' để xem trợ giúp.",
    "Missing option": "Thiếu tùy chọn", "Missing argument": "Thiếu đối số", "Missing parameter": "Thiếu tham số",
    "Missing command.": "Thiếu lệnh.", "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ ở {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "{value} is not in the range {range}.": "{value} không nằm trong khoảng {range}.",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải là một số hợp lệ.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Got unexpected extra argument ({args})": "Thừa đối số ({args})",
    "Got unexpected extra arguments ({args})": "Thừa các đối số ({args})",
    "{value!r} is not {choice}.": "{value!r} không phải là {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} không thuộc các giá trị {choices}.",
    "Did you mean {possibility}?": "Có phải ý bạn là {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Có phải ý bạn là một trong: {possibilities}?)",
    "{value!r} does not match the format {format}.": "{value!r} không đúng dạng {format}.",
    "{value!r} does not match the formats {formats}.": "{value!r} không đúng các dạng {formats}.",
    "{name} {filename!r} does not exist.": "Không tìm thấy {filename!r}.",
    "{name} {filename!r} is a directory.": "{filename!r} là thư mục, không phải tệp.",
    "{name} {filename!r} is a file.": "{filename!r} là tệp, không phải thư mục.",
    "{name} {filename!r} is not readable.": "Không đọc được {filename!r}.",
    "{name} {filename!r} is not writable.": "Không ghi được vào {filename!r}.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "Aborted!": "Đã dừng!",
}


def _vi(message: str) -> str:
    return CLICK_VI.get(message, message)


def _vi_n(singular: str, plural: str, n: int) -> str:
    return _vi(singular if n == 1 else plural)


for _module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.termui,
                click.types):
    _module._ = _vi
    if hasattr(_module, "ngettext"):
        _module.ngettext = _vi_n


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
                        help="Năm báo cáo N (báo cáo so sánh năm N với năm N−1).")


def quiet_option(fn):
    return click.option("-q", "--quiet", is_flag=True, help="Không hiện thanh tiến độ.")(fn)


def spec_option(fn):
    return click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="Tệp đặc tả báo cáo (TOML); mặc định: đặc tả kèm theo libstats.")(fn)


def _spec(spec_path: Path | None):
    return load_spec(spec_path) if spec_path else None


def library_errors(fn):
    """Turn the library's input errors (a bad spec, code, dataset or path) into a clean message, exit code 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, OSError) as exc:
            from libstats.collection.collect import WrongCollectionYear

            if isinstance(exc, WrongCollectionYear):
                raise click.UsageError(str(exc)) from exc
            raise click.ClickException(str(exc)) from exc
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="libstats")
def main():
    """libstats: báo cáo tổng kết công tác thư viện hằng năm của các tỉnh, thành phố.

    Tạo mẫu biểu Excel đã khóa, kiểm tra các tệp tỉnh gửi về, tổng hợp thành bảng tổng hợp của Bộ.
    """


@main.command()
@year_option()
@click.option("--province", "codes", multiple=True, metavar="CODE",
              help="Mã tỉnh theo danh mục của năm (ghi nhiều lần được). Không ghi: mẫu chung để trống.")
@click.option("--all-provinces", is_flag=True, help="Mỗi tỉnh, thành phố của năm một tệp mẫu.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("templates"),
              show_default=True, help="Thư mục ghi tệp.")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True,
              help="Mật khẩu khóa trang (chữ không dấu). Chống sửa nhầm, không phải để bảo mật.")
@click.option("--previous", "previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Bộ dữ liệu năm trước (tệp CSV do lệnh consolidate ghi): điền sẵn và khóa cột năm N−1.")
@spec_option
@quiet_option
@library_errors
def template(year, codes, all_provinces, out_dir, password, previous, spec_path, quiet):
    """Tạo mẫu biểu Excel đã khóa của một năm báo cáo.

    Ví dụ: libstats template --year 2024 --all-provinces --out templates/2024
    """
    form = build_form(year, _spec(spec_path))
    provinces = select_provinces(year, codes, all_provinces)
    prefill = None
    if previous:
        from libstats.consolidation.review import guard_outputs
        from libstats.outputs.next_year import template_prefill

        guard_outputs([previous], [out_dir])
        prefill, notes = template_prefill(form, previous)
        _notes(notes)
    paths = write_templates(form, provinces, out_dir, password=password, prefill=prefill,
                               progress=_progress("Đang tạo mẫu", quiet))
    click.echo(f"Đã tạo {len(paths)} tệp mẫu năm {year} trong {out_dir}")
    if len(paths) == 1:
        click.echo(str(paths[0]))


@main.command()
@year_option()
@click.option("--format", "fmt", type=click.Choice(["csv", "markdown"]), default="markdown", show_default=True,
              help="Định dạng: csv hoặc markdown.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp để ghi (mặc định: in ra màn hình).")
@spec_option
@library_errors
def dictionary(year, fmt, output, spec_path):
    """Từ điển dữ liệu: mọi mã ô nhập với trang, ô, tên, đơn vị, kiểu và quy tắc kiểm tra.

    Ví dụ: libstats dictionary --year 2024 --format csv -o dictionary-2024.csv
    """
    form = build_form(year, _spec(spec_path))
    text = dictionary_csv(form) if fmt == "csv" else dictionary_markdown(form)
    _emit(text, output, bom=fmt == "csv")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp để ghi (mặc định: in ra màn hình).")
def codes(output):
    """Danh mục mã kết quả kiểm tra (Markdown).

    Ví dụ: libstats codes -o docs/finding-codes.md
    """
    _emit(findings_mod.catalogue_markdown(), output)


def shown(text: str) -> str:
    """A name or text from a file as it may be printed on a terminal: control characters made visible, and a
    byte of a name that was not UTF-8 (held as a surrogate) shown as that byte."""
    return "".join(c if c.isprintable() else f"\\x{ord(c) - 0xDC00 if 0xDC80 <= ord(c) <= 0xDCFF else ord(c):02x}"
                   for c in text)


def _render_review(rv, verbose: bool) -> None:
    from libstats.consolidation.ledger import FATES

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
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (cho máy đọc).")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Ghi vào thư mục này một tệp phản hồi cho mỗi tệp (bản sao có thêm trang kết quả kiểm tra).")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Bộ dữ liệu năm trước: đối chiếu số liệu năm N−1 của mỗi tỉnh với số đã báo cáo năm đó.")
@click.option("-v", "--verbose", is_flag=True, help="Liệt kê cả các thông tin (không chỉ lỗi và cảnh báo).")
@spec_option
@quiet_option
@library_errors
def check(inputs, year, as_json, feedback_dir, previous, verbose, spec_path, quiet):
    """Kiểm tra các tệp báo cáo gửi về (tệp hoặc thư mục): kết luận và các lỗi, cảnh báo kèm vị trí ô.

    Mã thoát 0 khi không tệp nào có lỗi, 1 khi có tệp có lỗi (hoặc không kiểm tra được tệp nào), 2 khi lệnh
    gõ sai.

    Trên thư mục thu thập (có register.sqlite), sổ đăng ký quyết định: tệp được tính của mỗi tỉnh là tệp đã
    duyệt (nếu không thì tệp mới nhất); cảnh báo Bộ đã xem được liệt kê kèm ghi chú, không tính nữa; không
    ghi --previous thì đối chiếu với bộ dữ liệu năm trước trong DIR/previous/ (nếu có).

    Ví dụ: libstats check inbox/ --year 2024 --feedback feedback/
    """
    import json as json_mod

    from libstats.collection.collect import review_inputs
    from libstats.consolidation.review import guard_outputs
    from libstats.outputs.feedback import write_feedbacks

    guard_outputs([*inputs, *([previous] if previous else [])], [feedback_dir])
    rv = review_inputs(inputs, year, _spec(spec_path), previous, progress=_progress("Đang kiểm tra", quiet or as_json))
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


def _notes(notes) -> None:
    for note in notes:
        click.echo(f"Lưu ý: {note}", err=True)


def _render_reviewed(rv) -> None:
    """The warnings the Ministry reviewed in a collection: listed with their notes, not counted again."""
    listed = [(e, f, note) for e in rv.ledger for f, note in e.reviewed]
    if listed:
        click.echo("\nCảnh báo đã được Bộ xem xét (không tính lại):")
    for e, f, note in listed:
        where = f"{f.sheet}!{f.cell}" if f.cell else f.sheet
        click.echo(f"  {shown(e.result.display)}: [{f.code}] {shown(where)} — ghi chú: {shown(note)}")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@year_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp bảng tổng hợp cần ghi; bộ dữ liệu ghi bên cạnh (…_du-lieu.csv).")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Bộ dữ liệu năm trước: đối chiếu số liệu năm N−1 các tỉnh ghi với bộ dữ liệu này.")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Ghi thêm tệp phản hồi cho mỗi tệp vào thư mục này.")
@spec_option
@quiet_option
@library_errors
def consolidate(inputs, year, output, previous, feedback_dir, spec_path, quiet):
    """Kiểm tra mọi báo cáo trong hộp thư và tổng hợp các báo cáo được chấp nhận thành bảng tổng hợp.

    Không ghi gì khi không tỉnh nào được chấp nhận hoặc hộp thư chứa báo cáo của năm khác (mã thoát 1). Khi
    không ghi được một tệp kết quả (ổ đĩa đầy, thư mục chỉ đọc hoặc không còn), lệnh báo tên tệp, mã thoát 1,
    các tệp kết quả cũ giữ nguyên.

    Trên thư mục thu thập (có register.sqlite), sổ đăng ký quyết định tệp được tính; cảnh báo đã xem và tình
    hình thu thập đưa vào trang Tổng quan; đính chính số năm trước được chấp nhận thì áp dụng; không ghi
    --previous thì đối chiếu với bộ dữ liệu năm trước trong DIR/previous/ (nếu có), như nút "Chạy tổng hợp".

    Ví dụ: libstats consolidate inbox/ --year 2024 -o tong-hop-2024.xlsx
    """
    from libstats.collection.collect import consolidate_inputs
    from libstats.consolidation.dataset import dataset_path
    from libstats.consolidation.ledger import FATES
    from libstats.consolidation.review import guard_outputs
    from libstats.outputs.publish import publish

    data = dataset_path(output)
    guard_outputs([*inputs, *([previous] if previous else [])], [output, data, feedback_dir])
    con, previous = consolidate_inputs(inputs, year, _spec(spec_path), previous, _progress("Đang kiểm tra", quiet))
    if not con.ledger:
        raise click.UsageError("không có tệp nào trong hộp thư")
    counts = con.review.counts()
    click.echo(f"Năm {year}: {len(con.ledger)} tệp; " + "; ".join(f"{FATES[k].lower()}: {v}" for k, v in
                                                                     sorted(counts.items())))
    publish(con, output, previous, feedback_dir)
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
              help="Thư mục ghi các báo cáo mẫu đã điền.")
@click.option("--seed", type=int, default=2024, show_default=True, help="Cùng hạt giống thì cùng báo cáo mẫu.")
@click.option("--flaws", is_flag=True, help="Cài các lỗi mẫu đã mô tả (docs/samples.md) vào một số báo cáo.")
@quiet_option
@library_errors
def samples(year, out_dir, seed, flaws, quiet):
    """Báo cáo mẫu đã điền cho mọi tỉnh, thành phố của một năm, như cán bộ tỉnh điền.

    Ví dụ: libstats samples --year 2024 --out samples/2024 --flaws
    """
    from libstats.forms.samples import write_samples

    paths = write_samples(build_form(year), out_dir, seed, flaws, progress=_progress("Báo cáo mẫu", quiet))
    click.echo(f"Đã tạo {len(paths)} báo cáo mẫu năm {year} trong {out_dir}")


@main.command()
@click.argument("out_dir", required=False, type=click.Path(file_okay=False, path_type=Path),
                default=Path("libstats-demo"))
@click.option("--year", type=click.IntRange(2000, 2100), default=2024, show_default=True, help="Năm báo cáo.")
@quiet_option
@library_errors
def demo(out_dir, year, quiet):
    """Chạy thử cả quy trình trên dữ liệu có sẵn: mẫu biểu, báo cáo mẫu, kiểm tra, phản hồi, tổng hợp.

    Ví dụ: libstats demo libstats-demo
    """
    from libstats.demo import run_demo
    from libstats.consolidation.ledger import FATES

    res = run_demo(out_dir, year, say=click.echo, progress=lambda label: _progress(label, quiet))
    con = res.consolidation
    click.echo(f"\nKết quả: {len(con.ledger)} tệp — " + "; ".join(f"{FATES[k].lower()}: {v}" for k, v in
                                                                 con.review.counts().items()))
    click.echo(f"Tỉnh được tổng hợp: {len(con.reporting)}/{len(con.expected)}; chưa có: "
               + (", ".join(p.name for p in con.missing) or "không"))
    click.echo(f"Bảng tổng hợp:   {res.summary}")
    click.echo(f"Bộ dữ liệu:      {res.dataset}")
    click.echo(f"Dự thảo báo cáo: {res.report}")
    click.echo(f"Tệp phản hồi:    {res.feedback}")
    click.echo(f"Mẫu biểu:        {res.templates}")
    click.echo(f"Báo cáo mẫu:     {res.inbox}")


@main.command()
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to_list", type=click.Choice(["2025"]), default="2025", show_default=True,
              help="Danh mục tỉnh để chuyển bộ dữ liệu sang.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp CSV bộ dữ liệu đã chuyển cần ghi.")
@spec_option
@library_errors
def rebase(dataset, to_list, output, spec_path):
    """Chuyển bộ dữ liệu 63 tỉnh sang cơ sở 34 tỉnh, thành phố (sắp xếp năm 2025).

    Số liệu mỗi tỉnh mới là tổng số liệu các tỉnh cũ hợp thành; cấp huyện năm 2024 được cộng vào cấp xã
    theo đặc tả; tổng thiếu một phần thì để trống, không cộng dở.

    Ví dụ: libstats rebase tong-hop-2024_du-lieu.csv --to 2025 -o du-lieu-2024-theo-34-tinh.csv
    """
    from libstats.consolidation.review import guard_outputs
    from libstats.outputs.next_year import rebase_dataset

    guard_outputs([dataset], [output])
    df, out, notes = rebase_dataset(dataset, to_list, output, _spec(spec_path))
    _notes(notes)
    click.echo(f"Đã chuyển {df['province_code'].nunique()} tỉnh sang {out['province_code'].nunique()} tỉnh "
               f"(danh mục {to_list}): {output}")


@main.command()
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp dự thảo báo cáo cần ghi (.docx).")
@click.option("--wording", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tệp lời văn của báo cáo (TOML); mặc định: workbook_templates/bao-cao-quoc-gia.toml.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Bộ dữ liệu năm trước: đối chiếu với tổng đã công bố năm trước; năm 2025: tách phần thư viện "
                   "cấp huyện cũ.")
@spec_option
@library_errors
def report(dataset, output, wording, previous, spec_path):
    """Soạn dự thảo báo cáo toàn quốc (Word .docx) từ bộ dữ liệu do lệnh consolidate ghi.

    Từng mục theo đề cương: số liệu và bảng toàn quốc, các tỉnh nổi bật, nội dung các tỉnh viết (chủ đề,
    đoạn trích kèm ô nguồn), phụ lục theo tỉnh.

    Ví dụ: libstats report tong-hop-2024_du-lieu.csv -o bao-cao-2024.docx
    """
    from libstats.outputs.report import build_report

    res = build_report(dataset, output, _spec(spec_path), wording, previous)
    click.echo(f"Dự thảo báo cáo năm {res.year} ({res.reported}/{res.expected} tỉnh, thành phố; "
               f"{len(res.excerpts)} đoạn trích): {output}")


collection_dir = click.argument("root", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))


@main.group()
def collect():
    """Một đợt thu thập: thư mục gồm hộp thư, sổ đăng ký và các mẫu đã gửi."""


@collect.command("init")
@collection_dir
@year_option()
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Hạn gửi báo cáo (năm-tháng-ngày, ví dụ 2025-03-15).")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Bộ dữ liệu năm trước (tệp CSV do lệnh consolidate ghi): chép vào DIR/previous/; kiểm tra, tổng "
                   "hợp (cả trên trang của Bộ) đều đối chiếu với nó.")
@quiet_option
@library_errors
def collect_init(root, year, deadline, previous, quiet):
    """Tạo thư mục thu thập: inbox/ (hộp thư), forms/ (mỗi tỉnh một mẫu) và sổ đăng ký.

    Bộ dữ liệu năm trước đặt trong DIR/previous/ (bằng --previous, hoặc chép vào sau) được dùng như --previous
    của các lệnh check và consolidate trên thư mục này, và của nút "Chạy tổng hợp" trên trang của Bộ.

    Ví dụ: libstats collect init thu-thap-2025 --year 2025 --deadline 2026-03-15 --previous tong-hop-2024_du-lieu.csv
    """
    from libstats.collection.collect import init_collection

    col = init_collection(root, year, deadline.date(), progress=_progress("Đang tạo mẫu", quiet), previous=previous)
    click.echo(f"Đã tạo đợt thu thập năm {year} (hạn gửi {deadline:%d/%m/%Y}) trong {root}")
    click.echo(f"Mẫu gửi các tỉnh: {col.forms}; hộp thư: {col.inbox}")
    click.echo(f"Tạo đường dẫn gửi báo cáo cho các tỉnh: libstats links {root}")


@collect.command("corrected-previous")
@collection_dir
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Bộ dữ liệu năm trước (tệp CSV do lệnh consolidate ghi).")
@library_errors
def collect_corrected_previous(root, previous):
    """Bộ dữ liệu năm trước với các đính chính Bộ đã chấp nhận (mỗi dòng ghi số đã thay và nguồn đính chính),
    ghi vào DIR/summary/.

    Ví dụ: libstats collect corrected-previous thu-thap-2025 --previous tong-hop-2024_du-lieu.csv
    """
    from libstats.collection.collect import accepted_corrections, corrected_previous, open_collection

    col = open_collection(root)
    out = corrected_previous(col, previous)
    click.echo(f"Đã áp dụng {len(accepted_corrections(col))} đính chính được chấp nhận: {out}")


@main.command()
@collection_dir
@click.option("--json", "as_json", is_flag=True, help="In tình hình dạng JSON (cho máy đọc).")
@library_errors
def status(root, as_json):
    """Tình hình thu thập: số phải báo cáo, đã gửi, được chấp nhận, đã duyệt, chưa có, muộn, tỷ lệ, từng tỉnh.

    Các tệp đặt vào DIR/inbox được kiểm tra và ghi sổ trước.

    Ví dụ: libstats status thu-thap-2024
    """
    import json as json_mod

    from libstats.collection.collect import VN_TZ, collection_status, open_collection

    st = collection_status(open_collection(root))
    if as_json:
        click.echo(json_mod.dumps(st.as_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(f"Năm {st.year}, hạn gửi {st.deadline:%d/%m/%Y}: phải báo cáo {st.expected}; đã gửi "
               f"{len(st.received)}; được chấp nhận {len(st.accepted)}; đã duyệt {len(st.approved)}; chưa có "
               f"{len(st.missing)}; muộn {len(st.late)}")
    rate = findings_mod.fmt_rate
    click.echo(f"Tỷ lệ báo cáo {rate(st.reporting_rate)}; tỷ lệ đúng hạn {rate(st.on_time_rate)}")
    for s in st.provinces:
        last = s.last.received.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if s.last else ""
        click.echo(f"{s.province.code}  {s.province.name:<20} {s.label:<24} {s.rounds:>3} lần  {last}")
    for f in st.unidentified:
        click.echo(f"Tệp không nhận dạng được tỉnh: {f.stored}")


@main.command()
@collection_dir
@click.option("--province", "codes", multiple=True, metavar="CODE",
              help="Chỉ cấp lại đường dẫn của tỉnh này (ghi nhiều lần được; 'ministry' cho đường dẫn của Bộ).")
@library_errors
def links(root, codes):
    """Cấp các đường dẫn bí mật dạng CSV (mã, tên, đường dẫn); các đường dẫn cấp trước hết hiệu lực.

    Chỉ lưu mã băm, nên hãy giữ tệp CSV: thêm địa chỉ máy chủ trước mỗi đường dẫn.

    Ví dụ: libstats links thu-thap-2024 > duong-dan.csv
    """
    import csv

    from libstats.collection.collect import issue_links, open_collection

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["code", "name", "link"])
    writer.writerows(issue_links(open_collection(root), list(codes) or None))


@main.command()
@collection_dir
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ máy chủ lắng nghe.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Cổng máy chủ.")
@click.option("--allow-public", is_flag=True,
              help="Cho phép địa chỉ khác máy này (đặt sau một reverse proxy có HTTPS).")
@library_errors
def serve(root, host, port, allow_public):
    """Mở các trang thu thập: trang gửi báo cáo của từng tỉnh và trang của Bộ.

    Ví dụ: libstats serve thu-thap-2024 --port 8000
    """
    import ipaddress

    import uvicorn

    from libstats.collection.web import create_app

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
    from libstats.atomic import atomic_path
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    click.echo(f"Đã ghi {output}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
