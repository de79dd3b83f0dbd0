"""The report's narrative parts on the 2024 demo: a synthesis in the provinces' own words, each quote once,
difficulties under "khó khăn", every proposal in the register (report annex and summary sheet) with its cell.

The truth about each sentence comes from the generator of the samples (``narrative_sentences`` says which kind
it wrote), not from the classifier under test."""

from __future__ import annotations

import re
from collections import Counter

import docx
import pytest
from python_calamine import CalamineWorkbook

from libstats.consolidation.dataset import load_dataset
from libstats.forms.samples import narrative_sentences
from libstats.model.form import build_form
from libstats.model.provinces import province, provinces_for_year

YEAR = 2024
FORM = build_form(YEAR)
NAMES = sorted({p.name for y in (2024, 2025) for p in provinces_for_year(y)}, key=len, reverse=True)


@pytest.fixture(scope="module")
def demo(demo_2024):
    """The session's 2024 demo (run once for the files that read it) and the report it drafted, with the quotes
    it printed."""
    res, _ = demo_2024
    report = res.drafted
    assert report.path == res.report
    texts = load_dataset(res.dataset, texts=True)
    texts = texts[texts["kind"] == "narrative"]
    truth, generated = {}, {}  # (province, field) -> [(kind, sentence)] as the generator wrote them, accepted
    for r in texts.itertuples():
        if r.province_code not in generated:
            generated[r.province_code] = narrative_sentences(FORM, province(YEAR, r.province_code))
        sentences = generated[r.province_code][r.field_id]
        assert " ".join(t for _, t in sentences) == r.text  # the flaws never touch a text they keep
        truth[(r.province_name, r.field_id)] = sentences
    return res, report, texts, truth


