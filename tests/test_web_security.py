"""Security of the collection's pages: scopes, one-time form tokens, hostile uploads, limits, escaping."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from libstats.collection.web import Limits, create_app

from . import corpus as c
from .collecting import collection, csrf


@pytest.fixture
def site(tmp_path, tmp_path_factory):
    col, links = collection(tmp_path, tmp_path_factory)
    return col, links, TestClient(create_app(col.root, Limits(upload_bytes=2 * 2**20, uploads=5)))


def post_file(client, link, token, name, data: bytes):
    return client.post(f"{link}/gui", data={"csrf": token}, files={"tep": (name, data)})


def test_a_province_link_sees_and_changes_only_its_own(site, tmp_path):
    col, links, client = site
    hn, hg = links["01"], links["02"]
    r = post_file(client, hn, csrf(client.get(hn).text), "hn.xlsx", c.filled(tmp_path / "a.xlsx").read_bytes())
    own = r.url.path.removeprefix(hn)  # /tep/1
    assert client.get(hn + own).status_code == 200
    for path in (hg + own, hg + own + "/phan-hoi", links["BO"].replace("/bo/", "/t/"), hn.replace("/t/", "/bo/")):
        r = client.get(path)
        assert r.status_code == 404 and "hn.xlsx" not in r.text
    assert "hn.xlsx" not in client.get(hg).text
    # a token issued on Hà Nội's page does not post to Hà Giang's
    r = post_file(client, hg, csrf(client.get(hn).text), "x.xlsx", b"PK")
    assert r.status_code == 403 and len(col.register.files(c.province(2024, "02").key)) == 0
    assert client.get("/t/" + "A" * 43).status_code == 404


def test_forged_and_replayed_posts_are_refused(site, tmp_path):
    col, links, client = site
    data = c.filled(tmp_path / "a.xlsx").read_bytes()
    assert post_file(client, links["01"], "", "a.xlsx", data).status_code == 403
    assert post_file(client, links["01"], "forged-token", "a.xlsx", data).status_code == 403
    token = csrf(client.get(links["01"]).text)
    assert post_file(client, links["01"], token, "a.xlsx", data).status_code == 200
    assert post_file(client, links["01"], token, "a.xlsx", data).status_code == 403  # replay
    bo_token = csrf(client.get(links["BO"]).text)
    r = client.post(f"{links['BO']}/duyet", data={"csrf": bo_token, "tinh": c.HANOI.key, "tep": "1"})
    assert r.status_code == 200
    r = client.post(f"{links['BO']}/mo-lai", data={"csrf": bo_token, "tinh": c.HANOI.key})  # replay
    assert r.status_code == 403 and col.register.approvals()
    r = client.post(f"{links['BO']}/mo-lai", data={"csrf": csrf(client.get(links["01"]).text), "tinh": c.HANOI.key})
    assert r.status_code == 403  # a province's token is not the Ministry's
    assert len(col.register.files()) == 1


@pytest.mark.parametrize("name,maker,code", [
    ("bomb.xlsx", lambda t: c.zip_bomb(t / "bomb.xlsx").read_bytes(), "F06"),
    ("mat-khau.xlsx", lambda t: c.encrypted(c.filled(t / "e0.xlsx"), t / "e.xlsx").read_bytes(), "F04"),
    ("bao-cao.pdf", lambda t: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "F01"),
    ("rong.xlsx", lambda t: b"", "F02"),
])
def test_hostile_uploads_get_their_finding_and_the_server_stays_up(site, tmp_path, name, maker, code):
    col, links, client = site
    r = post_file(client, links["01"], csrf(client.get(links["01"]).text), name, maker(tmp_path))
    assert r.status_code == 200 and "Không chấp nhận" in r.text and f'<span class="code">{code}</span>' in r.text
    assert client.get(links["01"]).status_code == 200
    assert [f.code for f in col.register.files()[0].findings] == [code]


def test_a_100_mb_upload_is_refused_unread_with_F06(tmp_path, tmp_path_factory):
    col, links = collection(tmp_path, tmp_path_factory)
    client = TestClient(create_app(col.root))  # the default limit, 20 MB
    r = post_file(client, links["01"], csrf(client.get(links["01"]).text), "lon.xlsx", b"\0" * (100 * 2**20))
    assert r.status_code == 413 and '<span class="code">F06</span>' in r.text and "lớn hơn 20 MB" in r.text
    assert list(col.inbox.iterdir()) == [] and client.get(links["01"]).status_code == 200


def test_uploads_are_rate_limited_per_link(site, tmp_path):
    col, links, client = site
    codes = []
    for _ in range(6):
        codes.append(post_file(client, links["01"], csrf(client.get(links["01"]).text), "x.xlsx", b"x").status_code)
    assert codes == [200] * 5 + [429]
    assert post_file(client, links["02"], csrf(client.get(links["02"]).text), "x.xlsx", b"x").status_code == 200


def test_texts_from_files_and_requests_are_escaped(site, tmp_path):
    col, links, client = site
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>.xlsx'
    r = post_file(client, links["01"], csrf(client.get(links["01"]).text), hostile,
                  c.filled(tmp_path / "a.xlsx").read_bytes())
    for page in (r.text, client.get(links["01"]).text):
        assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert "<script>" not in client.get(links["01"] + "?tb=<script>").text


def test_a_streamed_upload_without_a_length_is_cut_at_the_limit(site):
    col, links, client = site
    token = csrf(client.get(links["01"]).text)
    head = (f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n--b\r\n'
            'Content-Disposition: form-data; name="tep"; filename="lon.xlsx"\r\n\r\n').encode()

    def body():  # a generator: sent chunked, without Content-Length
        yield head
        for _ in range(8):
            yield b"\0" * 2**20
        yield b"\r\n--b--\r\n"

    r = client.post(f"{links['01']}/gui", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and '<span class="code">F06</span>' in r.text
    assert list(col.inbox.iterdir()) == [] and client.get(links["01"]).status_code == 200
