"""Realistic filled returns for demos, docs, tests and benchmarks.

Magnitudes and ratios follow the project's domain notes (``shared/reference/DOMAIN.md``, beside the repository,
not in it): bigger provinces have bigger figures, visits ≈ 60 per card, items ≈ 1.5–2.5 per visit,
year-over-year changes mostly within −10 % … +25 %. The narratives are believable Vietnamese text for every
bullet. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from functools import cache

from libstats.model.findings import fmt_number
from libstats.model.form import PROVINCE_FIELD, Form, build_form
from libstats.model.provinces import Province, code_list_for_year, components, province, provinces_for_year, size, slug
from libstats.forms.template import (DEFAULT_PASSWORD, TemplateOptions, forked_map, sender_values, template_filename,
                       write_template)

__all__ = ["sample_values", "narrative_sentences", "KINDS", "BANK", "Flaw", "FLAWS", "write_samples"]

_PEOPLE = ["Nguyễn Thị Hồng", "Trần Văn Minh", "Lê Thị Thu Hà", "Phạm Quốc Tuấn", "Hoàng Thị Lan", "Vũ Đức Thắng",
           "Đặng Thị Mai", "Bùi Văn Hải", "Đỗ Thị Ngọc Anh", "Ngô Thanh Sơn", "Dương Thị Huyền", "Lý Văn Phúc"]
_MODELS = ["“Tủ sách Bác Hồ”", "“Thư viện thân thiện”", "“Đọc sách cùng con”", "“Đại sứ văn hóa đọc”",
           "“Thư viện xanh”", "“Góc đọc sách tại chợ”", "“Cà phê sách”", "“Tủ sách biên phòng”",
           "“Thư viện trong nhà trường”", "“Sách hóa nông thôn”", "“Không gian đọc tại điểm du lịch”",
           "“Tủ sách pháp luật cơ sở”", "“Thư viện số cho mọi nhà”", "“Mỗi tuần một cuốn sách”"]
_PLACES = ["các trường tiểu học", "các đồn biên phòng", "nhà văn hóa thôn, bản", "các khu công nghiệp",
           "các bệnh viện", "các điểm du lịch cộng đồng", "các trại giam và cơ sở cai nghiện", "các chợ trung tâm",
           "nhà thiếu nhi", "các điểm trường vùng cao"]
_PARTNERS = ["Tỉnh đoàn", "Sở Giáo dục và Đào tạo", "Bộ Chỉ huy Bộ đội Biên phòng tỉnh", "Hội Liên hiệp Phụ nữ tỉnh",
             "Hội Khuyến học tỉnh", "Công an tỉnh", "Liên đoàn Lao động tỉnh", "Báo và Phát thanh, Truyền hình tỉnh"]
_SOFTWARE = ["Koha", "Libol", "VTLS", "Vebrary", "KIPOS"]

BANK = {
    "general": {
        "gen": ["Công tác thư viện năm {year} được triển khai đồng bộ, bám sát kế hoạch của Ủy ban nhân dân tỉnh và "
                "hướng dẫn của Bộ Văn hóa, Thể thao và Du lịch.",
                "Nhìn chung, hệ thống thư viện công cộng trên địa bàn hoạt động ổn định, từng bước đổi mới phương "
                "thức phục vụ."],
        "ach": ["Năm {year}, {tvt} đón {luot} lượt bạn đọc, cấp mới {the} thẻ, phục vụ {tl} lượt tài "
                "nguyên thông tin.",
                "Toàn tỉnh hiện có {m} thư viện và phòng đọc cơ sở, {n} tủ sách cộng đồng được duy trì thường xuyên.",
                "Các chỉ tiêu chính của năm {year} cơ bản hoàn thành kế hoạch; số lượt bạn đọc đến thư viện tỉnh "
                "{bien_luot} so với năm {prev}."],
        "diff": ["Tuy nhiên, trụ sở, trang thiết bị của nhiều thư viện cơ sở đã xuống cấp, kinh phí bổ sung tài "
                 "liệu hằng năm còn thấp."],
    },
    "law": {
        "gen": ["Luật Thư viện và các văn bản hướng dẫn thi hành tiếp tục được quán triệt đến các "
                "thư viện trên địa bàn."],
        "ach": ["Sở đã tổ chức {n} hội nghị phổ biến Luật Thư viện, Nghị định số 93/2020/NĐ-CP cho {m} cán bộ thư "
                "viện, văn hóa cơ sở.",
                "Đã tham mưu Ủy ban nhân dân tỉnh ban hành Kế hoạch số {m}/KH-UBND về phát triển văn hóa đọc giai đoạn "
                "2021-2025, định hướng đến năm 2030.",
                "Trong năm, Sở hướng dẫn {n} thư viện tư nhân, thư viện cộng đồng thực hiện thông báo thành lập theo "
                "quy định của Luật Thư viện.",
                "Kế hoạch triển khai Chương trình Chuyển đổi số ngành thư viện đến năm 2025 được ban hành, giao chỉ "
                "tiêu cụ thể cho {n} {don_vi}.",
                "Đã kiểm tra việc thực hiện quy định về thư viện tại {n} đơn vị, qua đó hướng dẫn khắc phục "
                "các tồn tại về đăng ký, thống kê."],
        "model": ["Sở phối hợp Sở Tư pháp xây dựng mô hình {model} tại {x} xã, gắn phổ biến pháp luật với phục vụ "
                  "sách, báo."],
        "diff": ["Việc triển khai Luật Thư viện ở cấp xã còn chậm do cán bộ văn hóa xã kiêm nhiệm nhiều việc.",
                 "Một số văn bản hướng dẫn về tiêu chuẩn thư viện chưa phù hợp với thực tế của các xã miền núi.",
                 "Chưa có hướng dẫn cụ thể về định mức kinh tế - kỹ thuật cho dịch vụ thư viện nên khó xây dựng dự "
                 "toán."],
        "prop": ["Đề nghị Bộ Văn hóa, Thể thao và Du lịch sớm ban hành hướng dẫn định mức kinh tế - kỹ thuật đối với "
                 "dịch vụ sự nghiệp công trong lĩnh vực thư viện."],
    },
    "programmes": {
        "ach": ["Triển khai Đề án Phát triển văn hóa đọc trong cộng đồng, toàn tỉnh xây dựng {m} tủ sách, điểm đọc, "
                "phục vụ {k} lượt người dân.",
                "Thực hiện Chương trình Chuyển đổi số ngành thư viện, thư viện tỉnh đã số hóa {k} trang tài liệu và "
                "kết nối liên thông với {n} thư viện cơ sở.",
                "Hưởng ứng Chương trình Đẩy mạnh các hoạt động học tập suốt đời, thư viện mở {n} lớp kỹ năng số cho "
                "{m} người cao tuổi và phụ nữ.",
                "Thực hiện Chỉ thị về phát triển kỹ năng đọc cho thiếu nhi, thư viện tổ chức {m} buổi đọc sách, kể "
                "chuyện tại {place}."],
        "model": ["Mô hình {model} trong khuôn khổ Đề án Phát triển văn hóa đọc được duy trì tại {x} trường học."],
        "diff": ["Kinh phí thực hiện Đề án Phát triển văn hóa đọc chủ yếu lồng ghép, chưa được bố trí riêng."],
        "prop": ["Đề nghị Bộ sớm tổng kết Đề án Phát triển văn hóa đọc trong cộng đồng và hướng dẫn xây dựng "
                 "chương trình giai đoạn sau năm 2025."],
    },
    "advice": {
        "ach": ["Sở tham mưu Ủy ban nhân dân tỉnh ban hành Quyết định số {m}/QĐ-UBND phê duyệt Đề án phát triển hệ "
                "thống thư viện tỉnh đến năm 2030.",
                "Đã tham mưu Hội đồng nhân dân tỉnh ban hành Nghị quyết hỗ trợ {n} triệu đồng mỗi năm cho mỗi thư "
                "viện cấp xã đạt chuẩn.",
                "Đã tham mưu ban hành Kế hoạch tổ chức Ngày Sách và Văn hóa đọc Việt Nam năm {year}, giao nhiệm vụ cho "
                "{n} sở, ngành và địa phương.",
                "Đã tham mưu đưa {n} chỉ tiêu phát triển thư viện vào Nghị quyết Đại hội Đảng bộ tỉnh nhiệm kỳ "
                "2025-2030."],
        "diff": ["Công tác tham mưu ở cấp xã còn hạn chế do chưa có cán bộ chuyên trách về thư viện."],
        "prop": ["Đề nghị Ủy ban nhân dân tỉnh sớm phê duyệt Đề án phát triển hệ thống thư viện công cộng đến năm "
                 "2030."],
    },
    "guidance": {
        "ach": ["Thực hiện Công văn hướng dẫn của Bộ, Sở đã chỉ đạo {n} thư viện cơ sở rà soát, cập nhật số liệu "
                "thống kê năm {year}.",
                "Triển khai hướng dẫn của Bộ về công tác thư viện sau sắp xếp đơn vị hành chính, Sở đã tổ chức {n} "
                "cuộc họp với các địa phương.",
                "Cử {n} cán bộ tham gia các lớp tập huấn do Bộ Văn hóa, Thể thao và Du lịch tổ chức về chuyển đổi số."],
        "gen": ["Các văn bản chỉ đạo, hướng dẫn của Bộ được Sở kịp thời triển khai đến các thư viện trên địa bàn."],
        "diff": ["Một số hướng dẫn của Bộ đến địa phương chậm nên việc triển khai còn bị động."],
        "prop": ["Kiến nghị Bộ Văn hóa, Thể thao và Du lịch ban hành hướng dẫn sớm hơn để địa phương chủ động xây "
                 "dựng kế hoạch năm."],
    },
    "events": {
        "ach": ["Thư viện tổ chức {n} cuộc triển lãm sách, báo kỷ niệm {ky_niem}, thu hút "
                "{k} lượt người xem.",
                "Nhân các ngày lễ lớn, đã trưng bày {m} chuyên đề với {k} bản sách, báo, tư liệu tại trụ sở và "
                "{n} điểm lưu động.",
                "Phối hợp tổ chức Hội báo Xuân {year} với sự tham gia của {n} cơ quan báo chí, thu hút {k} lượt "
                "khách tham quan.",
                "Cuộc thi trực tuyến tìm hiểu về Chủ tịch Hồ Chí Minh thu hút {k} lượt thí sinh tham gia."],
        "model": ["Mô hình {model} được triển khai tại {x} điểm, gắn với các ngày kỷ niệm của đất nước."],
        "diff": ["Kinh phí tổ chức các hoạt động tuyên truyền nhân dịp lễ lớn còn hạn chế, chủ yếu lồng ghép."],
    },
    "coop": {
        "ach": ["Thư viện ký kết chương trình phối hợp với {partner}, tổ chức {n} đợt luân chuyển sách đến "
                "{place}.",
                "Phối hợp với {partner} tổ chức {n} lớp tập huấn kỹ năng thông tin cho {m} giáo viên, cán bộ đoàn.",
                "Duy trì phối hợp với {partner} trong tuyên truyền, giới thiệu sách, phục vụ {k} lượt bạn đọc tại "
                "{place}.",
                "Đã trao tặng {k} bản sách cho {place} thông qua chương trình phối hợp với {partner}."],
        "model": ["Mô hình {model} do thư viện phối hợp với {partner} xây dựng đã nhân rộng ra {x} điểm."],
        "diff": ["Sự phối hợp giữa thư viện công cộng và thư viện trường học chưa thường xuyên, chủ yếu theo đợt."],
        "prop": ["Kiến nghị Bộ Văn hóa, Thể thao và Du lịch phối hợp với Bộ Giáo dục và Đào tạo ban hành hướng dẫn "
                 "liên thông giữa thư viện công cộng và thư viện trường học."],
    },
    "ctmtqg": {
        "ach": ["Từ nguồn Chương trình mục tiêu quốc gia, {n} thư viện cấp xã được hỗ trợ trang thiết bị, bổ sung "
                "{k} bản sách.",
                "Đã phân bổ {m} triệu đồng từ Chương trình mục tiêu quốc gia phát triển kinh tế - xã hội vùng đồng bào "
                "dân tộc thiểu số để cấp sách cho {x} thôn, bản.",
                "Chương trình mục tiêu quốc gia xây dựng nông thôn mới hỗ trợ làm mới {n} điểm đọc sách tại nhà văn "
                "hóa thôn."],
        "diff": ["Nguồn vốn chương trình mục tiêu quốc gia dành cho thư viện còn ít, phân bổ chậm, thủ tục giải ngân "
                 "phức tạp.",
                 "Nội dung về thư viện trong bộ tiêu chí nông thôn mới chưa rõ nên nhiều xã chưa quan tâm đầu tư."],
        "prop": ["Đề nghị Chính phủ bổ sung chỉ tiêu cụ thể về thư viện, phòng đọc trong Bộ tiêu chí quốc gia về xã "
                 "nông thôn mới giai đoạn tiếp theo."],
    },
    "org": {
        "ach": ["{tvt} hiện có {n} phòng chuyên môn, {m} viên chức, trong đó {n2} người có trình độ thạc sĩ.",
                "Đã kiện toàn tổ chức bộ máy theo Nghị định số 93/2020/NĐ-CP; {n} thư viện cơ sở có "
                "cán bộ chuyên trách."],
        "ach2024": ["Toàn tỉnh có {m2} thư viện cấp huyện, trong đó {n} thư viện hoạt động độc lập, còn lại thuộc "
                    "Trung tâm Văn hóa - Thể thao."],
        "ach2025": ["Thực hiện sắp xếp đơn vị hành chính từ 01/7/2025, {n} thư viện cấp huyện cũ được chuyển thành chi "
                    "nhánh của {tvt}, phục vụ liên tục không gián đoạn."],
        "diff": ["Cán bộ thư viện cấp xã phần lớn làm kiêm nhiệm, thường xuyên thay đổi, chưa qua "
                 "đào tạo chuyên ngành."],
        "diff2024": ["Sau sắp xếp, nhiều thư viện cấp huyện sáp nhập vào Trung tâm Văn hóa - Thể thao nên hoạt động "
                     "chuyên môn bị thu hẹp."],
        "diff2025": ["Một số thư viện cấp huyện cũ giao về cấp xã chưa có người làm chuyên trách nên hoạt động chuyên "
                     "môn bị thu hẹp."],
        "prop": ["Đề nghị Bộ Nội vụ và Bộ Văn hóa, Thể thao và Du lịch hướng dẫn vị trí việc làm "
                 "cho viên chức thư viện "
                 "sau sắp xếp bộ máy."],
    },
    "resources": {
        "ach": ["Năm {year}, thư viện bổ sung {bo_sung} bản sách mới, {n} tên báo, tạp chí, đưa tổng vốn tài liệu lên "
                "{k} bản.",
                "Đã xử lý kỹ thuật và cập nhật {k} biểu ghi vào cơ sở dữ liệu thư mục trên phần mềm {software}.",
                "Thư viện tiếp nhận {k} bản sách do các tổ chức, cá nhân trao tặng, trong đó có {n} bộ sách quý về "
                "địa chí.",
                "Đã thanh lọc {k} bản sách cũ, rách nát, nội dung lạc hậu theo đúng quy trình; bồi dưỡng, tu sửa "
                "{m} bản tài liệu.",
                "Hệ thống tra cứu trực tuyến OPAC được nâng cấp, cho phép tìm {k} biểu ghi từ {n} {tv_huyen}."],
        "model": ["Bộ sưu tập tài liệu địa chí được số hóa {k} trang, giới thiệu qua chuyên mục {model} trên trang "
                  "thông tin điện tử."],
        "diff": ["Kho sách chật hẹp, thiếu hệ thống điều hòa, hút ẩm nên tài liệu quý có nguy cơ hư hỏng.",
                 "Kinh phí bổ sung tài liệu hằng năm chỉ đáp ứng khoảng {pct}% nhu cầu, sách cho thiếu nhi còn "
                 "thiếu."],
        "prop": ["Đề nghị Bộ Văn hóa, Thể thao và Du lịch hỗ trợ kinh phí bảo quản, số hóa tài liệu địa chí, tài liệu "
                 "cổ của các thư viện cấp tỉnh."],
    },
    "services": {
        "ach": ["Thư viện biên soạn {n} thư mục chuyên đề, {m} bản tin thông tin phục vụ lãnh đạo và bạn đọc.",
                "Dịch vụ mượn sách qua bưu điện, đặt mượn trực tuyến phục vụ {k} lượt bạn đọc trong năm.",
                "Phòng đọc thiếu nhi mở cửa cả thứ bảy, chủ nhật, phục vụ {k} lượt các em.",
                "Xe ô tô thư viện lưu động thực hiện {m} chuyến đến {place}, phục vụ {k} lượt bạn đọc."],
        "model": ["Dịch vụ {model} được triển khai thí điểm tại {x} điểm, thu hút đông đảo bạn đọc trẻ."],
        "diff": ["Sản phẩm, dịch vụ thông tin còn đơn điệu, chưa đáp ứng nhu cầu đa dạng của người dân."],
    },
    "reading": {
        "ach": ["Hưởng ứng Ngày Sách và Văn hóa đọc Việt Nam lần thứ 3, toàn tỉnh tổ chức {m} hoạt động, thu hút {k} "
                "lượt người tham gia.",
                "Cuộc thi Đại sứ Văn hóa đọc năm {year} thu hút {k} học sinh dự thi; tỉnh có {n} giải cấp quốc gia.",
                "Thư viện tổ chức {m} buổi giới thiệu sách, {n} buổi kể chuyện theo sách cho học sinh tiểu học.",
                "Tỷ lệ dân số có thẻ thư viện đạt {pct}%, tăng so với năm {prev} nhờ cấp thẻ miễn phí cho học sinh."],
        "model": ["Mô hình {model} tại {place} được duy trì, mỗi tháng luân chuyển khoảng {k} bản sách.",
                  "Câu lạc bộ {model} với {m} thành viên sinh hoạt định kỳ hằng tháng, lan tỏa thói quen đọc trong "
                  "gia đình.",
                  "Cách làm hay được nhân rộng là {model}: mỗi lớp học có một tủ sách do phụ huynh và học sinh cùng "
                  "đóng góp, đến nay có {m} tủ."],
        "diff": ["Thói quen đọc sách của một bộ phận thanh thiếu niên giảm, nhất là ở khu vực nông thôn.",
                 "Hoạt động phát triển văn hóa đọc ở vùng sâu, vùng xa còn gặp nhiều khó khăn do địa bàn rộng, giao "
                 "thông cách trở."],
        "prop": ["Kiến nghị Bộ tăng số giải thưởng và hỗ trợ kinh phí cho các địa phương "
                 "tổ chức Cuộc thi Đại sứ Văn hóa đọc."],
    },
    "digital": {
        "ach": ["Thư viện số hóa thêm {k} trang, nâng tổng số tài liệu số lên {tl_so}.",
                "Trang thông tin điện tử và thư viện số đạt {truy_cap} lượt truy cập trong năm {year}.",
                "Đã triển khai phần mềm quản trị thư viện {software} tại {n} {tv_huyen}, liên thông về một cơ sở dữ "
                "liệu chung.",
                "Thư viện cấp thẻ đọc điện tử, tích hợp với tài khoản định danh VNeID cho {k} người dùng."],
        "model": ["Mô hình {model} cho phép bạn đọc mượn sách điện tử trên điện thoại, có {k} lượt sử dụng sau sáu "
                  "tháng."],
        "diff": ["Hạ tầng công nghệ thông tin của thư viện đã lạc hậu, máy chủ thường xuyên quá tải.",
                 "Thiếu cán bộ có chuyên môn về công nghệ thông tin để vận hành thư viện số."],
        "prop": ["Đề nghị Bộ Văn hóa, Thể thao và Du lịch sớm xây dựng nền tảng thư viện số dùng chung, cho phép các "
                 "thư viện địa phương kết nối, chia sẻ dữ liệu.",
                 "Kiến nghị Bộ ban hành bộ tiêu chuẩn kỹ thuật về số hóa tài liệu và siêu dữ liệu áp dụng thống nhất."],
    },
    "comms": {
        "ach": ["Trang Facebook của thư viện có {k} người theo dõi; đã đăng {m} tin, bài giới thiệu sách.",
                "Phối hợp với Báo và Phát thanh, Truyền hình tỉnh thực hiện {n} chuyên mục giới thiệu sách hằng tháng.",
                "Thư viện sản xuất {m} video giới thiệu sách trên TikTok, YouTube với hơn {k} lượt xem."],
        "diff": ["Công tác truyền thông chủ yếu do cán bộ kiêm nhiệm, chưa có kinh phí riêng cho "
                 "sản xuất nội dung số."],
    },
    "network": {
        "ach": ["Trong năm, thành lập mới {n} thư viện, phòng đọc cấp xã và {m} tủ sách cộng đồng.",
                "Đã xây dựng {n} điểm đọc sách tại {place}, nâng tổng số điểm phục vụ lưu động lên {m} điểm.",
                "Mạng lưới thư viện cơ sở được củng cố; {n} {tv_huyen} được cải tạo, nâng cấp trụ sở."],
        "diff": ["Nhiều xã chưa có phòng đọc riêng, tủ sách đặt ghép tại nhà văn hóa nên ít người sử dụng.",
                 "Một số {tv_huyen} chưa có trụ sở riêng, diện tích phòng đọc không đạt tiêu chuẩn."],
        "prop": ["Đề nghị Ủy ban nhân dân tỉnh bố trí quỹ đất và kinh phí xây dựng trụ sở mới cho {tvt}."],
    },
    "intl": {
        "ach": ["Thư viện tiếp nhận {k} bản sách tiếng nước ngoài do Quỹ Châu Á trao tặng.",
                "Phối hợp với Thư viện tỉnh {sister} (nước bạn) trao đổi {m} bản sách và tổ chức "
                "{n} đợt tập huấn chung.",
                "Cán bộ thư viện tham gia {n} hội thảo trực tuyến do IFLA và các thư viện khu vực tổ chức."],
        "diff": ["Hoạt động hợp tác quốc tế còn hạn chế, chủ yếu tiếp nhận sách tặng.",
                 "Thiếu cán bộ có trình độ ngoại ngữ để triển khai các chương trình hợp tác quốc tế."],
    },
    "efficiency": {
        "ach": ["Năm {year}, {tvt} cấp mới {the} thẻ bạn đọc, {bien_the} so với năm {prev}.",
                "Bạn đọc đến thư viện đạt {luot} lượt, tài nguyên thông tin phục vụ đạt {tl} lượt.",
                "Trang thông tin điện tử của thư viện đạt {truy_cap} lượt truy cập, {bien_truy_cap} so với năm {prev}.",
                "Các {tv_huyen} phục vụ {k} lượt bạn đọc, luân chuyển {k2} lượt sách, báo."],
        "diff": ["Số lượt bạn đọc tại một số {tv_huyen} giảm do trụ sở xuống cấp, thiếu tài liệu mới."],
    },
    "social": {
        "ach": ["Huy động được {m} triệu đồng và {k} bản sách từ các doanh nghiệp, nhà hảo tâm để xây dựng tủ sách "
                "cộng đồng.",
                "Dự án ô tô thư viện lưu động do Quỹ Đọc Việt Nam tài trợ thực hiện {m} chuyến, phục vụ {k} lượt học "
                "sinh.",
                "Đã tiếp nhận {n} xe ô tô thư viện lưu động từ chương trình “Ánh sáng tri thức” và đưa vào hoạt động "
                "hiệu quả."],
        "model": ["Mô hình {model} huy động doanh nghiệp đỡ đầu tủ sách cho {x} điểm trường."],
        "diff": ["Nguồn lực xã hội hóa chưa ổn định, phụ thuộc nhiều vào các nhà tài trợ."],
        "prop": ["Kiến nghị Chính phủ có chính sách ưu đãi về thuế đối với doanh nghiệp tài trợ cho thư viện và phát "
                 "triển văn hóa đọc."],
    },
    "private": {
        "ach": ["Trên địa bàn có {n} thư viện tư nhân có phục vụ cộng đồng, trong năm đón {k} lượt bạn đọc.",
                "Trong năm có {n2} thư viện tư nhân mới thực hiện thông báo thành lập với Sở.",
                "Thư viện tỉnh hỗ trợ {k} bản sách luân chuyển cho các thư viện tư nhân có phục vụ cộng đồng."],
        "model": ["Thư viện tư nhân {model} do một giáo viên nghỉ hưu thành lập, mở cửa miễn phí cho học sinh, có "
                  "{k} bản sách."],
        "diff": ["Thư viện tư nhân chủ yếu tự phát, quy mô nhỏ, chưa đủ điều kiện thông báo thành lập theo Luật "
                 "Thư viện."],
        "prop": ["Đề nghị Bộ Văn hóa, Thể thao và Du lịch có cơ chế hỗ trợ sách, trang thiết bị cho thư viện tư nhân "
                 "có phục vụ cộng đồng."],
    },
    "community": {
        "ach": ["Toàn tỉnh có {m} thư viện cộng đồng đủ điều kiện theo Nghị định số 93/2020/NĐ-CP, trong đó {n} thư "
                "viện thành lập mới trong năm.",
                "Các thư viện cộng đồng phục vụ {k} lượt bạn đọc, chủ yếu là học sinh và người cao tuổi."],
        "model": ["Thư viện cộng đồng {model} tại {place} do Đoàn Thanh niên quản lý, luân chuyển sách hằng quý."],
        "diff": ["Nhiều thư viện cộng đồng chưa đạt tiêu chí về vốn tài liệu và diện tích tối thiểu theo quy định."],
    },
    "rooms": {
        "ach": ["Toàn tỉnh có {m} phòng đọc cơ sở và {n} không gian đọc tại {place}.",
                "Đã xây dựng mới {n} không gian đọc tại {place}, phục vụ {k} lượt người trong năm."],
        "model": ["Không gian đọc {model} tại {place} do người dân tự quản, mở cửa hằng ngày."],
        "diff": ["Phòng đọc cơ sở ít được bổ sung sách mới, nhiều nơi đóng cửa do không có người quản lý."],
    },
    "other_types": {
        "ach": ["Có {n} thư viện trong các cơ sở giáo dục, lực lượng vũ trang đã thực hiện thông báo hoạt động.",
                "Thư viện tỉnh luân chuyển {k} bản sách đến các thư viện trường học, thư viện đồn biên phòng trong "
                "năm."],
        "diff": ["Việc thống kê số liệu các loại hình thư viện ngoài công lập còn khó khăn do chưa có đầu mối quản "
                 "lý."],
    },
    "success": {
        "ach": ["Hoạt động cấp thẻ, phục vụ bạn đọc được duy trì thường xuyên; lượt người đến thư viện tỉnh "
                "{bien_luot} so với năm {prev}.",
                "Chuyển đổi số có bước tiến rõ rệt: {n} {tv_huyen} dùng chung phần mềm, kho số đạt {tl_so} "
                "tài liệu.",
                "Phong trào đọc sách lan tỏa sâu rộng với {m} hoạt động hưởng ứng Ngày Sách và Văn hóa đọc Việt Nam.",
                "{tvt} được Bộ trưởng tặng Bằng khen vì thành tích xuất sắc trong phát triển văn "
                "hóa đọc."],
        "model": ["Mô hình {model} được đánh giá là cách làm hay, đã nhân rộng ra {x} xã, phường."],
    },
    "problems": {
        "diff": ["Ngân sách chi cho hoạt động thư viện còn thấp, chủ yếu chi thường xuyên, không có kinh phí bổ sung "
                 "tài liệu cho thư viện cấp xã.",
                 "Đội ngũ cán bộ thư viện cấp xã làm kiêm nhiệm, thường xuyên thay đổi, chưa được đào tạo nghiệp vụ.",
                 "Cơ sở vật chất, trang thiết bị của nhiều {tv_huyen} đã xuống cấp, không đáp ứng yêu cầu phục vụ.",
                 "Việc thực hiện Nghị định số 93/2020/NĐ-CP còn lúng túng, nhất là quy định về điều kiện thành lập thư "
                 "viện cộng đồng.",
                 "Sau sắp xếp đơn vị hành chính, việc bàn giao tài sản, tài liệu của thư viện cấp "
                 "huyện cũ chưa có hướng "
                 "dẫn thống nhất.",
                 "Số lượng bạn đọc đến thư viện truyền thống có xu hướng giảm, trong khi dịch vụ số chưa phát triển "
                 "tương xứng.",
                 "Chế độ phụ cấp độc hại cho viên chức thư viện chưa được thực hiện do chưa có hướng dẫn cụ thể.",
                 "Chưa có phần mềm thống kê thư viện dùng chung nên số liệu tổng hợp từ cơ sở thiếu chính xác."],
    },
    "ministry_plus": {
        "gen": ["Bộ Văn hóa, Thể thao và Du lịch đã kịp thời ban hành các văn bản hướng dẫn, tạo hành lang pháp lý cho "
                "hoạt động thư viện.",
                "Các lớp tập huấn chuyên môn do Bộ tổ chức thiết thực, giúp cán bộ thư viện cơ sở nâng cao nghiệp vụ.",
                "Ngày Sách và Văn hóa đọc Việt Nam do Bộ phát động hằng năm có sức lan tỏa lớn.",
                "Bộ đã quan tâm hướng dẫn các địa phương triển khai Chương trình Chuyển đổi số ngành thư viện."],
    },
    "ministry_minus": {
        "diff": ["Một số văn bản hướng dẫn của Bộ ban hành chậm, chưa kịp thời với yêu cầu sắp xếp tổ chức bộ máy.",
                 "Việc hướng dẫn biểu mẫu thống kê thư viện còn thay đổi nhiều, gây khó khăn cho cơ sở khi tổng hợp.",
                 "Các lớp tập huấn của Bộ chủ yếu dành cho thư viện cấp tỉnh, cán bộ cấp xã ít được tham gia."],
        "diff2024": ["Bộ chưa có hướng dẫn cụ thể về mô hình thư viện cấp huyện sáp nhập vào Trung tâm Văn hóa - Thể "
                     "thao."],
        "diff2025": ["Bộ chưa có hướng dẫn cụ thể về mô hình thư viện sau khi kết thúc hoạt động cấp huyện."],
        "prop": ["Kiến nghị Bộ tăng cường kiểm tra, hướng dẫn trực tiếp tại các địa phương miền núi, biên giới."],
    },
    "plans": {
        "plan": ["Tiếp tục triển khai hiệu quả Luật Thư viện và Đề án Phát triển văn hóa đọc trong cộng đồng đến năm "
                 "2030.",
                 "Phấn đấu năm {next} cấp mới {the2} thẻ, phục vụ {luot2} lượt bạn đọc.",
                 "Đẩy mạnh chuyển đổi số, hoàn thành số hóa {k} trang tài liệu địa chí trong năm {next}.",
                 "Tập trung kiện toàn mạng lưới thư viện cơ sở sau sắp xếp đơn vị hành chính.",
                 "Tổ chức các hoạt động hưởng ứng Ngày Sách và Văn hóa đọc Việt Nam năm {next} sâu rộng đến cấp xã.",
                 "Tăng cường đào tạo, bồi dưỡng nghiệp vụ cho {m} cán bộ thư viện cơ sở.",
                 "Huy động nguồn lực xã hội hóa để xây dựng thêm {n} tủ sách cộng đồng tại vùng sâu, vùng xa.",
                 "Nâng cấp phần mềm quản trị thư viện, liên thông dữ liệu với thư viện cấp xã.",
                 "Đa dạng hóa hình thức phục vụ lưu động, ưu tiên trường học và vùng đồng bào dân tộc thiểu số.",
                 "Tham mưu Ủy ban nhân dân tỉnh bố trí kinh phí bổ sung tài liệu cho thư viện cấp xã."],
    },
    "proposals": {
        "prop": ["Kiến nghị Bộ Văn hóa, Thể thao và Du lịch tăng cường tổ chức các lớp tập huấn chuyên môn, nghiệp vụ "
                 "cho cán bộ thư viện cấp xã.",
                 "Đề nghị Bộ hỗ trợ các tỉnh miền núi xe ô tô thư viện lưu động và sách cho thiếu nhi.",
                 "Đề nghị Bộ Văn hóa, Thể thao và Du lịch xây dựng phần mềm thống kê thư viện trực tuyến dùng chung "
                 "cho cả nước.",
                 "Kiến nghị Chính phủ bố trí nguồn kinh phí riêng cho văn hóa đọc trong Chương trình mục "
                 "tiêu quốc gia về phát triển văn hóa.",
                 "Đề nghị Chính phủ ban hành chế độ phụ cấp ưu đãi nghề đối với viên chức thư viện.",
                 "Đề nghị Bộ Tài chính hướng dẫn định mức chi cho hoạt động phục vụ lưu động của thư viện.",
                 "Đề nghị Bộ Nội vụ hướng dẫn số lượng người làm việc tối thiểu của thư viện cấp tỉnh.",
                 "Đề nghị Thư viện Quốc gia Việt Nam chia sẻ cơ sở dữ liệu thư mục và hỗ trợ biên mục tập trung.",
                 "Kiến nghị Ủy ban nhân dân tỉnh quan tâm bố trí kinh phí bổ sung tài liệu cho thư viện tỉnh tối thiểu "
                 "{m} triệu đồng mỗi năm.",
                 "Đề xuất Ủy ban nhân dân tỉnh bố trí cán bộ chuyên trách công tác thư viện tại các xã, phường.",
                 "Đề xuất Bộ Văn hóa, Thể thao và Du lịch tổ chức hội thảo chia sẻ kinh nghiệm về mô hình thư viện sau "
                 "sắp xếp đơn vị hành chính."],
        "prop2024": ["Đề nghị Bộ Văn hóa, Thể thao và Du lịch sớm ban hành hướng dẫn về tổ chức, hoạt động của thư "
                     "viện cấp huyện sau sắp xếp đơn vị hành chính cấp huyện, cấp xã.",
                     "Đề nghị Bộ Văn hóa, Thể thao và Du lịch sớm sửa đổi Thông tư về chế độ báo cáo thống kê ngành "
                     "thư viện cho phù hợp với thực tiễn ở cơ sở."],
        "prop2025": ["Đề nghị Bộ Văn hóa, Thể thao và Du lịch sớm ban hành hướng dẫn về tổ chức, hoạt động của thư "
                     "viện cấp xã sau khi kết thúc cấp huyện.",
                     "Đề nghị Bộ Văn hóa, Thể thao và Du lịch sớm sửa đổi Thông tư về chế độ báo cáo thống kê ngành "
                     "thư viện cho phù hợp với chính quyền địa phương hai cấp."],
    },
}

# Where each bullet of the outline takes its sentences from (a topic of the bank) and what it mostly holds.
_FIELDS = {
    "n1_danh_gia_chung": "general", "n211a_luat": "law", "n211a_vbqppl": "law", "n211a_de_an": "programmes",
    "n211b_tham_muu": "advice", "n211c_chinh_tri": "events", "n211c_phoi_hop_bo": "coop",
    "n211c_chi_dao_bo": "guidance",
    "n211d_ctmtqg": "ctmtqg", "n222_mo_hinh": "org", "n222_xay_dung_tn": "resources", "n222_xu_ly_tn": "resources",
    "n222_bao_quan": "resources", "n222_san_pham_dv": "services", "n222_van_hoa_doc": "reading",
    "n222_tv_so": "digital", "n222_truyen_thong": "comms", "n222_mang_luoi": "network", "n222_hop_tac_qt": "intl",
    "n222_phoi_hop": "coop", "n222_hieu_qua": "efficiency", "n222_cach_lam_hay": "reading",
    "n222_xa_hoi_hoa": "social", "n223_tu_nhan": "private", "n223_cong_dong": "community", "n223_phong_doc": "rooms",
    "n223_khac": "other_types", "n224a_thanh_tuu": "success", "n224b_vbqppl": "law", "n224b_khac": "problems",
    "n13_uu_diem": "ministry_plus", "n13_han_che": "ministry_minus", "n2_phuong_huong": "plans",
    "n2_nhiem_vu": "plans", "n2_giai_phap": "plans", "n2_de_xuat": "proposals"}
_ROLES = {"n224b_vbqppl": "diff", "n224b_khac": "diff", "n13_han_che": "diff", "n13_uu_diem": "gen",
          "n2_phuong_huong": "plan", "n2_nhiem_vu": "plan", "n2_giai_phap": "plan", "n2_de_xuat": "prop"}
KINDS = {"ach": "achievement", "model": "model", "diff": "difficulty", "prop": "proposal", "plan": "plan",
         "gen": "general"}
_SISTERS = ["Xiêng Khoảng", "Hủa Phăn", "Luông Pha Băng", "Chăm Pa Sắc", "Sạ Vẳn Nạ Khệt"]


# Anniversaries a library marks with an exhibition (a round number of years: every fifth).
_ANNIVERSARIES = [("Chiến thắng Điện Biên Phủ", 1954), ("Ngày Giải phóng miền Nam, thống nhất đất nước", 1975),
                  ("Cách mạng Tháng Tám và Quốc khánh 2/9", 1945), ("Ngày sinh Chủ tịch Hồ Chí Minh", 1890),
                  ("Ngày thành lập Đảng Cộng sản Việt Nam", 1930)]


def _anniversary(year: int) -> str:
    """The round anniversary of ``year`` ("70 năm Chiến thắng Điện Biên Phủ" in 2024), else the holidays."""
    for name, since in _ANNIVERSARIES:
        if year > since and (year - since) % 5 == 0:
            return f"{year - since} năm {name}"
    return "các ngày lễ lớn của đất nước"


def _change(now: int, before: int) -> str:
    if not before:
        return "chưa so sánh được"
    pct = (now - before) / before * 100
    return f"{'tăng' if pct >= 0 else 'giảm'} {abs(pct):.1f}%".replace(".", ",")


def _slots(province: Province, year: int, now: dict, before: dict, rng: random.Random) -> dict[str, object]:
    """What a sentence of the bank may name: the province's own year-N figures, and numbers drawn afresh."""
    def fig(ind: str) -> int:
        return now.get((ind, "tinh"), 0)
    library = "Thư viện " + province.full_name[0].lower() + province.full_name[1:]
    return {"year": year, "prev": year - 1, "next": year + 1, "tvt": library, "ky_niem": _anniversary(year),
            "tv_huyen": "thư viện cấp huyện" if year < 2025 else "chi nhánh thư viện tỉnh",
            "don_vi": "huyện, thị xã, thành phố" if year < 2025 else "xã, phường, đặc khu",
            "the": fmt_number(fig("the_cap_moi")), "luot": fmt_number(fig("luot_tai_tv")),
            "tl": fmt_number(fig("luot_tl")), "truy_cap": fmt_number(fig("luot_truy_cap")),
            "bo_sung": fmt_number(fig("bo_sung")), "tl_so": fmt_number(fig("tl_so")),
            "the2": fmt_number(round(fig("the_cap_moi") * 1.05, -1)),
            "luot2": fmt_number(round(fig("luot_tai_tv") * 1.05, -2)),
            "bien_the": _change(fig("the_cap_moi"), before.get(("the_cap_moi", "tinh"), 0)),
            "bien_luot": _change(fig("luot_tai_tv"), before.get(("luot_tai_tv", "tinh"), 0)),
            "bien_truy_cap": _change(fig("luot_truy_cap"), before.get(("luot_truy_cap", "tinh"), 0)),
            "n": rng.randint(2, 12), "n2": rng.randint(2, 9), "m": rng.randint(12, 180), "m2": rng.randint(8, 30),
            "x": rng.randint(5, 60), "k": fmt_number(rng.randint(1_200, 48_000)),
            "k2": fmt_number(rng.randint(50_000, 400_000)),
            "pct": f"{rng.uniform(3, 30):.1f}".replace(".", ","), "model": rng.choice(_MODELS),
            "place": rng.choice(_PLACES), "partner": rng.choice(_PARTNERS), "software": rng.choice(_SOFTWARE),
            "sister": rng.choice(_SISTERS)}


