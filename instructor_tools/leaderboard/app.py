"""The leaderboard's web service (FastAPI, pages rendered on the server with Jinja).

Pages: `/` (the board), `/submit` (a form), `/images.npy` (the challenge images).
API (a token in the header `Authorization: Bearer TOKEN`):
    POST /api/submit        multipart field `file` (predictions.csv), optional `display_name`
    POST /api/display-name  form field `display_name`
    POST /api/select        form field `submission` (an id of one's own submissions)
    GET  /api/me            one's own submissions and remaining count
    GET  /api/board         the board as JSON
Errors come back as {"detail": message} with the status of the error class (400, 401, 403,
413, 429, 503). Tokens are read from headers or form bodies only, never from URLs, so access
logs cannot hold them; request bodies over the upload cap (plus form overhead) are cut off
with 413 before they are parsed.
"""
from __future__ import annotations

import dataclasses
import pathlib

from fastapi import FastAPI, Form, Header, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from instructor_tools.leaderboard.errors import ChallengeSetupError, LeaderboardError, UploadTooLarge

from .service import Leaderboard, utc_now
from .store import Challenge, open_database

TEMPLATES = Jinja2Templates(directory=str(pathlib.Path(__file__).with_name("templates")))
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, token and name fields


class BodyLimit:
    """ASGI middleware: 413 for request bodies over `limit()` bytes (declared or streamed)."""

    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            return await self.app(scope, receive, send)
        limit = self.limit()
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._reject(send, int(declared), limit)
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise UploadTooLarge(f"The upload is over {limit} bytes; upload the "
                                     "predictions.csv that test.py writes.")
            return message
        return await self.app(scope, counting_receive, send)

    @staticmethod
    async def _reject(send, size, limit):
        body = (b'{"detail":"The upload is ' + str(size).encode() + b' bytes; the limit is '
                + str(limit).encode() + b' bytes. Upload the predictions.csv that test.py '
                b'writes."}')
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _pct(value):
    return "" if value is None else f"{100 * value:.2f}%"


def create_app(db: str | pathlib.Path, clock=utc_now) -> FastAPI:
    """The service over the database at `db` (see store.open_database); `clock()` gives the
    current aware time (tests inject a fake one)."""
    board = Leaderboard(open_database(db), clock)
    app = FastAPI(title="CS7643 HW1 challenge leaderboard", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.board = board
    TEMPLATES.env.filters["pct"] = _pct

    def upload_cap():
        try:
            return board.info()["max_upload_bytes"] + FORM_OVERHEAD
        except LeaderboardError:
            return FORM_OVERHEAD
    app.add_middleware(BodyLimit, limit=upload_cap)

    @app.exception_handler(LeaderboardError)
    async def _error(request: Request, exc: LeaderboardError):
        headers = {}
        resets_at = getattr(exc, "resets_at", None)
        if resets_at is not None:
            headers["Retry-After"] = str(max(0, int((resets_at - clock()).total_seconds())))
        body = {"detail": str(exc)}
        if resets_at is not None:
            body["resets_at"] = resets_at.isoformat()
        return JSONResponse(body, status_code=exc.http_status, headers=headers)

    def page(request, name, status=200, **context):
        info = board.info()
        return TEMPLATES.TemplateResponse(request, name, {"info": info, **context},
                                          status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError):
        """A request missing a form field (most often curl's `-F file=predictions.csv` without
        the @, or another field name): a sentence instead of the validator's dump; 422."""
        fields = sorted({str(e.get("loc", ["?"])[-1]) for e in exc.errors()})
        if "file" in fields:
            text = ("No predictions file in the upload: attach predictions.csv as the form field "
                    "'file' (with curl: -F file=@predictions.csv, the @ included).")
        else:
            text = f"Missing or malformed form field(s): {', '.join(fields)}."
        if request.url.path == "/submit":
            return page(request, "submit.html", status=422, error=text)
        return JSONResponse({"detail": text}, status_code=422)

    @app.get("/", response_class=HTMLResponse)
    def board_page(request: Request):
        rows, closed = board.board()
        return page(request, "board.html", rows=rows, closed=closed)

    @app.get("/submit", response_class=HTMLResponse)
    def submit_page(request: Request):
        return page(request, "submit.html")

    @app.post("/submit", response_class=HTMLResponse)
    async def submit_form(request: Request, file: UploadFile, token: str = Form(""),
                          display_name: str = Form("")):
        data = await file.read()
        try:
            receipt = board.submit(token, data, display_name or None)
        except LeaderboardError as exc:
            return page(request, "submit.html", status=exc.http_status, error=str(exc))
        return page(request, "submit.html", receipt=receipt)

    @app.get("/images.npy")
    def images():
        return FileResponse(_images_path(board), media_type="application/octet-stream",
                            filename="images.npy")

    @app.post("/api/submit")
    async def api_submit(file: UploadFile, authorization: str | None = Header(None),
                         display_name: str = Form("")):
        data = await file.read()
        receipt = board.submit(_bearer(authorization), data, display_name or None)
        return receipt.as_json()

    @app.post("/api/display-name")
    def api_name(display_name: str = Form(...), authorization: str | None = Header(None)):
        return {"display_name": board.set_display_name(_bearer(authorization), display_name)}

    @app.post("/api/select")
    def api_select(submission: int = Form(...), authorization: str | None = Header(None)):
        board.select(_bearer(authorization), submission)
        return {"selected": submission}

    @app.get("/api/me")
    def api_me(authorization: str | None = Header(None)):
        return board.mine(_bearer(authorization))

    @app.get("/api/board")
    def api_board():
        rows, closed = board.board()
        info = board.info()
        return {"title": info["title"], "deadline": info["deadline"].isoformat(),
                "closed": closed,
                "rows": [{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                          for k, v in dataclasses.asdict(r).items()
                          if closed or k != "private_accuracy"} for r in rows]}

    return app


def _images_path(board: Leaderboard) -> str:
    with board.sessions() as s:
        c = s.query(Challenge).first()
        if c is None or not c.images_path or not pathlib.Path(c.images_path).is_file():
            raise ChallengeSetupError("The challenge images are not published yet; try again "
                                      "later.")
        return c.images_path
