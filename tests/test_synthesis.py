"""Sentences of the provinces' texts: split the Vietnamese way, classified by what they say, near-duplicates
grouped, proposals addressed and registered (outputs.synthesis)."""

from __future__ import annotations

import pandas as pd
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from libstats.outputs.synthesis import (Sentence, addressee, classify, group_similar, proposals_of,
                                        split_sentences, synthesize, theme_of, write_proposals_sheet)


def test_sentences_end_at_a_full_stop_before_a_capital_not_inside_numbers_abbreviations_or_quotes():
    text = ("Thư viện cấp mới 1.234 thẻ, tăng 7,1% so với năm 2023. TP. Hồ Chí Minh có 22 thư viện, do TS. Lê "
            "Văn A phụ trách; ông Nguyễn V. Bình làm thư ký. Mô hình “Đọc sách. Cùng con” được nhân rộng! "
            "Thực hiện Nghị định số 93/2020/NĐ-CP. Sách, báo, v.v. được bổ sung.\n"
            "- Kiến nghị Bộ hỗ trợ kinh phí;\n+ Đề nghị Chính phủ ban hành chế độ phụ cấp...")
    assert split_sentences(text) == [
        "Thư viện cấp mới 1.234 thẻ, tăng 7,1% so với năm 2023.",
        "TP. Hồ Chí Minh có 22 thư viện, do TS. Lê Văn A phụ trách; ông Nguyễn V. Bình làm thư ký.",
        "Mô hình “Đọc sách. Cùng con” được nhân rộng!",
        "Thực hiện Nghị định số 93/2020/NĐ-CP.",
        "Sách, báo, v.v. được bổ sung.",
        "Kiến nghị Bộ hỗ trợ kinh phí;",
        "Đề nghị Chính phủ ban hành chế độ phụ cấp...",
    ]
    assert split_sentences("") == [] and split_sentences(" - \n\n") == []


@pytest.mark.parametrize("sentence, kind", [
    ("Đề nghị Bộ Văn hóa, Thể thao và Du lịch sớm ban hành hướng dẫn.", "proposal"),
    ("Đơn vị kiến nghị Bộ tiếp tục quan tâm hỗ trợ kinh phí.", "proposal"),
    ("Sở đã đề xuất Ủy ban nhân dân tỉnh phê duyệt 12 dự án.", "achievement"),  # done, not asked
    ("Theo đề nghị của Sở, tỉnh đã cấp 300 triệu đồng.", "achievement"),
    ("Tiếp tục đẩy mạnh chuyển đổi số trong năm 2025.", "plan"),
    ("Tổ chức các hoạt động hưởng ứng Ngày Sách năm 2025 đến cấp xã.", "plan"),
    ("Huy động được 120 triệu đồng từ các doanh nghiệp.", "achievement"),
    ("Cán bộ thư viện cấp xã làm kiêm nhiệm, thường xuyên thay đổi.", "difficulty"),
    ("Thói quen đọc sách của thanh thiếu niên giảm.", "difficulty"),
    ("Phòng đọc thiếu nhi phục vụ 12.000 lượt em thiếu nhi.", "achievement"),  # "thiếu" of thiếu nhi
    ("Số thẻ cấp mới đạt 3.400 thẻ, giảm 2,0% so với năm 2023.", "achievement"),  # a result, with figures
    ("Mô hình “Cà phê sách” được duy trì tại các trường học.", "model"),
    ("Thư viện tỉnh được Bộ tặng Bằng khen.", "achievement"),
    ("Thực hiện Nghị định số 93/2020/NĐ-CP về thư viện.", "general"),  # a document number is not a figure
    ("Công tác thư viện được quan tâm chỉ đạo.", "general"),
])
def test_a_sentence_is_classified_by_what_it_says(sentence, kind):
    assert classify(sentence, 2024) == kind


@pytest.mark.parametrize("sentence, who", [
    ("Đề nghị Bộ Văn hóa, Thể thao và Du lịch hỗ trợ kinh phí.", "Bộ"),
    ("Kiến nghị Bộ tăng cường tập huấn.", "Bộ"),
    ("Đề nghị Bộ Nội vụ và Bộ Văn hóa, Thể thao và Du lịch hướng dẫn vị trí việc làm.", "Bộ"),
    ("Kiến nghị Chính phủ bố trí nguồn kinh phí riêng.", "Chính phủ"),
    ("Đề xuất Ủy ban nhân dân tỉnh bố trí cán bộ chuyên trách.", "Tỉnh"),
    ("Đề nghị Bộ Tài chính hướng dẫn định mức chi.", "Khác"),
    ("Đề nghị Thư viện Quốc gia Việt Nam chia sẻ dữ liệu.", "Khác"),
])
def test_a_proposal_is_addressed_to_whom_it_names_first(sentence, who):
    assert addressee(sentence) == who


def _s(province: str, code: str, text: str, kind: str = "achievement", field: str = "f") -> Sentence:
    return Sentence(province, code, field, text, kind, f"{code}.xlsx", "Trang", "B5")