def _repeats(sentence: str) -> bool:
    """A sentence that says the same two words twice ("tủ sách “Tủ sách Bác Hồ”"); "thư viện" and "thông tin"
    may recur (the outline itself repeats them). A template filled so is filled again."""
    words = re.findall(r"\w+", sentence.lower())
    pairs = [" ".join(words[i:i + 2]) for i in range(len(words) - 1)]
    return any(pairs.count(p) > 1 for p in set(pairs) - {"thư viện", "thông tin"})


def _draws(role: str, rng: random.Random) -> list[str]:
    """The kinds of sentence one bullet holds, in the order a report writes them."""
    if role == "diff":
        return ["diff"] * rng.randint(2, 3) + ["prop"] * (rng.random() < 0.2)
    if role == "prop":
        return ["prop"] * rng.randint(2, 4)
    if role in ("plan", "gen"):
        return [role] * rng.randint(2, 3)
    return (["gen"] * (rng.random() < 0.4) + ["ach"] * rng.randint(1, 2) + ["model"] * (rng.random() < 0.5)
            + ["diff"] * (rng.random() < 0.3) + ["prop"] * (rng.random() < 0.05))


def narrative_sentences(form: Form, province: Province, seed: int = 2024) -> dict[str, list[tuple[str, str]]]:
    """Every narrative bullet of ``province``'s return: its sentences, each with its kind (``KINDS``' values).
    The bullets of one topic share a shuffled bank, so a province does not write one sentence twice; a kind the
    topic lacks is taken from a neighbouring pool (difficulties from "problems", proposals from "proposals")."""
    rng = random.Random(f"{seed}:{form.year}:{province.key}:narratives")
    now, before = _figures(form, province, seed), _previous_figures(form, province, seed)
    pools: dict[tuple[str, str], list[str]] = {}

    def take(topic: str, kind: str) -> str | None:
        for t in (topic, {"diff": "problems", "prop": "proposals"}.get(kind, topic)):
            key = (t, kind)
            if key not in pools:
                era = "2025" if form.year >= 2025 else "2024"  # the district level ended in 2025
                bank = list(BANK[t].get(kind, [])) + BANK[t].get(kind + era, [])
                pools[key] = rng.sample(bank, len(bank))
            if pools[key]:
                return pools[key].pop()
        return None

    out = {}
    for f in form.fields_of("narrative"):
        topic, role = _FIELDS.get(f.id, "general"), _ROLES.get(f.id, "ach")
        sentences = []
        for kind in _draws(role, rng):
            template = take(topic, kind)
            tries = (template.format(**_slots(province, form.year, now, before, rng))
                     for _ in range(8 if template else 0))
            text = next((t for t in tries if not _repeats(t)), None)
            if text is not None:
                sentences.append((KINDS[kind], text))
        out[f.id] = sentences or [("general", f"Năm {form.year}, nội dung này được triển khai theo kế hoạch.")]
    return out


