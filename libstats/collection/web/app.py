"""The Starlette application of a collection folder. Server-rendered pages, no JavaScript.

Security, as tested in tests/test_web_security.py:
- a secret link (``secrets.token_urlsafe(32)``, stored as a sha256 hash) opens one scope: one province's
  pages or the Ministry's; every file id in a URL is checked against that scope;
- every form carries a one-time token bound to the scope (a forged, foreign or replayed post is refused);
- uploads are limited in size (the body is counted while it streams) and in rate per link;
- nothing from a request becomes a path: files are stored under names libstats chooses, and downloads are
  looked up in the register; every text from a file is escaped by Jinja2's autoescape;
- received files are parsed only in the isolated check workers, never in the server's process;
- every error is a Vietnamese page: a client's (404, 405, 413…) is never logged with a traceback; a server
  error logs one line with a reference the page shows, and an upload that could not be stored says so.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import secrets
import traceback
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartParser
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from libstats.collection.collect import (MINISTRY, VN_TZ, NotReceived, approve, collection_status,
                                         decide_correction, feedback_workbook, open_collection, receive_upload,
                                         recheck, reopen, review_warning, consolidation_notice, sweep)
from libstats.model.findings import Severity, Verdict, fmt_number, fmt_rate, make

__all__ = ["create_app", "Limits"]

_TOKEN_LIFE = dt.timedelta(hours=4)
_log = logging.getLogger("libstats.web")
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


def _state(request: Request):
    return request.app.state


def _page(request: Request, name: str, status_code: int = 200, **ctx) -> HTMLResponse:
    ctx.setdefault("year", _state(request).collection.year)
    return HTMLResponse(_env.get_template(name).render(**ctx), status_code=status_code)


def _refused(request: Request, message: str, status_code: int, **ctx) -> HTMLResponse:
    return _page(request, "error.html", status_code, message=message, **ctx)


def _not_found(request: Request) -> HTMLResponse:
    return _refused(request, "Đường dẫn không đúng hoặc đã được thay bằng đường dẫn mới. Hãy dùng đường dẫn Bộ "
                             "đã gửi.", 404)


def _scope(request: Request, want: str) -> str | None:
    found = _state(request).collection.register.scope_of(request.path_params["secret"])
    if found is None or (want == MINISTRY) != (found == MINISTRY):
        return None
    return found


def _token(request: Request, scope_key: str) -> str:
    t = secrets.token_urlsafe(32)
    _state(request).collection.register.issue_token(t, scope_key, dt.datetime.now(dt.UTC) + _TOKEN_LIFE)
    return t


def _notice(request: Request) -> str:
    return _NOTICES.get(request.query_params.get("tb", ""), "")


def _base(request: Request) -> str:
    return f"/{request.url.path.split('/')[1]}/{request.path_params['secret']}"


# province pages ------------------------------------------------------------------------------------------------
def home(request: Request):
    return _page(request, "home.html")


def province_page(request: Request):
    key = _scope(request, "province")
    if key is None:
        return _not_found(request)
    col = _state(request).collection
    st = next(s for s in collection_status(col).provinces if s.province.key == key)
    return _page(request, "province.html", st=st, files=col.register.files(key)[::-1], deadline=col.deadline,
                 csrf=_token(request, key), base=_base(request), notice=_notice(request), limits=_state(request).limits)


def blank_form(request: Request):
    key = _scope(request, "province")
    if key is None:
        return _not_found(request)
    col = _state(request).collection
    path = col.form_path(col.province(key))
    return FileResponse(path, filename=path.name)


def _own_file(request: Request):
    key = _scope(request, "province")
    rec = _state(request).collection.register.file(request.path_params["file_id"]) if key else None
    if rec is None or rec.province != key or rec.channel not in ("upload", "inbox"):
        return None, None
    return key, rec


def _ministry_file(request: Request):
    if _scope(request, MINISTRY) is None:
        return None, None
    rec = _state(request).collection.register.file(request.path_params["file_id"])
    return (rec.province, rec) if rec else (None, None)


def file_page(request: Request):
    key, rec = _own_file(request)
    if rec is None:
        return _not_found(request)
    return _page(request, "file.html", rec=rec, province=_state(request).collection.province(key),
                 base=_base(request))


def feedback(request: Request):
    key, rec = _own_file(request) if request.url.path.startswith("/t/") else _ministry_file(request)
    if rec is None:
        return _not_found(request)
    path = feedback_workbook(_state(request).collection, rec)
    if path is None:
        return _refused(request, "Không tạo được tệp phản hồi cho tệp này vì tệp không mở được như một bảng tính. "
                                 "Các lỗi đã được ghi ở trang kết quả.", 404)
    return FileResponse(path, filename=path.name)


class _TooLarge(Exception):
    pass


async def _limited(stream, limit: int):
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise _TooLarge
        yield chunk


async def _upload_form(request: Request, limit: int):
    """The upload's form, or None when its body is larger than ``limit`` (counted while it streams)."""
    try:
        length = int(request.headers.get("content-length") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None
    try:
        return await MultiPartParser(request.headers, _limited(request.stream(), limit), max_files=1,
                                     max_fields=4).parse()
    except _TooLarge:
        return None


async def upload(request: Request):
    key = _scope(request, "province")
    if key is None:
        return _not_found(request)
    limits = _state(request).limits
    try:
        form = await _upload_form(request, limits.upload_bytes + 65536)
    except OSError as exc:  # the server could not hold the body (its disk is full…): the province sends it again
        return _not_received(request, exc)
    except Exception:  # noqa: BLE001 - a malformed body is a refused post, not a crash
        return _refused(request, "Yêu cầu gửi không hợp lệ. Hãy mở lại trang và gửi lại.", 400)
    try:
        return await _accept(request, key, form)
    finally:
        if form is not None:
            await form.close()


async def _accept(request: Request, key: str, form):
    state, base = _state(request), _base(request)
    col, limits = state.collection, state.limits
    if form is not None and not await run_in_threadpool(col.register.spend_token, str(form.get("csrf", "")), key):
        return _refused(request, "Biểu mẫu đã hết hạn hoặc đã được gửi. Hãy mở lại trang của tỉnh rồi gửi lại.", 403)
    if not state.rate.allow(key):
        return _refused(request, "Tỉnh đã gửi quá nhiều lần trong thời gian ngắn. Hãy đợi ít phút rồi gửi lại.", 429)
    too_large = make("F06", detail=f"lớn hơn {limits.upload_bytes // 2**20} MB")
    sent = form.get("tep") if form is not None else None
    if form is None or (isinstance(sent, UploadFile) and sent.size is not None and sent.size > limits.upload_bytes):
        return _page(request, "too_large.html", 413, finding=too_large, base=base)
    if not isinstance(sent, UploadFile) or not sent.filename:
        return RedirectResponse(f"{base}?tb=chon-tep", 303)
    try:
        rec = await run_in_threadpool(receive_upload, col, col.province(key), sent.file, sent.filename,
                                      getattr(state, "workers", None))
    except NotReceived as exc:
        return _not_received(request, exc)
    return RedirectResponse(f"{base}/tep/{rec.id}", 303)


def _not_received(request: Request, exc: BaseException) -> HTMLResponse:
    ref = _log_server_error(request, exc)
    return _refused(request, "Tệp chưa được nhận: máy chủ không lưu được tệp nên tệp không được ghi vào sổ. "
                             "Hãy gửi lại tệp. Nếu vẫn không được, hãy báo cho Bộ.", 503,
                    heading="Tệp chưa được nhận", ref=ref, home=_base(request))


# the Ministry's pages ------------------------------------------------------------------------------------------
def ministry_page(request: Request):
    if _scope(request, MINISTRY) is None:
        return _not_found(request)
    col = _state(request).collection
    out = col.summary / f"tong-hop-{col.year}.xlsx"
    return _page(request, "ministry.html", st=collection_status(col), csrf=_token(request, MINISTRY),
                 base=_base(request), notice=_notice(request), reviews=col.register.reviews(),
                 summary_ready=out.exists(), names={p.key: p.name for p in col.provinces},
                 failed=col.register.failed_receptions())


def ministry_file_page(request: Request):
    key, rec = _ministry_file(request)
    if rec is None:
        return _not_found(request)
    failed = any(f.code == "F09" for f in rec.findings)  # the check did not end: the Ministry may run it again
    return _page(request, "file.html", rec=rec, province=_state(request).collection.province(key) if key else None,
                 base=_base(request), ministry=True, csrf=_token(request, MINISTRY) if failed else None)


def _number(form, name: str) -> int:
    return int(str(form.get(name, "")))


def _act_review(col, form, state):
    review_warning(col, _number(form, "tep"), _number(form, "stt"), str(form.get("ghi_chu", "")))


def _act_approve(col, form, state):
    approve(col, _province_key(col, form), str(form.get("ghi_chu", ""))[:500], _number(form, "tep"))


def _act_reopen(col, form, state):
    reopen(col, _province_key(col, form), str(form.get("ghi_chu", ""))[:500])


def _act_correction(col, form, state):
    decide_correction(col, _number(form, "de_nghi"), str(form.get("quyet_dinh", "")) == "chap-nhan",
                      str(form.get("ghi_chu", "")))


def _act_recheck(col, form, state):
    recheck(col, _number(form, "tep"), getattr(state, "workers", None))


def _act_consolidate(col, form, state):
    return consolidation_notice(col)  # a Vietnamese result in every case, never a 500


def _province_key(col, form) -> str:
    key = str(form.get("tinh", ""))
    if col.province(key) is None:
        raise ValueError(key)
    return key


_ACTIONS = {"xem": _act_review, "duyet": _act_approve, "mo-lai": _act_reopen, "dinh-chinh": _act_correction,
            "kiem-tra-lai": _act_recheck, "tong-hop": _act_consolidate}


async def ministry_action(request: Request):
    act = _ACTIONS.get(request.path_params["action"])
    if _scope(request, MINISTRY) is None or act is None:
        return _not_found(request)
    state, base = _state(request), _base(request)
    form = await request.form(max_files=0, max_fields=8, max_part_size=8192)
    if not await run_in_threadpool(state.collection.register.spend_token, str(form.get("csrf", "")), MINISTRY):
        return _refused(request, "Biểu mẫu đã hết hạn hoặc đã được gửi. Hãy mở lại trang của Bộ rồi thực hiện lại.",
                        403)
    action = request.path_params["action"]
    if action == "xem" and not str(form.get("ghi_chu", "")).strip():
        return RedirectResponse(f"{base}?tb=ghi-chu#canh-bao", 303)
    try:
        notice = await run_in_threadpool(act, state.collection, form, state)
    except ValueError:
        return RedirectResponse(f"{base}?tb=loi", 303)
    return RedirectResponse(f"{base}?tb={notice or action}", 303)


def ministry_download(request: Request):
    if _scope(request, MINISTRY) is None:
        return _not_found(request)
    # pandas only when a dataset is asked for, not at the server's start
    from libstats.consolidation.dataset import dataset_path

    col = _state(request).collection
    out = col.summary / f"tong-hop-{col.year}.xlsx"
    path = {"tong-hop": out, "du-lieu": dataset_path(out)}.get(request.path_params["kind"])
    if path is None or not path.exists():
        return _not_found(request)
    return FileResponse(path, filename=path.name)


# errors --------------------------------------------------------------------------------------------------------
_HTTP_ERRORS = {
    400: "Yêu cầu không hợp lệ. Hãy mở lại trang và thử lại.",
    404: "Không có trang này. Hãy dùng đường dẫn Bộ đã gửi.",
    405: "Trang này không nhận thao tác đó. Hãy mở lại trang và dùng các nút trên trang.",
    413: "Tệp hoặc biểu mẫu gửi lên quá lớn.",
}


def _year(request: Request) -> int | str:
    col = getattr(_state(request), "collection", None)
    return col.year if col else ""


async def client_error(request: Request, exc: HTTPException):
    """A client's error (a wrong address, a wrong method…): a Vietnamese page, nothing in the log."""
    message = _HTTP_ERRORS.get(exc.status_code, "Không thực hiện được yêu cầu. Hãy mở lại trang và thử lại.")
    html = _env.get_template("error.html").render(year=_year(request), message=message)
    return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)


