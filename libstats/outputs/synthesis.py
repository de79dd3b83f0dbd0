"""What the provinces wrote, synthesised: sentences, their kind, near-duplicates, the proposals register.

Pure functions over the dataset's narrative rows (``kind == "narrative"``: province, field, text, file, sheet,
cell). A text is split into sentences the Vietnamese way (``1.234``, ``7,1%``, ``TP. Hồ Chí Minh`` and
``Nghị định số 93/2020/NĐ-CP`` do not end one); each sentence is classified by what it says: a proposal
("kiến nghị", "đề nghị", "đề xuất" addressed to someone), a task of next year, a difficulty, a named model, an
achievement with figures, or a general statement. Sentences that differ only in their numbers and province
names are one ``Group`` (quoted once, with the count of provinces that wrote it). The standard library is
enough here (``re``, ``difflib``, ``unicodedata``): the sentences are short, the groups are found first by an
exact normalised key and only the distinct keys are compared.

The report (``outputs.report``) renders the headings' synthesis and the proposals; the summary workbook gets
the register as its sheet "Kiến nghị" (``write_proposals_sheet``).
"""

from __future__ import annotations

import difflib
import re
import threading
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import pandas as pd

from libstats.model.layout import wrapped_lines
from libstats.model.provinces import provinces_for_year

__all__ = ["Sentence", "Group", "Proposal", "HeadingSynthesis", "split_sentences", "classify", "figures_in",
           "near_key", "quoted", "group_similar", "sentences_of", "synthesize", "addressee", "theme_of", "proposals_of",
           "proposals_register",
           "write_proposals_sheet", "ADDRESSEES", "PROPOSAL_HEADERS", "ACHIEVEMENT", "MODEL", "DIFFICULTY",
           "PROPOSAL", "PLAN", "GENERAL"]

ACHIEVEMENT, MODEL, DIFFICULTY, PROPOSAL, PLAN, GENERAL = ("achievement", "model", "difficulty", "proposal",
                                                          "plan", "general")
ADDRESSEES = ("Bộ", "Chính phủ", "Tỉnh", "Khác")  # the Ministry, the Government, the province itself, others


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