BASE_YEAR = 2023  # figures of this year (and earlier) are drawn afresh; every later year follows from the one before

# Year-N figures of one public level per library (cấp huyện) or per unit (cấp xã: libraries and commune reading
# rooms), near the domain notes' magnitudes: cards, visits at the library, items served per visit, stock.
_PER_UNIT = {"huyen": (290, 14_000, 1.6, 18_000), "xa": (8, 3_000, 1.3, 1_500)}
_ACTIVITY = ("the_cap_moi", "the_doi_moi", "the_hieu_luc", "luot_tai_tv", "luot_ngoai_tv", "luot_tl",
             "luot_truy_cap", "bo_sung", "bao_bo_sung", "sach_luan_chuyen", "tl_so", "luot_phuc_vu")


def _level_figures(level: str, n_libs: int, rooms: int, scale: float, rng: random.Random) -> dict[str, int]:
    """Base-year figures of one public level of one province."""
    if level == "tinh":
        cards = int(rng.uniform(1_500, 7_000) * scale)
        visits = int(cards * rng.uniform(35, 55))
        stock = int(rng.uniform(120_000, 600_000) * scale)
        return {"so_thu_vien": 1, "tv_doc_lap": 1, "tv_trong_ttvh": 0, "the_cap_moi": cards,
                "the_doi_moi": int(cards * rng.uniform(0.3, 0.8)), "the_hieu_luc": int(cards * rng.uniform(2.2, 3.2)),
                "luot_tai_tv": visits, "luot_ngoai_tv": int(visits * rng.uniform(0.15, 0.45)),
                "luot_tl": int(visits * rng.uniform(1.6, 2.4)), "luot_truy_cap": int(rng.uniform(1e5, 9e5) * scale),
                "von_tl": stock, "bo_sung": int(stock * rng.uniform(0.02, 0.05)),
                "bao_bo_sung": rng.randint(80, 400), "sach_luan_chuyen": int(stock * rng.uniform(0.03, 0.12)),
                "tl_so": int(rng.uniform(2_000, 80_000) * scale)}
    cards_per, visits_per, items_per, stock_per = _PER_UNIT[level]
    units = n_libs + rooms
    cards = int(units * cards_per * rng.uniform(0.6, 1.4))
    visits = int(units * visits_per * rng.uniform(0.8, 1.2))
    stock = int(units * stock_per * rng.uniform(0.7, 1.3))
    merged = round(n_libs * rng.uniform(0.2, 0.7) if level == "huyen" else n_libs * rng.uniform(0.5, 0.9))
    return {"so_thu_vien": n_libs, "tv_doc_lap": n_libs - merged, "tv_trong_ttvh": merged, "the_cap_moi": cards,
            "the_doi_moi": int(cards * rng.uniform(0.2, 0.6)), "the_hieu_luc": int(cards * rng.uniform(2.0, 2.8)),
            "luot_tai_tv": visits, "luot_ngoai_tv": int(visits * rng.uniform(0.05, 0.3)),
            "luot_tl": int(visits * items_per * rng.uniform(0.9, 1.3)),
            "luot_truy_cap": int(n_libs * 300 * rng.uniform(0, 2)) if level == "huyen" else 0,
            "von_tl": stock, "bo_sung": int(stock * rng.uniform(0.02, 0.05)),
            "bao_bo_sung": int(n_libs * rng.uniform(5, 20) if level == "huyen" else n_libs * rng.uniform(0, 3)),
            "sach_luan_chuyen": int(stock * rng.uniform(0.02, 0.08)) if level == "huyen" else 0,
            "tl_so": int(n_libs * rng.uniform(0, 80)) if level == "huyen" else 0}


