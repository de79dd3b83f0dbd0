"""The Starlette application of a collection folder. Server-rendered pages, no JavaScript.

Security, as tested in tests/test_web_security.py:
- a secret link (``secrets.token_urlsafe(32)``, stored as a sha256 hash) opens one scope: one province's
  pages or the Ministry's; every file id in a URL is checked against that scope;
- every form carries a one-time token bound to the scope (a forged, foreign or replayed post is refused);
- uploads are limited in size (the body is counted while it streams) and in rate per link;
- nothing from a request becomes a path: files are stored under names libstats chooses, and downloads are
  looked up in the register; every text from a file is escaped by Jinja2's autoescape;
- received files are parsed only in the isolated check workers, never in the server's process.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from libstats.collection.collect import (MINISTRY, VN_TZ, approve, collection_status, decide_correction,
                                         feedback_workbook, open_collection, receive_upload, recheck, reopen,
                                         review_warning, consolidation_notice)
from libstats.model.findings import Severity, Verdict, fmt_number, fmt_rate, make

__all__ = ["create_app", "Limits"]

_TOKEN_LIFE = dt.timedelta(hours=4)
_NOTICES = {"xem": "Đã đánh dấu cảnh báo là đã xem.", "duyet": "Đã duyệt báo cáo của tỉnh.",
            "mo-lai": "Đã mở lại báo cáo của tỉnh.", "tong-hop": "Đã chạy tổng hợp. Tải các tệp ở dưới.",
            "chon-tep": "Hãy chọn tệp báo cáo trước khi bấm Gửi.", "ghi-chu": "Hãy ghi chú trước khi đánh dấu.",
            "dinh-chinh": "Đã ghi quyết định về đề nghị đính chính.",
            "kiem-tra-lai": "Đã kiểm tra lại tệp; kết quả mới ở danh sách các tỉnh.",
            "loi": "Không thực hiện được thao tác (dữ liệu đã thay đổi). Hãy thử lại.",
            "tong-hop-trong": "Chưa có báo cáo nào được chấp nhận, nên chưa ghi bảng tổng hợp (các tệp cũ, nếu có, giữ "
                              "nguyên).",
            "tong-hop-ghi": "Không ghi được bảng tổng hợp vào thư mục summary/ (ổ đĩa đầy, chỉ đọc hoặc thư mục không "
                            "còn). Các tệp tổng hợp cũ giữ nguyên. Hãy báo người quản trị máy chủ rồi chạy lại.",
            "tong-hop-dau-vao": "Chưa tổng hợp được: bộ dữ liệu năm trước trong thư mục previous/ hoặc các tệp trong "
                                "hộp thư không dùng được. Chạy lệnh libstats consolidate trên thư mục đợt thu thập "
                                "để xem lý do cụ thể.",
            "tong-hop-loi": "Tổng hợp không chạy được do một lỗi của máy chủ; chưa ghi tệp nào, các tệp cũ giữ nguyên. "
                            "Hãy báo người quản trị máy chủ."}


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 20 * 2**20  # a filled form is about 50 KB
    uploads: int = 10  # per link ...
    window_seconds: float = 600.0  # ... in this many seconds


def _when(t: dt.datetime | None) -> str:
    return t.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if t else ""


def _date(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


_env = Environment(loader=PackageLoader("libstats.collection.web", "templates"),
                   autoescape=select_autoescape(default=True))
_env.filters.update(pct=fmt_rate, when=_when, date=_date,
                    num=lambda v: "(trống)" if v is None else fmt_number(int(v) if float(v).is_integer() else v))
_env.globals.update(verdict_label=lambda v: Verdict(v).label if v else "Đang kiểm tra", Severity=Severity)


class _Rate:
    """At most ``n`` events per ``window`` seconds per key (in memory; one server process)."""

    def __init__(self, n: int, window: float):
        self.n, self.window, self.events = n, window, collections.defaultdict(collections.deque)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            q = self.events[key]
            while q and q[0] < now - self.window:
                q.popleft()
            if len(q) >= self.n:
                return False
            q.append(now)
            return True


class _TooLarge(Exception):
    pass


async def _limited(stream, limit: int):
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise _TooLarge
        yield chunk


def create_app(root: Path, limits: Limits = Limits()):
    """The application serving the collection folder ``root``."""
    col = open_collection(root)
    reg = col.register
    rate = _Rate(limits.uploads, limits.window_seconds)

    def page(name: str, status_code: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("year", col.year)
        return HTMLResponse(_env.get_template(name).render(**ctx), status_code=status_code)

    def refused(message: str, status_code: int) -> HTMLResponse:
        return page("refused.html", status_code, message=message)

    def scope(request: Request, want: str) -> str | None:
        found = reg.scope_of(request.path_params["secret"])
        if found is None or (want == MINISTRY) != (found == MINISTRY):
            return None
        return found

    def token(scope_key: str) -> str:
        t = secrets.token_urlsafe(32)
        reg.issue_token(t, scope_key, dt.datetime.now(dt.UTC) + _TOKEN_LIFE)
        return t

    def notice(request: Request) -> str:
        return _NOTICES.get(request.query_params.get("tb", ""), "")

    def not_found() -> HTMLResponse:
        return refused("Đường dẫn không đúng hoặc đã được thay bằng đường dẫn mới. Hãy dùng đường dẫn Bộ đã gửi.",
                       404)

    # province pages ----------------------------------------------------------------------------------------
    def province_page(request: Request):
        key = scope(request, "province")
        if key is None:
            return not_found()
        st = next(s for s in collection_status(col).provinces if s.province.key == key)
        files = reg.files(key)[::-1]
        return page("province.html", st=st, files=files, deadline=col.deadline, csrf=token(key),
                    base=f"/t/{request.path_params['secret']}", notice=notice(request), limits=limits)

    def blank_form(request: Request):
        key = scope(request, "province")
        if key is None:
            return not_found()
        path = col.form_path(col.province(key))
        return FileResponse(path, filename=path.name)

    def own_file(request: Request):
        key = scope(request, "province")
        rec = reg.file(request.path_params["file_id"]) if key else None
        if rec is None or rec.province != key or rec.channel not in ("upload", "inbox"):
            return None, None
        return key, rec

    def file_page(request: Request):
        key, rec = own_file(request)
        if rec is None:
            return not_found()
        return page("file.html", rec=rec, province=col.province(key), base=f"/t/{request.path_params['secret']}")

    def feedback(request: Request):
        key, rec = own_file(request) if request.url.path.startswith("/t/") else ministry_file(request)
        if rec is None:
            return not_found()
        path = feedback_workbook(col, rec)
        if path is None:
            return refused("Không tạo được tệp phản hồi cho tệp này vì tệp không mở được như một bảng tính. "
                           "Các lỗi đã được ghi ở trang kết quả.", 404)
        return FileResponse(path, filename=path.name)

    async def upload(request: Request):
        key = scope(request, "province")
        if key is None:
            return not_found()
        base = f"/t/{request.path_params['secret']}"
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        form = None
        if length <= limits.upload_bytes + 65536:
            try:
                form = await MultiPartParser(request.headers, _limited(request.stream(), limits.upload_bytes + 65536),
                                             max_files=1, max_fields=4).parse()
            except _TooLarge:
                form = None
            except Exception:  # noqa: BLE001 - a malformed body is a refused post, not a crash
                return refused("Yêu cầu gửi không hợp lệ. Hãy mở lại trang và gửi lại.", 400)
        try:
            return await _accept(key, base, form)
        finally:
            if form is not None:
                await form.close()

    async def _accept(key: str, base: str, form):
        if form is not None and not await run_in_threadpool(reg.spend_token, str(form.get("csrf", "")), key):
            return refused("Biểu mẫu đã hết hạn hoặc đã được gửi. Hãy mở lại trang của tỉnh rồi gửi lại.", 403)
        if not rate.allow(key):
            return refused("Tỉnh đã gửi quá nhiều lần trong thời gian ngắn. Hãy đợi ít phút rồi gửi lại.", 429)
        too_large = make("F06", detail=f"lớn hơn {limits.upload_bytes // 2**20} MB")
        if form is None:
            return page("too_large.html", 413, finding=too_large, base=base)
        upload = form.get("tep")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return RedirectResponse(f"{base}?tb=chon-tep", 303)
        if upload.size is not None and upload.size > limits.upload_bytes:
            return page("too_large.html", 413, finding=too_large, base=base)
        rec = await run_in_threadpool(receive_upload, col, col.province(key), upload.file, upload.filename,
                                      getattr(app.state, "workers", None))
        return RedirectResponse(f"{base}/tep/{rec.id}", 303)

    # the Ministry's pages ---------------------------------------------------------------------------------
    def ministry_file(request: Request):
        if scope(request, MINISTRY) is None:
            return None, None
        rec = reg.file(request.path_params["file_id"])
        return (rec.province, rec) if rec else (None, None)

    def ministry_page(request: Request):
        if scope(request, MINISTRY) is None:
            return not_found()
        st = collection_status(col)
        base = f"/bo/{request.path_params['secret']}"
        out = col.summary / f"tong-hop-{col.year}.xlsx"
        return page("ministry.html", st=st, csrf=token(MINISTRY), base=base, notice=notice(request),
                    reviews=reg.reviews(), summary_ready=out.exists(), names={p.key: p.name for p in col.provinces})

    def ministry_file_page(request: Request):
        key, rec = ministry_file(request)
        if rec is None:
            return not_found()
        failed = any(f.code == "F09" for f in rec.findings)  # the check did not end: the Ministry may run it again
        return page("file.html", rec=rec, province=col.province(key) if key else None,
                    base=f"/bo/{request.path_params['secret']}", ministry=True,
                    csrf=token(MINISTRY) if failed else None)

    async def ministry_action(request: Request):
        if scope(request, MINISTRY) is None:
            return not_found()
        base = f"/bo/{request.path_params['secret']}"
        form = await request.form(max_files=0, max_fields=8, max_part_size=8192)
        if not await run_in_threadpool(reg.spend_token, str(form.get("csrf", "")), MINISTRY):
            return refused("Biểu mẫu đã hết hạn hoặc đã được gửi. Hãy mở lại trang của Bộ rồi thực hiện lại.", 403)
        action = request.path_params["action"]
        try:
            if action == "xem":
                note = str(form.get("ghi_chu", "")).strip()
                if not note:
                    return RedirectResponse(f"{base}?tb=ghi-chu#canh-bao", 303)
                await run_in_threadpool(review_warning, col, int(str(form.get("tep", ""))),
                                        int(str(form.get("stt", ""))), note)
            elif action in ("duyet", "mo-lai"):
                key = str(form.get("tinh", ""))
                if col.province(key) is None:
                    raise ValueError(key)
                note = str(form.get("ghi_chu", ""))[:500]
                if action == "duyet":  # the file the page showed: a newer upload is never approved unseen
                    await run_in_threadpool(approve, col, key, note, int(str(form.get("tep", ""))))
                else:
                    await run_in_threadpool(reopen, col, key, note)
            elif action == "dinh-chinh":
                await run_in_threadpool(decide_correction, col, int(str(form.get("de_nghi", ""))),
                                        str(form.get("quyet_dinh", "")) == "chap-nhan", str(form.get("ghi_chu", "")))
            elif action == "kiem-tra-lai":
                pool = getattr(app.state, "workers", None)
                await run_in_threadpool(recheck, col, int(str(form.get("tep", ""))), pool)
            elif action == "tong-hop":  # a Vietnamese result in every case, never a 500
                return RedirectResponse(f"{base}?tb={await run_in_threadpool(consolidation_notice, col)}", 303)
            else:
                return not_found()
        except ValueError:
            return RedirectResponse(f"{base}?tb=loi", 303)
        return RedirectResponse(f"{base}?tb={action}", 303)

    def ministry_download(request: Request):
        if scope(request, MINISTRY) is None:
            return not_found()
        # pandas only when a dataset is asked for, not at the server's start
        from libstats.consolidation.dataset import dataset_path

        out = col.summary / f"tong-hop-{col.year}.xlsx"
        path = {"tong-hop": out, "du-lieu": dataset_path(out)}.get(request.path_params["kind"])
        if path is None or not path.exists():
            return not_found()
        return FileResponse(path, filename=path.name)

    def home(request: Request):
        return page("home.html")

    static = Path(__file__).parent / "static"
    routes = [
        Route("/", home),
        Route("/t/{secret}", province_page),
        Route("/t/{secret}/mau", blank_form),
        Route("/t/{secret}/gui", upload, methods=["POST"]),
        Route("/t/{secret}/tep/{file_id:int}", file_page),
        Route("/t/{secret}/tep/{file_id:int}/phan-hoi", feedback),
        Route("/bo/{secret}", ministry_page),
        Route("/bo/{secret}/tep/{file_id:int}", ministry_file_page),
        Route("/bo/{secret}/tep/{file_id:int}/phan-hoi", feedback),
        Route("/bo/{secret}/tai/{kind}", ministry_download),
        Route("/bo/{secret}/{action}", ministry_action, methods=["POST"]),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        """One long-lived pool of isolated check workers for the server's life (no process start per upload)."""
        from libstats.checks.batch import WorkerPool

        app.state.workers = WorkerPool(year=col.year, conversions=col.conversions)
        try:
            yield
        finally:
            app.state.workers.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.collection = col
    return _SecurityHeaders(app)


_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"), (b"cache-control", b"no-store"),
            (b"content-security-policy", b"default-src 'self'; script-src 'none'; form-action 'self'; "
                                         b"frame-ancestors 'none'")]


class _SecurityHeaders:
    """Headers on every response: no sniffing, no referrer (the secret is in the path), no framing, no cache."""

    def __init__(self, app: Starlette):
        self.app, self.state = app, app.state

    async def __call__(self, scope, receive, send):
        async def with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)