def _log_server_error(request: Request, exc: BaseException) -> str:
    """One line in the log (no traceback, no secret: the path's secret is cut) with a reference the page shows."""
    ref = secrets.token_hex(4).upper()
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
    path = "/".join(request.url.path.split("/")[:2])
    _log.error("lỗi máy chủ %s: %s %s…: %s: %s%s", ref, request.method, path, type(exc).__name__, exc, at)
    return ref


class _ServerErrors:
    """A server error (any exception of a page) is a Vietnamese page with a reference and one line in the log.
    A middleware, not a handler of Starlette's ServerErrorMiddleware, which logs the traceback again after it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001 - the page and the log line say what happened
            request = Request(scope)
            ref = _log_server_error(request, exc)
            if started:
                return
            upload = request.method == "POST" and request.url.path.endswith("/gui")
            message = ("Máy chủ gặp lỗi nên chưa thực hiện được yêu cầu. "
                       + ("Tệp chưa được nhận: hãy gửi lại tệp. " if upload else "Hãy thử lại sau ít phút."))
            html = _env.get_template("error.html").render(year=_year(request), message=message, ref=ref,
                                                          heading="Lỗi máy chủ")
            await HTMLResponse(html, status_code=500)(scope, receive, send)


@contextlib.asynccontextmanager
async def _lifespan(app):
    """One long-lived pool of isolated check workers for the server's life (no process start per upload)."""
    from libstats.checks.batch import WorkerPool

    app.state.workers = WorkerPool(year=app.state.collection.year,
                                      conversions=app.state.collection.conversions)
    try:
        yield
    finally:
        app.state.workers.close()


_ROUTES = [
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
    Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
]


def create_app(root: Path, limits: Limits = Limits()):
    """The application serving the collection folder ``root``. Its start clears what a stopped server left
    (``collect.sweep``: temporary files of uploads, rows whose file never arrived)."""
    col = open_collection(root)
    sweep(col, start=True)
    app = Starlette(routes=_ROUTES, lifespan=_lifespan, middleware=[Middleware(_ServerErrors)],
                    exception_handlers={HTTPException: client_error})
    app.state.collection, app.state.limits = col, limits
    app.state.rate = _Rate(limits.uploads, limits.window_seconds)
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