def _type_figures(communes: int, scale: float, rng: random.Random) -> dict[tuple[str, str], int]:
    """Base-year counts of the other library types, and their visits."""
    private = rng.choice([0, 0, 1, 1, 1, 2])  # about 50 in the country (DOMAIN.md: 48-61)
    counts = {("so_thu_vien", "tu_nhan"): (private, (300, 4000)),
              ("so_thu_vien", "cong_dong"): (rng.randint(0, int(4 * scale) + 1), (200, 3000)),
              ("so_phong_doc", "phong_doc_co_so"): (int(communes * rng.uniform(1.1, 1.7)), (50, 600)),
              ("so_phong_doc", "khong_gian_doc"): (rng.randint(3, int(40 * scale) + 4), (100, 2000)),
              ("so_thu_vien", "khac"): (rng.randint(0, 8), (100, 3000)),
              ("so_xe", "o_to"): (rng.choice([0, 1, 1, 1, 2]), (4000, 30000))}
    out = {("so_tv_moi", "tu_nhan"): int(private > 0 and rng.random() < 0.1)}
    for (ind, dim), (n, per) in counts.items():
        out[(ind, dim)] = n
        out[("luot_phuc_vu", dim)] = n * rng.randint(*per)
    return out


def _consistent(fig: dict[tuple[str, str], int], levels: Iterable[str]) -> dict[tuple[str, str], int]:
    """The relations every return obeys: valid cards ≥ new cards, merged + independent = libraries, the cars'
    visits inside the outreach visits."""
    for lv in levels:
        cards = fig.get(("the_cap_moi", lv), 0)
        fig[("the_hieu_luc", lv)] = max(fig.get(("the_hieu_luc", lv), 0), int(cards * 1.8))
        libs, merged = fig.get(("so_thu_vien", lv), 0), fig.get(("tv_trong_ttvh", lv), 0)
        fig[("tv_trong_ttvh", lv)] = min(merged, libs)
        fig[("tv_doc_lap", lv)] = libs - fig[("tv_trong_ttvh", lv)]
    outreach = sum(v for (ind, dim), v in fig.items() if ind == "luot_ngoai_tv" and dim in levels)
    fig[("luot_phuc_vu", "o_to")] = min(fig.get(("luot_phuc_vu", "o_to"), 0), int(outreach * 0.6))
    return fig