# --- sentences --------------------------------------------------------------------------------------------
# Words written with a full stop that do not end a sentence: they stand before a name ("TP. Hồ Chí Minh").
_ABBREV = {"tp", "tx", "tt", "q", "p", "ts", "ths", "pgs", "gs", "bs", "ks", "nxb", "đ/c", "st", "ông", "bà"}
_END = re.compile(r"[.!?…]+")
_BULLET = re.compile(r"^\s*(?:[-+•*–]|\d+[.)]|[a-zđ]\))\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, verbatim (stripped), in order. A line break ends a sentence; a bullet mark
    ("- ", "+ ", "1. ", "a) ") at a line's start is not part of it; a full stop ends one only before a space
    and a capital, a digit or an opening quote, and not after an abbreviation or a single capital (an
    initial)."""
    out = []
    for line in unicodedata.normalize("NFC", text).splitlines():
        line = _BULLET.sub("", line).strip()
        start, depth = 0, 0
        for m in _END.finditer(line):
            depth = line.count("“", 0, m.start()) - line.count("”", 0, m.start())
            rest = line[m.end():]
            if depth > 0 or not rest[:1].isspace():
                continue
            nxt = rest.lstrip()[:1]
            if not (nxt.isupper() or nxt.isdigit() or nxt in "“\"('"):
                continue
            word = re.search(r"(\S+)$", line[start:m.start()])
            token = word.group(1).casefold().lstrip("(“\"") if word else ""
            if m.group(0) == "." and (token in _ABBREV or (len(token) == 1 and token.isalpha())):
                continue
            out.append(line[start:m.end()].strip())
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return [s for s in out if re.search(r"\w", s)]


_PROPOSAL = re.compile(r"(?<!đã )(?<!theo )(?<!được )\b(?:kiến nghị|đề nghị|đề xuất|kính mong|rất mong|mong muốn)\b")
_PLAN = re.compile(r"^(?:tiếp tục|phấn đấu|đẩy mạnh|tập trung|tăng cường|nâng cao|đa dạng hóa|huy động(?! được)|"
                   r"nâng cấp|tham mưu|hoàn thành|nghiên cứu|chủ động)\b")
_STRONG = re.compile(r"\b(?:khó khăn|hạn chế|chưa|thiếu(?! nhi| niên)|xuống cấp|kiêm nhiệm|bất cập|vướng mắc|không đủ|"
                     r"không đáp ứng|quá tải|lúng túng|chật hẹp|cách trở|đơn điệu|tự phát|ít được)\b")
_WEAK = re.compile(r"\b(?:giảm|chậm|lạc hậu|phụ thuộc|thu hẹp|hư hỏng|còn thấp|còn ít)\b")
_MODEL = re.compile(r"mô hình|cách làm|câu lạc bộ|"
                    r"(?:dịch vụ|không gian đọc|chuyên mục|tủ sách|thư viện(?: \w+){0,2}) “")  # a name in quotes
_HONOUR = re.compile(r"bằng khen|cờ thi đua|được (?:\w+ )?tặng|đạt giải|giải (?:nhất|nhì|ba|a|b)\b")
_YEARS_AND_NUMBERS = re.compile(r"\b(?:19|20)\d\d\b|\b\d+/\d{4}/[\wĐđ-]+|\b\d+/(?:KH|QĐ|CT|NQ|TB|BC)-[\wĐđ-]+")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def figures_in(sentence: str) -> list[str]:
    """The figures a sentence states (years and document numbers such as 93/2020/NĐ-CP are not figures)."""
    return _FIGURE.findall(_YEARS_AND_NUMBERS.sub(" ", sentence))


def classify(sentence: str, year: int | None = None) -> str:
    """What a sentence says: ``proposal``, ``plan`` (a task of next year), ``difficulty``, ``model`` (a named
    model or way of working), ``achievement`` (a result with figures) or ``general``; the first that fits."""
    s = _fold(sentence)
    if _PROPOSAL.search(s):
        return PROPOSAL
    if _PLAN.match(s) or (year is not None and re.search(rf"(?<!đến )năm {year + 1}\b", s)):
        return PLAN
    figures = figures_in(s)
    if _STRONG.search(s) or (_WEAK.search(s) and not figures):
        return DIFFICULTY
    if _MODEL.search(s):
        return MODEL
    return ACHIEVEMENT if figures or _HONOUR.search(s) else GENERAL


@dataclass(frozen=True)
class Sentence:
    province: str
    province_code: str
    field_id: str
    text: str
    kind: str
    source_file: str
    sheet: str
    cell: str


def sentences_of(rows: pd.DataFrame, year: int | None = None) -> list[Sentence]:
    """Every sentence of the narrative rows, with its province, bullet, kind and source cell, in the rows'
    order."""
    out = []
    for r in rows.itertuples():
        for s in split_sentences(str(r.text)):
            out.append(Sentence(str(r.province_name), str(r.province_code), str(r.field_id), s, classify(s, year),
                                str(r.source_file), str(r.sheet), str(r.cell)))
    return out


# --- near-duplicates --------------------------------------------------------------------------------------
@cache
def _names() -> re.Pattern:
    names = {_fold(p.name) for y in (2024, 2025) for p in provinces_for_year(y)}
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?:tỉnh |thành phố |tp\. ?)?(?:{alternatives})")


@lru_cache(maxsize=16384)  # a report asks for about 3,000 sentences' keys, each about twice
def near_key(sentence: str) -> str:
    """The sentence without its numbers and province names, folded: equal keys say the same thing."""
    s = _names().sub("", _fold(sentence))
    s = re.sub(r"\d+(?:[.,]\d+)*%?", "#", s)
    return " ".join(re.findall(r"[\w#“”]+", s))  # the quote marks kept: a quoted name is what a sentence says


@dataclass(frozen=True)
class Group:
    """Near-identical sentences (one per province at most, the first it wrote), the one to quote first."""

    sentences: tuple[Sentence, ...]

    @property
    def quote(self) -> Sentence:
        return self.sentences[0]

    @property
    def count(self) -> int:
        return len(self.sentences)

    @property
    def key(self) -> str:
        return near_key(self.quote.text)


def _largest_figure(s: Sentence) -> float:
    values = [float(f.replace(".", "").replace(",", ".")) for f in figures_in(s.text)]
    return max(values, default=0.0)


def group_similar(sentences: list[Sentence], threshold: float = 0.9) -> list[Group]:
    """Sentences grouped when their ``near_key``s are equal or at least ``threshold`` alike (difflib); each
    group keeps one sentence per province, the one with the largest figure quoted first (the best example);
    groups in order of their first sentence."""
    by_key: dict[str, list[Sentence]] = {}
    for s in sentences:
        by_key.setdefault(near_key(s.text), []).append(s)
    reps: list[tuple[str, list[Sentence]]] = []
    for key, members in by_key.items():
        for rep, bucket in reps:
            if _alike(rep, key, threshold):
                bucket.extend(members)
                break
        else:
            reps.append((key, list(members)))
    groups = []
    for _, members in reps:
        one = list({s.province_code: s for s in reversed(members)}.values())[::-1]  # first per province
        one.sort(key=lambda s: (-_largest_figure(s), s.province_code))
        groups.append(Group(tuple(one)))
    return groups


# --- one heading --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeadingSynthesis:
    provinces: int  # provinces that wrote something under the heading
    kinds: dict[str, int]  # kind -> provinces that wrote at least one sentence of it
    common: list[Group]  # what many provinces wrote alike
    examples: list[Group]  # the best examples, one per province


def _score(g: Group, wanted: tuple[str, ...]) -> tuple:
    s = g.quote
    rank = len(wanted) - wanted.index(s.kind)
    fit = 40 <= len(s.text) <= 280
    return (-rank, -min(len(figures_in(s.text)), 3), -fit, g.count, s.province_code, s.text)


_NAMED = re.compile(r"“[^”]*”")
_POLARITY = re.compile(r"\b(?:tăng|giảm|chưa|không|đã|còn|hơn|kém)\b")


@lru_cache(maxsize=8192)
def _signature(key: str) -> tuple:
    return tuple(_POLARITY.findall(key)), tuple(_NAMED.findall(key))


def _alike(a: str, b: str, threshold: float) -> bool:
    """Two keys alike at ``threshold`` (difflib's ratio), with the same words of direction ("tăng 7,1%" and
    "giảm 2,0%" differ by one word but say opposite things) and the same names in quotes (two models)."""
    if 2 * min(len(a), len(b)) < threshold * (len(a) + len(b)) or _signature(a) != _signature(b):
        return False  # the cheap tests first: lengths too far apart for the ratio, or another direction
    if 2.0 * _common_chars(a, b) / (len(a) + len(b)) < threshold:
        return False  # difflib's quick_ratio (the same number), from each key's characters counted once
    return _ratio_at_least(a, b, threshold)


@lru_cache(maxsize=1024)
def _chars(key: str) -> Counter:
    return Counter(key)


def _common_chars(a: str, b: str) -> int:
    """How many characters two keys have in common, as multisets (what difflib's quick_ratio counts)."""
    return sum((_chars(a) & _chars(b)).values())


@lru_cache(maxsize=1024)  # a report compares about 400 distinct keys
def _matcher(b: str) -> difflib.SequenceMatcher:
    """A matcher of anything against ``b``: difflib indexes its second sequence once and keeps the index while
    the first changes (``set_seq1``); a key is compared with many (each quoted key with every later group)."""
    return difflib.SequenceMatcher(None, "", b, autojunk=False)


_MATCHING = threading.Lock()  # the cached matchers are shared: one comparison at a time


def _ratio_at_least(a: str, b: str, threshold: float, bounds: bool = False) -> bool:
    """difflib's ratio of ``a`` against ``b`` at least ``threshold`` (with ``bounds``, its two quick upper bounds
    tested first), through ``b``'s cached matcher."""
    with _MATCHING:
        m = _matcher(b)
        m.set_seq1(a)
        if bounds and (m.real_quick_ratio() < threshold or m.quick_ratio() < threshold):
            return False
        return m.ratio() >= threshold


def quoted(key: str, used: set[str], threshold: float = 0.8) -> bool:
    """Whether a sentence of this ``near_key`` was quoted already: the same key, or one ``threshold`` alike."""
    return key in used or any(_alike(key, u, threshold) for u in used)


def _resembles(a: str, b: str, threshold: float) -> bool:
    """Two keys of one sentence pattern, whatever the names in quotes (three models built alike)."""
    return _ratio_at_least(_NAMED.sub("“”", a), _NAMED.sub("“”", b), threshold, bounds=True)


def synthesize(sentences: list[Sentence], wanted: tuple[str, ...], used: set[str], examples: int = 3,
               common_min: int = 3, diverse: float = 0.7) -> HeadingSynthesis:
    """A heading's synthesis from its sentences: the provinces per kind; the group of ``wanted`` kinds most
    provinces wrote alike (at least ``common_min``); and up to ``examples`` best examples of the ``wanted``
    kinds (in that order of preference, then more figures), each quoted from another province and none
    ``diverse``-alike to another chosen one (three variants of one sentence are one example). A group whose
    key is in ``used`` is never chosen; the chosen ones are added to it (no quote twice in a report)."""
    kinds: dict[str, set[str]] = {}
    for s in sentences:
        kinds.setdefault(s.kind, set()).add(s.province_code)
    groups = group_similar([s for s in sentences if s.kind in wanted])
    # Whether a group was quoted already is asked only of the groups considered, in the order they are: the
    # same choice as filtering them all first, without comparing every group with every quoted key.
    big = sorted((g for g in groups if g.count >= common_min), key=lambda g: (-g.count, g.quote.province_code))
    common = next(([g] for g in big if not quoted(g.key, used)), [])
    taken = {g.quote.province_code for g in common}
    picked: list[Group] = []
    for g in sorted((g for g in groups if g not in common), key=lambda g: _score(g, wanted)):
        if len(picked) >= examples:
            break
        free = [s for s in g.sentences if s.province_code not in taken]
        if not free or quoted(g.key, used) or any(_resembles(g.key, h.key, diverse) for h in common + picked):
            continue
        g = Group(tuple(free[:1]) + tuple(s for s in g.sentences if s is not free[0]))
        picked.append(g)
        taken.add(g.quote.province_code)
    used.update(g.key for g in common + picked)
    return HeadingSynthesis(len({s.province_code for s in sentences}), {k: len(v) for k, v in kinds.items()},
                            common, picked)


# --- proposals ----------------------------------------------------------------------------------------------
_MINISTRY = r"bộ văn hóa, thể thao và du lịch|bộ vhttdl|bộ vh-tt-dl|bộ vh, tt (?:&|và) dl|cục văn hóa cơ sở|vụ thư viện"
_ADDRESS = [("Bộ", re.compile(rf"{_MINISTRY}|(?:kiến nghị|đề nghị|đề xuất|mong) bộ\b(?! \w+ \w+ và đào tạo| tài chính"
                               r"| nội vụ| công an| kế hoạch| khoa học| thông tin| giáo dục| tư pháp)")),
            ("Chính phủ", re.compile(r"chính phủ|thủ tướng|quốc hội")),
            ("Tỉnh", re.compile(r"ủy ban nhân dân (?:tỉnh|thành phố)|ubnd (?:tỉnh|thành phố)|hội đồng nhân dân|"
                                r"hđnd|tỉnh ủy|thành ủy|lãnh đạo tỉnh")),
            ("Khác", re.compile(r"\bbộ \w+|thư viện quốc gia|\bsở \w+"))]


def addressee(sentence: str) -> str:
    """To whom a proposal is addressed (``ADDRESSEES``): the first named, the Ministry when it is named beside
    another ministry ("Bộ Nội vụ và Bộ Văn hóa, Thể thao và Du lịch")."""
    s = _fold(sentence)
    found = sorted((m.start(), i) for i, (_, rx) in enumerate(_ADDRESS) if (m := rx.search(s)))
    if not found:
        return "Khác"
    first = _ADDRESS[found[0][1]][0]
    return "Bộ" if first == "Khác" and re.search(_MINISTRY, s) else first


def theme_of(sentence: str, themes: list[dict], heading: str = "") -> str:
    """The first theme (``{"label", "keywords"}``) whose words the sentence uses, else "Khác"; a theme whose
    words all repeat ``heading`` says nothing and is skipped."""
    s, head = _fold(sentence), set(re.findall(r"\w+", _fold(heading)))
    for t in themes:
        if set(re.findall(r"\w+", _fold(t["label"]))) <= head:
            continue
        if any(_fold(k) in s for k in t["keywords"]):
            return unicodedata.normalize("NFC", t["label"])
    return "Khác"


@dataclass(frozen=True)
class Proposal:
    sentence: Sentence
    addressee: str
    theme: str


def proposals_of(rows: pd.DataFrame, themes: list[dict], year: int | None = None) -> list[Proposal]:
    """Every proposal sentence of every province, wherever it was written, with its addressee and theme; by
    addressee (``ADDRESSEES`` order), theme, province code and position."""
    # Only texts with a proposal word can hold a proposal sentence (a sentence's match is a match in its text:
    # sentences end at a line break or after punctuation and a space), and the proposal test is classify's first.
    rows = rows[rows["text"].map(lambda t: _PROPOSAL.search(_fold(str(t))) is not None).astype(bool)]  # none: empty
    found = [Proposal(s, addressee(s.text), theme_of(s.text, themes))
             for s in sentences_of(rows.sort_values("province_code", kind="stable"), year) if s.kind == PROPOSAL]
    labels = [unicodedata.normalize("NFC", t["label"]) for t in themes] + ["Khác"]
    return sorted(found, key=lambda p: (ADDRESSEES.index(p.addressee), labels.index(p.theme),
                                        p.sentence.province_code))


def proposals_register(tidy: pd.DataFrame, year: int | None = None, themes: list[dict] | None = None
                       ) -> list[Proposal]:
    """``proposals_of`` the narrative rows of a tidy dataset, with the themes of the report's shipped wording
    (``workbook_templates/bao-cao-quoc-gia.toml``, [[proposals.themes]]) unless ``themes`` are given."""
    if themes is None:
        ref = resources.files("libstats.workbook_templates").joinpath("bao-cao-quoc-gia.toml")
        themes = tomllib.loads(ref.read_text(encoding="utf-8"))["proposals"]["themes"]
    rows = tidy[tidy["kind"] == "narrative"] if "kind" in tidy else tidy.iloc[0:0]
    return proposals_of(rows, themes, year)


PROPOSAL_HEADERS = ["STT", "Tỉnh, thành phố", "Nội dung kiến nghị, đề xuất", "Kiến nghị với", "Nhóm nội dung", "Tệp",
                    "Trang", "Ô", "Ý kiến của Bộ"]
ADDRESSEE_LABELS = {"Bộ": "Bộ VHTTDL", "Chính phủ": "Chính phủ", "Tỉnh": "UBND, HĐND tỉnh", "Khác": "Cơ quan khác"}


def write_proposals_sheet(wb, proposals: list[Proposal], name: str = "Kiến nghị"):
    """The register of proposals as a sheet of an xlsxwriter workbook (its public API only): one row per
    proposal with its source, an empty "Ý kiến của Bộ" column for the Ministry's answer; landscape, one page
    wide, header repeated, filter on."""
    ws = wb.add_worksheet(name)
    font = {"font_name": "Times New Roman", "font_size": 11}
    title = wb.add_format({**font, "bold": True, "font_size": 13})
    head = wb.add_format({**font, "bold": True, "border": 1, "text_wrap": True, "align": "center",
                          "valign": "vcenter", "bg_color": "#D9E2F3"})
    cell = wb.add_format({**font, "border": 1, "text_wrap": True, "valign": "top"})
    ws.write_string(0, 0, "TỔNG HỢP KIẾN NGHỊ, ĐỀ XUẤT CỦA CÁC TỈNH, THÀNH PHỐ", title)
    ws.write_string(1, 0, f"{len(proposals)} kiến nghị, đề xuất của "
                    f"{len({p.sentence.province_code for p in proposals})} tỉnh, thành phố; cột “Ý kiến của Bộ” "
                    "để Bộ ghi ý kiến trả lời.")
    widths = [5, 14, 62, 12, 20, 30, 16, 6, 30]
    for col, (h, w) in enumerate(zip(PROPOSAL_HEADERS, widths, strict=True)):
        ws.set_column(col, col, w)
        ws.write_string(3, col, h, head)
    for i, p in enumerate(proposals, start=1):
        s = p.sentence
        values = [i, s.province, s.text, ADDRESSEE_LABELS[p.addressee], p.theme, s.source_file, s.sheet, s.cell, ""]
        for col, v in enumerate(values):
            if isinstance(v, int):
                ws.write_number(3 + i, col, v, cell)
            else:
                ws.write_string(3 + i, col, v, cell)
        lines = max(wrapped_lines(str(v), w - 1) for v, w in zip(values, widths, strict=True))
        ws.set_row(3 + i, 14 * lines + 3)  # a program that does not fit rows to wrapped text prints them whole
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(3)
    ws.freeze_panes(4, 0)
    ws.autofilter(3, 0, 3 + max(len(proposals), 1), len(PROPOSAL_HEADERS) - 1)
    return ws
