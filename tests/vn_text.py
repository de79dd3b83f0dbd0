"""Counts typed as Vietnamese text, in every shape officers use, for LibreOffice-filled rounds (issue 9).

An officer who formats number cells as text types "5.731", "20.060", "1,234", "32.713 thẻ" or "1.234.567";
each is a whole count with one sensible reading, and libstats must consolidate exactly the count meant.
"""

from __future__ import annotations

from libstats.model.form import Form

SHAPES = ("dot", "comma", "unit", "plain", "number")


def typed(n: int, shape: str, unit: str) -> str | int:
    """How an officer types the count ``n`` in ``shape``: 5731 → "5.731", "5,731", "5.731 thẻ", "5731", 5731."""
    dots = f"{n:,}".replace(",", ".")
    return {"dot": dots, "comma": f"{n:,}", "unit": f"{dots} {unit}", "plain": str(n), "number": n}[shape]


def as_vietnamese_text(form: Form, values: dict, offset: int = 0) -> dict:
    """``values`` with every count typed as text, the shapes taken in turn (numbers over 999 get a group)."""
    out, i = dict(values), offset
    for f in form.fields_of("number"):
        if isinstance(values.get(f.id), int):
            out[f.id] = typed(values[f.id], SHAPES[i % len(SHAPES)], f.unit)
            i += 1
    return out


def one_group_shapes(typed_values: dict) -> set[str]:
    """Which of the single-group shapes ("5.731", "1,234", "32.713 thẻ") a filled return holds."""
    found = set()
    for v in typed_values.values():
        if isinstance(v, str):
            head = v.split(" ")[0]
            for mark, shape in ((".", "dot"), (",", "comma")):
                parts = head.split(mark)
                if len(parts) == 2 and len(parts[1]) == 3 and parts[0].isdigit() and parts[1].isdigit():
                    found.add("unit" if " " in v else shape)
    return found