def _base(p: Province, year: int, seed: int, levels: tuple[str, ...]) -> dict[tuple[str, str], int]:
    rng = random.Random(f"{seed}:{year}:{p.key}")
    districts, communes = size(p)
    scale = max(0.4, min(3.0, communes / 170))
    communal = max(1, round(communes * rng.uniform(0.2, 0.4)))
    libs = {"tinh": (1, 0), "huyen": (max(1, round(districts * rng.uniform(0.85, 1.0))), 0),
            "xa": (communal, round(communal * rng.uniform(1.8, 2.4)))}  # commune libraries, reading rooms
    fig: dict[tuple[str, str], int] = {}
    for lv in levels:
        for ind, v in _level_figures(lv, *libs[lv], scale, rng).items():
            fig[(ind, lv)] = v
    fig[("so_phong_doc", "phong_doc_xa")] = libs["xa"][1]
    fig.update(_type_figures(communes, scale, rng))
    return _consistent(fig, levels)


def _next_year(before: dict[tuple[str, str], int], rng: random.Random, levels: tuple[str, ...]
               ) -> dict[tuple[str, str], int]:
    """One year on: activity grows or shrinks a little (province-wide trend and noise), stock grows by what was
    added less what was weeded out, counts of libraries barely move, a handful of private libraries open."""
    trend = rng.uniform(-0.04, 0.12)
    fig = {}
    for (ind, dim), v in before.items():
        if ind in _ACTIVITY:
            fig[(ind, dim)] = round(v * (1 + trend + rng.uniform(-0.04, 0.04)))
        elif ind == "von_tl":
            fig[(ind, dim)] = v
        elif ind in ("so_phong_doc",) and v > 20:
            fig[(ind, dim)] = round(v * (1 + rng.uniform(-0.01, 0.04)))
        else:
            fig[(ind, dim)] = v
    for (ind, dim), v in before.items():
        if ind == "von_tl":
            fig[(ind, dim)] = v + fig.get(("bo_sung", dim), 0) - round(v * rng.uniform(0.005, 0.02))
    new = int(rng.random() < 0.08)  # about five new private libraries a year in the country
    fig[("so_tv_moi", "tu_nhan")] = new
    fig[("so_thu_vien", "tu_nhan")] = before.get(("so_thu_vien", "tu_nhan"), 0) + new
    opened = fig[("so_thu_vien", "tu_nhan")] - before.get(("so_thu_vien", "tu_nhan"), 0)
    if opened and not before.get(("so_thu_vien", "tu_nhan")):
        fig[("luot_phuc_vu", "tu_nhan")] = rng.randint(300, 4000)
    return _consistent(fig, levels)


