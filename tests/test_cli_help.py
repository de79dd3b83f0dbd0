"""The command line speaks Vietnamese: every help text we write, and click's own words around them."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from libstats.cli import main

VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.I)


def _commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_and_option_help_is_vietnamese():
    seen = 0
    for path, cmd in [((), main), *_commands(main)]:
        assert cmd.help and VIETNAMESE.search(cmd.help), path
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert param.help and VIETNAMESE.search(param.help), (path, param.name)
                seen += 1
        out = CliRunner().invoke(main, [*path, "--help"])
        assert out.exit_code == 0 and out.output.startswith("Cách dùng:"), path
        assert "Tùy chọn:" in out.output and "Show this message" not in out.output and "Usage" not in out.output
    assert seen > 30


def test_usage_errors_are_vietnamese(tmp_path):
    missing = CliRunner().invoke(main, ["consolidate", str(tmp_path), "--year", "2024"])
    assert missing.exit_code == 2
    assert "Lỗi: Thiếu tùy chọn '-o' / '--output'." in missing.output and "Error" not in missing.output
    assert "consolidate --help' để xem trợ giúp." in missing.output
    out_of_range = CliRunner().invoke(main, ["template", "--year", "1990"])
    assert out_of_range.exit_code == 2 and "1990 không nằm trong khoảng" in out_of_range.output
    nowhere = CliRunner().invoke(main, ["check", str(tmp_path / "khong-co.xlsx")])
    assert nowhere.exit_code == 2 and "Không tìm thấy" in nowhere.output
    unknown = CliRunner().invoke(main, ["chek"])
    assert unknown.exit_code == 2 and "Không có lệnh 'chek'." in unknown.output
    assert "Có phải ý bạn là 'check'?" in unknown.output
    empty = CliRunner().invoke(main, ["check", str(tmp_path)])  # a usage error libstats raises itself
    assert empty.exit_code == 2 and "Lỗi: không có tệp nào để kiểm tra" in empty.output


def test_a_text_output_is_never_written_under_a_workbooks_name(tmp_path):
    book = tmp_path / "bao-cao-thu-vien-2025_01_ha-noi.xlsx"
    book.write_bytes(b"a filled return")
    for args, says in ((["dictionary", "--year", "2025", "--format", "csv", "-o", str(book)], "từ điển dữ liệu là "
                        "tệp .csv, tên tệp phải có đuôi .csv"),
                       (["codes", "-o", str(book)], "danh mục mã kết quả kiểm tra là tệp .md")):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1 and says in res.output, res.output
    assert book.read_bytes() == b"a filled return"
    res = CliRunner().invoke(main, ["dictionary", "--year", "2025", "--format", "csv", "-o", str(tmp_path / "d.csv")])
    assert res.exit_code == 0 and (tmp_path / "d.csv").read_text(encoding="utf-8-sig").startswith("field_id")


def test_click_speaks_through_the_shipped_gettext_catalogue():
    import gettext

    from libstats.cli import CATALOGUE, CLICK_PLURALS, CLICK_VI, DOMAIN, catalogue

    assert CATALOGUE.read_bytes() == catalogue(), "regenerate with `python -m libstats.docs`"
    with CATALOGUE.open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    assert all(shipped.gettext(en) == vi for en, vi in CLICK_VI.items())
    assert all(shipped.ngettext(one, more, n) == CLICK_VI[one if n == 1 else more]
               for one, more in CLICK_PLURALS for n in (1, 2))
    assert gettext.textdomain() == DOMAIN and gettext.gettext("Usage:") == "Cách dùng:"  # what click's _() calls
