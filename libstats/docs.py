"""The generated pages of docs/: CLI reference, finding codes, data dictionaries, sample flaws.

Regenerate with ``python -m libstats.docs``; tests/test_docs.py fails when a page and the code disagree.
"""

from __future__ import annotations

from pathlib import Path

import click

from .dictionary import dictionary_markdown
from .findings import catalogue_markdown
from .form import build_form
from .samples import FLAWS

__all__ = ["generated_docs", "write_docs"]


def cli_reference() -> str:
    from .cli import main

    lines = ["# CLI reference", "", "Generated from the commands' `--help` by `python -m libstats.docs`; a test keeps "
             "it current.", ""]
    settings = {**main.context_settings, "terminal_width": 100, "max_content_width": 100}
    ctx = click.Context(main, info_name="libstats", **settings)
    lines += ["```", main.get_help(ctx), "```", ""]
    for name in sorted(main.commands):
        cmd = main.commands[name]
        sub = click.Context(cmd, info_name=f"libstats {name}", parent=ctx, **settings)
        lines += [f"## libstats {name}", "", "```", cmd.get_help(sub), "```", ""]
    return "\n".join(lines)


def samples_page() -> str:
    lines = ["# Sample returns and their flaws", "",
             "`libstats samples --year N --out DIR --flaws` (and `libstats demo`) plant these problems, each in the "
             "return of the province at the given position of the year's list (0 = the first). "
             "`tests/test_samples_demo.py` checks that each gives exactly these finding codes and that every "
             "other return gives none. Generated from `libstats/samples.py`.", "",
             "| flaw | position | what (Vietnamese, as in the feedback) | finding codes |", "|---|---|---|---|"]
    for f in FLAWS:
        lines.append(f"| {f.id} | {f.position} | {f.description} | {', '.join(sorted(f.codes))} |")
    return "\n".join(lines) + "\n"


def generated_docs() -> dict[str, str]:
    return {
        "docs/cli-reference.md": cli_reference(),
        "docs/finding-codes.md": catalogue_markdown(),
        "docs/data-dictionary-2024.md": dictionary_markdown(build_form(2024)),
        "docs/data-dictionary-2025.md": dictionary_markdown(build_form(2025)),
        "docs/samples.md": samples_page(),
    }


def write_docs(root: Path) -> list[Path]:
    paths = []
    for rel, text in generated_docs().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_docs(Path.cwd()):
        print(f"wrote {p}")