def _carried(spec, year: int) -> dict[str, str]:
    return {lv.id: lv.carried_into for lv in spec.levels if not lv.exists_in(year) and lv.carried_into}


def _merged(form: Form, p: Province, seed: int) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Last year's figures of a province of the new list: its old provinces' figures summed, ended levels carried
    as the spec says (what the rebased dataset holds); and the ended levels' own figures, summed."""
    prev_form = build_form(form.year - 1, form.spec)
    carry = _carried(form.spec, form.year)
    summed: dict[tuple[str, str], int] = {}
    ended: dict[tuple[str, str], int] = {}
    for old in components(p.code):
        for (ind, dim), v in _figures(prev_form, province(form.year - 1, old), seed).items():
            if dim in carry:
                ended[(ind, dim)] = ended.get((ind, dim), 0) + v
            key = (ind, carry.get(dim, dim))
            summed[key] = summed.get(key, 0) + v
    return summed, ended


def _reorganised(form: Form, p: Province, seed: int) -> dict[tuple[str, str], int]:
    """The first year of a new province list: one provincial library per new province, and each former
    district library became a branch of it, was handed to a commune, merged into another unit or dissolved."""
    rng = random.Random(f"{seed}:{form.year}:{p.key}:reform")
    summed, ended = _merged(form, p, seed)
    carry = _carried(form.spec, form.year)
    levels = tuple(lv.id for lv in form.levels)
    fig = dict(summed)
    for dim, into in carry.items():
        n = ended.get(("so_thu_vien", dim), 0)
        branch = round(n * rng.uniform(0.3, 0.6))
        handed = round((n - branch) * rng.uniform(0.5, 0.9))
        merged = round((n - branch - handed) * rng.uniform(0.5, 1.0))
        fates = {"thanh_chi_nhanh": branch, "giao_xa": handed, "sap_nhap": merged,
                 "giai_the": n - branch - handed - merged}
        for fate, count in fates.items():
            fig[("tv_sap_xep", fate)] = count
        moved, lost = (branch / n, (merged + fates["giai_the"]) / n) if n else (0.0, 0.0)
        top = levels[0]
        for (ind, d), v in ended.items():
            if d != dim or ind in ("so_thu_vien", "tv_doc_lap", "tv_trong_ttvh"):
                continue
            fig[(ind, into)] -= round(v * (moved + lost * 0.6))
            fig[(ind, top)] = fig.get((ind, top), 0) + round(v * moved)
        fig[("so_thu_vien", into)] -= n - handed
        fig[("so_thu_vien", top)] = 1
        fig[("tv_trong_ttvh", into)] = round(fig[("so_thu_vien", into)] * rng.uniform(0.5, 0.9))
    for key in [k for k in fig if k[0] in ("tv_doc_lap", "tv_trong_ttvh") and k[1] == levels[0]]:
        fig[key] = 1 if key[0] == "tv_doc_lap" else 0
    return _next_year(fig, rng, levels) | {k: v for k, v in fig.items() if k[0] == "tv_sap_xep"}