def _body(path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def _kind_of(truth) -> dict[tuple[str, str], str]:
    return {(prov, text): kind for (prov, _), sentences in truth.items() for kind, text in sentences}


def _loose(text: str) -> str:
    """The test's own "same sentence but numbers and province names" (the report's is looser: one word may
    differ, so it counts at least as many)."""
    for name in NAMES:
        text = text.replace(f"thành phố {name}", "").replace(f"tỉnh {name}", "").replace(name, "")
    return re.sub(r"\d[\d.,]*", "#", text)


def test_no_quote_is_printed_twice(demo):
    _, report, _, _ = demo
    body = "\n".join(_body(report.path))
    quotes = [ex.text for ex in report.excerpts]
    assert len(quotes) >= 60
    assert [q for q, n in Counter(quotes).items() if n > 1] == []
    assert [q for q, n in Counter(_loose(q) for q in quotes).items() if n > 1] == []  # nor a variant of one
    for q in quotes:
        assert body.count(f"“{q}”") == 1, q


def test_each_bullet_says_how_many_only_when_not_all_did_and_leaves_the_ministry_a_placeholder(demo):
    res, report, texts, _ = demo
    body = _body(report.path)
    reported = len(res.consolidation.reporting)
    assert not [p for p in body if f"{reported}/{reported} tỉnh" in p]
    assert body.count("[Nhận định của Bộ: …]") == texts["field_id"].nunique()
    assert not [p for p in body if p.startswith("Nội dung được nhiều tỉnh nêu:")]  # the keyword index is gone
    # what every province wrote under a bullet goes without saying: no stock "all reported results" lead
    assert not [p for p in body if "đều nêu kết quả" in p or "đều nêu khó khăn" in p]


def _section(body: list[str], start: str, end: str) -> list[str]:
    """The paragraphs from the one that is (or whose first line is) ``start`` to the next that is ``end``."""
    first = [p.split("\n")[0] for p in body]
    i = first.index(start)
    return body[i:first.index(end, i)]


def _quoted(paragraphs: list[str], report) -> list:
    refs = [int(r) for p in paragraphs for r in re.findall(r"\[(\d+)\]", p)]
    return [report.excerpts[r - 1] for r in refs]


def test_difficulty_quotes_are_difficulty_sentences_and_result_quotes_are_results(demo):
    _, report, _, truth = demo
    body, kind = _body(report.path), _kind_of(truth)
    hard = _section(body, "b) Những khó khăn hạn chế", "III. ĐÁNH GIÁ CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CỦA BỘ VĂN HÓA, "
                    "THỂ THAO VÀ DU LỊCH TRONG LĨNH VỰC THƯ VIỆN TRONG NĂM 2024")
    hard += _section(body, "3.2. Hạn chế", "PHẦN THỨ HAI")
    quoted = _quoted(hard, report)
    assert len(quoted) >= 5
    assert {kind[(ex.province, ex.text)] for ex in quoted} == {"difficulty"}
    results = _quoted(_section(body, "II. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ TRỌNG TÂM", "2.4. Nhận xét, đánh giá"), report)
    assert len(results) >= 30 and {kind[(ex.province, ex.text)] for ex in results} <= {"achievement", "model"}
    asks = _quoted(_section(body, "IV. ĐỀ XUẤT, KIẾN NGHỊ", "[Nhận định của Bộ: …]"), report)
    assert len(asks) >= 10 and {kind[(ex.province, ex.text)] for ex in asks} == {"proposal"}


def test_near_identical_sentences_are_quoted_once_with_the_count_of_provinces_that_wrote_them(demo):
    _, report, _, truth = demo
    body = _body(report.path)
    pooled = set(_section(body, "b) Những khó khăn hạn chế", "3.1. Ưu điểm"))  # gathered from every bullet
    wrote: dict[tuple[str, str], set[str]] = {}
    for (prov, field), sentences in truth.items():
        for _, text in sentences:
            wrote.setdefault((field, _loose(text)), set()).add(prov)
    checked = commons = 0
    for p in body:
        m = (re.search(r"cùng nêu nội dung tương tự \((\d+) tỉnh, thành phố\), tiêu biểu là .+?: “(.+)” \[(\d+)\]\.$",
                       p)
             or re.search(r"^- .+?: “(.+)” \[(\d+)\] \(nội dung tương tự: (\d+) tỉnh, thành phố khác\)$", p))
        if not m or p in pooled:
            continue
        count, quote, ref = ((int(m[1]), m[2], m[3]) if m.re.pattern.startswith("cùng")
                             else (int(m[3]) + 1, m[1], m[2]))
        field = report.excerpts[int(ref) - 1].field_id
        same = len(wrote[(field, _loose(quote))])  # the very sentence but numbers and names: never fewer
        assert same <= count <= len({prov for (prov, f) in truth if f == field}), quote
        checked += count > 1
        commons += m.re.pattern.startswith("cùng")
    assert checked >= 20 and commons >= 10


def _annex_rows(path) -> list[list[str]]:
    for t in docx.Document(str(path)).tables:
        head = [c.text for c in t.rows[0].cells]
        if "Ý kiến của Bộ" in head:
            return [[c.text for c in r.cells] for r in t.rows[1:]]
    raise AssertionError("no proposals annex")


def _proposals(truth, texts) -> set[tuple[str, str, str]]:
    cell = {(r.province_name, r.field_id): r.cell for r in texts.itertuples()}
    return {(prov, text, cell[(prov, field)]) for (prov, field), sentences in truth.items()
            for kind, text in sentences if kind == "proposal"}


def test_every_proposal_of_the_samples_is_in_the_annex_with_its_province_and_cell(demo):
    _, report, texts, truth = demo
    rows = _annex_rows(report.path)
    want = _proposals(truth, texts)
    assert len(want) >= 100 and len({p for p, _, _ in want}) == len(texts["province_name"].unique())
    got = {(r[1], r[2], re.search(r"ô ([A-Z]+\d+)$", r[5])[1]) for r in rows}
    assert got == want and len(rows) == len(want)
    assert {r[6] for r in rows} == {""}  # the Ministry's answer, to be written
    assert {r[3] for r in rows} == {"Bộ VHTTDL", "Chính phủ", "UBND, HĐND tỉnh", "Cơ quan khác"}
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))


def test_the_summary_sheet_kien_nghi_lists_every_proposal(demo):
    res, _, texts, truth = demo
    rows = CalamineWorkbook.from_path(str(res.summary)).get_sheet_by_name("Kiến nghị").to_python()
    head = rows.index(next(r for r in rows if r and r[0] == "STT"))
    body = [r for r in rows[head + 1:] if r and r[0] != ""]
    assert {(r[1], r[2], r[7]) for r in body} == _proposals(truth, texts)
    assert all(r[5].endswith(".xlsx") and r[6] and r[8] == "" for r in body)
