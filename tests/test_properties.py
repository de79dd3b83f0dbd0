"""Property-based tests: number coercion, and the reader on randomly filled workbooks."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libstats.checks.check import check_file
from libstats.model.coerce import clean_text, coerce_count, coerce_decimal, is_not_counted
from libstats.forms.template import TemplateOptions, write_template

from . import corpus as c

counts = st.integers(min_value=0, max_value=10**9)


def vn(n: int, sep: str = ".") -> str:
    return f"{n:,}".replace(",", sep)


@given(counts)
def test_numbers_and_plain_digits_read_exactly(n):
    assert coerce_count(float(n)).value == n and coerce_count(float(n)).code is None
    assert coerce_count(str(n)).value == n
    assert coerce_count(f"  {n}\u00a0").value == n


@given(st.integers(min_value=1_000_000, max_value=10**9), st.sampled_from([".", ",", " ", "\u00a0"]))
def test_grouped_thousands_with_two_or_more_marks_read_exactly(n, sep):
    got = coerce_count(vn(n, sep))
    assert (got.value, got.code) == (n, "V01")


@given(st.integers(min_value=1000, max_value=999_999), st.sampled_from([".", ","]))
def test_a_single_mark_before_three_digits_groups_thousands_in_a_count(n, sep):
    got = coerce_count(vn(n, sep))  # "5.731" cards can only be 5731 cards
    assert (got.value, got.code) == (n, "V01") and got.shown == vn(n, ".")


@given(st.integers(min_value=1000, max_value=999_999), st.sampled_from([".", ","]))
def test_a_single_mark_before_three_digits_is_never_guessed_in_a_decimal(n, sep):
    got = coerce_decimal(vn(n, sep))  # 1.234 million đồng or 1,234 million đồng
    assert got.value is None and got.code == "V02" and vn(n, ".") in got.shown and " hay " in got.shown


@given(st.integers(min_value=0, max_value=999_999), st.integers(min_value=1, max_value=99).filter(lambda f: f % 10),
       st.sampled_from([".", ","]))
def test_a_mark_before_one_or_two_digits_is_a_fraction(whole, frac, sep):
    text = f"{whole}{sep}{frac}"
    assert coerce_count(text).code == "V04" and coerce_count(text).value is None  # never rounded
    assert coerce_decimal(text).value == pytest.approx(float(f"{whole}.{frac}"))


@given(counts, st.sampled_from(["thẻ", "lượt", "bản", "xe"]))
def test_a_unit_after_the_number_is_accepted(n, unit):
    assert coerce_count(f"{n} {unit}", {"thẻ", "lượt", "bản", "xe"}).value == n


@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.booleans(), st.none()))
def test_coercion_never_raises_and_never_returns_an_impossible_count(raw):
    for got in (coerce_count(raw), coerce_decimal(raw)):
        if is_not_counted(got.value):
            assert got.code == "V08" and clean_text(str(raw)).casefold() == "x"
        elif got.value is not None:
            assert isinstance(got.value, (int, float)) and got.value >= 0
            assert not got.refused
        if got.refused:
            assert got.value is None
    if isinstance(coerce_count(raw).value, (int, float)):
        assert isinstance(coerce_count(raw).value, int)


number_fields = [f.id for f in c.FORM.fields_of("number")]
text_fields = [f.id for f in c.FORM.fields_of("narrative")] + [f.id for f in c.FORM.fields_of("explanation")]
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200).map(
    lambda s: unicodedata.normalize("NFD", s) if len(s) % 2 else s)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(number_fields), st.one_of(counts, st.none()), max_size=60),
       st.dictionaries(st.sampled_from(text_fields), st.one_of(texts, st.just("=SUM(A1:A2)")), max_size=20))
def test_values_read_are_the_values_written(numbers, texts_written):
    values = {**numbers, **texts_written}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_template(c.FORM, Path(tmp) / "r.xlsx", TemplateOptions(province=c.HANOI, values=values))
        res = check_file(path, year=2024)
    for fid, v in numbers.items():
        assert res.values[fid] == v, fid
    for fid, v in texts_written.items():
        assert res.values[fid] == (clean_text(v) or None), fid
        if res.values[fid]:
            assert unicodedata.is_normalized("NFC", res.values[fid])