@cache
def _figures_cached(spec, year: int, key: str, seed: int) -> dict[tuple[str, str], int]:
    form = build_form(year, spec)
    code_list, code = key.split(":")
    p = province(year, code)
    levels = tuple(lv.id for lv in form.levels)
    if year <= BASE_YEAR:
        return _base(p, year, seed, levels)
    if code_list_for_year(year - 1) != code_list:
        return _reorganised(form, p, seed)
    rng = random.Random(f"{seed}:{year}:{key}")
    return _next_year(_figures(build_form(year - 1, spec), province(year - 1, code), seed), rng, levels)


def _figures(form: Form, p: Province, seed: int) -> dict[tuple[str, str], int]:
    """Year-N figures of a province: drawn in the base year, then each year from the year before."""
    return dict(_figures_cached(form.spec, form.year, p.key, seed))


def _previous_figures(form: Form, p: Province, seed: int) -> dict[tuple[str, str], int]:
    """What the province reports as year N−1: exactly its year N−1 figures (summed through a merger)."""
    if form.year - 1 < 2000:
        return {}
    if code_list_for_year(form.year - 1) != p.code_list:
        return _merged(form, p, seed)[0]
    return _figures(build_form(form.year - 1, form.spec), province(form.year - 1, p.code), seed)


def _explanation(form: Form, p: Province) -> str:
    if code_list_for_year(form.year - 1) != p.code_list:
        return ("Sắp xếp đơn vị hành chính từ 01/7/2025: số năm trước là tổng các tỉnh cũ; thư viện cấp huyện cũ "
                "chuyển thành chi nhánh thư viện tỉnh hoặc giao về xã.")
    return "Thay đổi do sắp xếp lại mạng lưới và mở thêm điểm phục vụ trong năm."