def test_near_identical_sentences_are_one_group_with_one_sentence_per_province():
    group = group_similar([
        _s("Nghệ An", "40", "Thư viện tỉnh Nghệ An cấp mới 4.300 thẻ, tăng 7,1% so với năm 2023."),
        _s("Hà Nội", "01", "Thư viện thành phố Hà Nội cấp mới 14.300 thẻ, tăng 3,0% so với năm 2023."),
        _s("Hà Nội", "01", "Thư viện thành phố Hà Nội cấp mới 14.300 thẻ, tăng 3,0% so với năm 2023."),
        _s("Cà Mau", "96", "Thư viện tỉnh Cà Mau cấp mới 900 thẻ, giảm 2,0% so với năm 2023."),  # says the opposite
        _s("Lào Cai", "10", "Mô hình “Cà phê sách” được duy trì tại các trường học."),
        _s("Sơn La", "14", "Mô hình “Thư viện xanh” được duy trì tại các trường học."),  # another model
    ])
    assert [(g.count, [s.province for s in g.sentences]) for g in group] == [
        (2, ["Hà Nội", "Nghệ An"]),  # the largest figure quoted first
        (1, ["Cà Mau"]), (1, ["Lào Cai"]), (1, ["Sơn La"])]


def test_a_synthesis_never_quotes_what_was_quoted_and_takes_each_example_from_another_province():
    sentences = [_s("Hà Nội", "01", "Thư viện tổ chức 12 cuộc triển lãm sách, thu hút 4.000 lượt người xem."),
                 _s("Hà Nội", "01", "Thư viện cấp mới 14.300 thẻ bạn đọc."),
                 _s("Huế", "46", "Cuộc thi Đại sứ Văn hóa đọc thu hút 3.000 học sinh tham gia."),
                 _s("Huế", "46", "Công tác thư viện được quan tâm.", "general"),
                 _s("Cà Mau", "96", "Kinh phí còn hạn chế.", "difficulty")]
    used: set[str] = set()
    first = synthesize(sentences, ("achievement", "model"), used, examples=3)
    assert first.provinces == 3 and first.kinds == {"achievement": 2, "general": 1, "difficulty": 1}
    assert [g.quote.province for g in first.examples] == ["Hà Nội", "Huế"] and first.common == []
    again = synthesize(sentences, ("achievement", "model"), used, examples=3)
    assert [g.quote.text for g in again.examples] == ["Thư viện cấp mới 14.300 thẻ bạn đọc."]


def test_a_theme_that_only_repeats_the_heading_is_not_a_theme():
    themes = [{"label": "Kinh phí", "keywords": ["kinh phí"]}, {"label": "Chuyển đổi số", "keywords": ["số hóa"]}]
    assert theme_of("Đề nghị Bộ hỗ trợ kinh phí số hóa.", themes) == "Kinh phí"
    assert theme_of("Đề nghị Bộ hỗ trợ số hóa.", themes) == "Chuyển đổi số"
    assert theme_of("Đề nghị Bộ hỗ trợ kinh phí.", themes, heading="Kinh phí hoạt động") == "Khác"


def test_the_register_holds_every_proposal_wherever_written_and_its_sheet_lists_them(tmp_path):
    rows = pd.DataFrame({
        "province_code": ["96", "01", "01"], "province_name": ["Cà Mau", "Hà Nội", "Hà Nội"],
        "field_id": ["n2_de_xuat", "n222_tv_so", "n2_de_xuat"], "source_file": ["cm.xlsx", "hn.xlsx", "hn.xlsx"],
        "sheet": ["Phần 2", "2.2", "Phần 2"], "cell": ["B8", "B13", "B8"],
        "text": ["Đề nghị Chính phủ bố trí kinh phí. Năm 2025 phấn đấu cấp 1.000 thẻ.",
                 "Đã số hóa 3.000 trang. Kiến nghị Bộ xây dựng nền tảng số dùng chung.",
                 "Đề xuất Ủy ban nhân dân tỉnh xây trụ sở mới; kiến nghị Bộ tăng tập huấn."]})
    themes = [{"label": "Kinh phí", "keywords": ["kinh phí"]}, {"label": "Thư viện số", "keywords": ["nền tảng"]}]
    props = proposals_of(rows, themes, 2024)
    assert [(p.sentence.province, p.addressee, p.theme, p.sentence.cell) for p in props] == [
        ("Hà Nội", "Bộ", "Thư viện số", "B13"), ("Cà Mau", "Chính phủ", "Kinh phí", "B8"),
        ("Hà Nội", "Tỉnh", "Khác", "B8")]
    wb = xlsxwriter.Workbook(tmp_path / "k.xlsx")
    write_proposals_sheet(wb, props)
    wb.close()
    sheet = CalamineWorkbook.from_path(str(tmp_path / "k.xlsx")).get_sheet_by_name("Kiến nghị").to_python()
    assert sheet[3][-1] == "Ý kiến của Bộ"
    assert [(r[1], r[2], r[3], r[7], r[8]) for r in sheet[4:]] == [
        ("Hà Nội", "Kiến nghị Bộ xây dựng nền tảng số dùng chung.", "Bộ VHTTDL", "B13", ""),
        ("Cà Mau", "Đề nghị Chính phủ bố trí kinh phí.", "Chính phủ", "B8", ""),
        ("Hà Nội", "Đề xuất Ủy ban nhân dân tỉnh xây trụ sở mới; kiến nghị Bộ tăng tập huấn.", "UBND, HĐND tỉnh",
         "B8", "")]