def sample_values(form: Form, province: Province, seed: int = 2024) -> dict[str, object]:
    """A complete, consistent, plausible return of ``province`` for ``form``'s year, whose year N−1 column is
    the province's own year N−1 return (summed over the old provinces after a merger)."""
    rng = random.Random(f"{seed}:{form.year}:{province.key}:text")
    now, before = _figures(form, province, seed), _previous_figures(form, province, seed)
    values: dict[str, object] = {}
    for row in form.rows:
        if not row.is_total:
            values[row.n.id] = now.get((row.indicator, row.dim), 0)
            values[row.p.id] = before.get((row.indicator, row.dim), 0)
    for row in form.rows:
        if row.is_total:
            parts = [r for r in form.rows if r.table == row.table and r.indicator == row.indicator and not r.is_total]
            values[row.n.id] = sum(values[r.n.id] for r in parts)
            values[row.p.id] = sum(values[r.p.id] for r in parts)
    for row in form.rows:
        n, p = values[row.n.id], values[row.p.id]
        if p and abs(n - p) / p > form.spec.swing_threshold_pct / 100:
            values[row.gc.id] = _explanation(form, province)
    for fid, sentences in narrative_sentences(form, province, seed).items():
        values[fid] = " ".join(text for _, text in sentences)
    values.update(sender_values(form, province))
    values.update({
        "bia_don_vi_soan": "Thư viện " + province.full_name.replace("Tỉnh ", "tỉnh ").replace("Thành phố ",
                                                                                             "thành phố "),
        "bia_nguoi_phu_trach": rng.choice(_PEOPLE),
        "bia_dien_thoai": f"0{rng.randint(200, 299)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "bia_email": f"thuvien.{slug(province.name).replace('-', '')}@example.gov.vn",
        "bia_ngay": dt.date(form.year, 12, rng.randint(1, 12)),
        "bia_thu_truong": rng.choice(_PEOPLE),
    })
    values.pop(PROVINCE_FIELD, None)
    return values


@dataclass(frozen=True)
class _Job:
    """What a flaw needs to write the file(s) of one province."""

    form: Form
    out: Path
    province: Province
    values: dict
    provinces: list[Province]
    password: str

    @property
    def name(self) -> str:
        return template_filename(self.form, self.province)

    def write(self, name: str, values: dict, days: int = 0, **opts) -> Path:
        return write_template(self.form, self.out / name, TemplateOptions(
            province=self.province, values=values, password=self.password, generated_at=_saved(self.form, days),
            **opts))


def _clean(job: _Job) -> list[Path]:
    return [job.write(job.name, job.values)]


def _text_numbers(job: _Job) -> list[Path]:
    v = dict(job.values, so_xe_o_to_p="1,5")  # a fraction where a count is asked: refused
    big = next(r.n.id for r in job.form.rows if job.values[r.n.id] >= 1_000_000)  # two groups: one reading
    one = next(r.n.id for r in job.form.rows if 1_000 <= job.values[r.n.id] < 1_000_000)  # one group: "5.731"
    for fid in (big, one):
        v[fid] = f"{job.values[fid]:,}".replace(",", ".")
    return [job.write(job.name, v)]


def _missing_section(job: _Job) -> list[Path]:
    v = {k: x for k, x in job.values.items()  # the narratives and the year-N figures of section 2.3
         if not ((f := job.form.fields.get(k)) and f.section == "2.3" and f.kind in ("narrative", "number")
                 and f.column in (None, "n"))}
    return [job.write(job.name, v)]


def _swing(job: _Job) -> list[Path]:
    v = dict(job.values)
    v["luot_tl_tinh_n"] = job.values["luot_tl_tinh_n"] * 3
    v["luot_tl_tong_n"] = job.values["luot_tl_tong_n"] + 2 * job.values["luot_tl_tinh_n"]
    v.pop("luot_tl_tinh_gc", None)
    return [job.write(job.name, v)]


def _old_template(job: _Job) -> list[Path]:
    return [job.write(job.name, job.values, spec_version="2023.1")]


def _resubmission(job: _Job) -> list[Path]:
    wrong = dict(job.values, the_cap_moi_tong_n=job.values["the_cap_moi_tong_n"] + 250)
    first = job.write(job.name.replace(".xlsx", "_lan-1.xlsx"), wrong, days=-5)
    return [first, job.write(job.name, job.values)]


def _wrong_province(job: _Job) -> list[Path]:
    after = job.provinces[job.provinces.index(job.province) + 1]
    return [job.write(template_filename(job.form, after), job.values)]


def _corrupt(job: _Job) -> list[Path]:
    path = job.write(job.name, job.values)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [path]


@dataclass(frozen=True)
class Flaw:
    """A problem planted in one sample return, with the finding codes the checks must give for it."""

    id: str
    position: int  # index of the province in the year's list
    description: str
    codes: frozenset[str]  # codes the file(s) of this province must carry (and no other warning or error)
    write: Callable[[_Job], list[Path]] = _clean
    hides_next: bool = False  # the next province sends no file of its own


FLAWS = (
    Flaw("text-numbers", 1, "Số liệu gõ dạng chữ: '1.234.567' và '5.731' (một nhóm hàng nghìn) đọc được (thông tin), "
         "'1,5' không thể là số đếm (lỗi).", frozenset({"V01", "V04"}), _text_numbers),
    Flaw("missing-section", 2, "Bỏ trống cả trang “2.3 Loại hình khác” và bảng số liệu 2.3 năm N.",
         frozenset({"R01"}), _missing_section),
    Flaw("swing", 3, "Số lượt tài nguyên thông tin cấp tỉnh tăng gấp ba mà không giải thích.",
         frozenset({"R04"}), _swing),
    Flaw("old-template", 4, "Điền vào mẫu phiên bản cũ (2023.1).", frozenset({"I03"}), _old_template),
    Flaw("resubmission", 5, "Gửi hai lần: lần đầu sai tổng số thẻ, lần sau đã sửa.", frozenset({"L01", "L02", "R02"}),
         _resubmission),
    Flaw("wrong-province", 6, "Tệp của tỉnh này đặt tên theo tỉnh kế tiếp (gửi nhầm); tỉnh kế tiếp không có tệp.",
         frozenset({"I05"}), _wrong_province, hides_next=True),
    Flaw("corrupt", 8, "Tệp bị hỏng khi gửi (chỉ còn một nửa).", frozenset({"F03"}), _corrupt),
)


_SAVED = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)


def _saved(form: Form, days: int = 0) -> dt.datetime:
    return _SAVED.replace(year=form.year) + dt.timedelta(days=330 + days)


SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xltx", ".xlsb"}


def write_samples(form: Form, out_dir: Path, seed: int = 2024, flaws: bool = False,
                  password: str = DEFAULT_PASSWORD,
                  progress: Callable[[Iterable], Iterable] = lambda it: it,
                  jobs: int = os.cpu_count() or 1, overwrite: bool = False) -> list[Path]:
    """A filled return for every province of ``form``'s year (and the flawed ones with ``flaws``), written by
    ``jobs`` forked processes; never into a folder that already holds spreadsheets without ``overwrite`` (made-up
    returns among real ones would be counted as real)."""
    there = sorted(p for p in Path(out_dir).glob("*") if p.suffix.lower() in SPREADSHEET_SUFFIXES) \
        if Path(out_dir).is_dir() and not overwrite else []
    if there:
        names = ", ".join(p.name for p in there[:3]) + (f" và {len(there) - 3} tệp khác" if len(there) > 3 else "")
        raise ValueError(f"Không ghi: thư mục {out_dir} đã có {len(there)} bảng tính ({names}); báo cáo mẫu ghi "
                         "vào đó sẽ lẫn với (hoặc thay) báo cáo thật. Hãy chọn thư mục trống, hoặc thêm --overwrite "
                         "nếu đó chỉ là báo cáo mẫu cũ.")
    provinces = list(provinces_for_year(form.year))
    by_position = {f.position: f for f in FLAWS} if flaws else {}
    silent = {f.position + 1 for f in by_position.values() if f.hides_next}
    made = forked_map(_write_one, (form, out_dir, seed, password, provinces, by_position),
                      [i for i in range(len(provinces)) if i not in silent], progress, jobs)
    return [path for paths in made for path in paths]


def _write_one(run: tuple, i: int) -> list[Path]:
    form, out_dir, seed, password, provinces, by_position = run
    job = _Job(form, out_dir, provinces[i], sample_values(form, provinces[i], seed), provinces, password)
    return by_position[i].write(job) if i in by_position else _clean(job)
