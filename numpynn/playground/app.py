"""The web app: Starlette routes, one WebSocket per browser tab, and uvicorn to serve them.

======================================  ==================================================
``GET /``                               the page (``static/index.html``)
``GET /static/…``                       its script and style sheet, served from the package
``WS /ws``                              one session: settings in, frames out (see below)
``POST /api/csv/{session}``             an uploaded CSV (x1,x2,label), at most 1 MB
``GET /api/export/{session}/{file}``    ``model.npz``, ``playground.toml``, ``playground.py``
``GET /api/sessions``                   how many sessions are open
======================================  ==================================================

The WebSocket speaks JSON. The page sends ``{"type": "settings", "settings": {...}}`` (or
``"query"``: its URL's settings),
``train`` (``"on": true/false``), ``step`` (one epoch), ``reset`` and ``inspect`` (``split``,
``index``); the server answers ``hello`` (the session id), ``settings`` (the accepted ones and
their URL query), ``points``, ``frame`` (:func:`views.frame`), ``inspection`` and ``error``
(a message for the page's #error; the server goes on serving). While training, the server
sends a frame after each TRAIN_SECONDS of epochs: about 15 screen updates a second.
Closing the tab closes the socket and frees the session.
"""
import asyncio
import json
import math
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocketDisconnect

from numpynn.playground import export, views
from numpynn.playground.session import Session
from numpynn.playground.settings import (MAX_CSV_BYTES, SettingsError, parse_points_csv,
                                         parse_query, parse_settings)

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 16          # open tabs at once; one more is told to close one
MAX_BODY_BYTES = MAX_CSV_BYTES + 4096   # any HTTP request body (the CSV upload is the only one)
MAX_MESSAGE_BYTES = 64 * 1024           # a WebSocket message (settings are < 2 KB)
TRAIN_SECONDS = 0.04       # epochs between two frames; a frame takes a few ms more
EXPORTS = {"model.npz": ("application/octet-stream", export.model_bytes),
           "playground.toml": ("application/toml", export.train_toml),
           "playground.py": ("text/x-python", export.python_code)}


class Live:
    """One open tab: its id, its Session (after the first valid settings) and its upload."""

    def __init__(self):
        self.id, self.session, self.upload = secrets.token_hex(8), None, None


# ------------------------------------------------------------------------------ websocket
async def websocket(ws):
    sessions = ws.app.state.sessions
    await ws.accept()
    if len(sessions) >= ws.app.state.max_sessions:
        await ws.send_text(_json(_error(f"{len(sessions)} sessions are open, the most this "
                                        "server keeps\nhelp: close another playground tab")))
        await ws.close(code=1013)
        return
    live = Live()
    sessions[live.id] = live
    queue = asyncio.Queue()
    receiver = asyncio.create_task(_receive(ws, queue))
    try:
        await ws.send_text(_json({"type": "hello", "session": live.id}))
        await _serve(ws, live, queue)
    except WebSocketDisconnect:
        pass
    finally:
        receiver.cancel()
        sessions.pop(live.id, None)


async def _receive(ws, queue):
    """Messages into ``queue`` (None when the tab closed)."""
    try:
        while True:
            text = await ws.receive_text()
            if len(text) > MAX_MESSAGE_BYTES:
                queue.put_nowait({"type": "too-large", "size": len(text)})
                continue
            try:
                queue.put_nowait(json.loads(text))
            except ValueError:
                queue.put_nowait({"type": "not-json"})
    except (WebSocketDisconnect, RuntimeError):
        queue.put_nowait(None)


async def _serve(ws, live, queue):
    """Handle messages; while training, train TRAIN_SECONDS of epochs and send a frame."""
    while True:
        training = live.session is not None and live.session.running
        if training and queue.empty():
            live.session.train_for(TRAIN_SECONDS)
            replies = [views.frame(live.session)]
            if live.session.message:
                replies.append(_error(live.session.message))
            await _send(ws, replies)
            await asyncio.sleep(0.005)  # let the receiver read what came meanwhile
            continue
        message = await queue.get()
        if message is None:
            return
        await _send(ws, handle(live, message))


async def _send(ws, replies):
    for reply in replies:
        await ws.send_text(_json(reply))


def handle(live, message):
    """One message from the page -> the replies. Any failure becomes an error reply."""
    try:
        kind = message.get("type") if isinstance(message, dict) else None
        handler = HANDLERS.get(kind)
        if handler is None:
            return [_error(f"unknown message {str(kind)[:40]!r}; expected one of: "
                           f"{', '.join(HANDLERS)}")]
        if kind != "settings" and live.session is None:
            return [_error("send settings first")]
        return handler(live, message)
    except (SettingsError, ValueError, TypeError) as err:
        return [_error(str(err))]
    except Exception as err:  # the server keeps serving whatever one message does
        return [_error(f"internal error ({type(err).__name__}: {err})")]


def _on_settings(live, message):
    if "query" in message:  # the page's URL: a shared set-up
        settings = parse_query(str(message["query"])[:MAX_MESSAGE_BYTES])
    else:
        settings = parse_settings(message.get("settings"))
    if live.session is None:
        live.session = Session(settings, live.upload)
    else:
        live.session.upload = live.upload
        live.session.configure(settings)
    return [{"type": "settings", "settings": settings.to_dict(), "query": settings.to_query()},
            views.points_message(live.session), views.frame(live.session)]


def _on_train(live, message):
    session = live.session
    if message.get("on") and session.message:
        return [_error(session.message)]
    session.running = bool(message.get("on"))
    return [views.frame(session)]


def _on_step(live, message):
    live.session.running = False
    live.session.train_epoch()
    replies = [views.frame(live.session)]
    return replies + ([_error(live.session.message)] if live.session.message else [])


def _on_reset(live, message):
    live.session.configure(live.session.settings)
    return [views.frame(live.session)]


def _on_inspect(live, message):
    split = message.get("split", "train")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    index = message.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"sample index must be an integer; got {index!r}")
    return [views.inspect(live.session, split, index)]


def _on_problem(live, message):
    if message.get("type") == "too-large":
        return [_error(f"message of {message['size']} bytes; at most {MAX_MESSAGE_BYTES}")]
    return [_error("message is not JSON")]


HANDLERS = {"settings": _on_settings, "train": _on_train, "step": _on_step,
            "reset": _on_reset, "inspect": _on_inspect, "too-large": _on_problem,
            "not-json": _on_problem}


def _error(message):
    return {"type": "error", "message": message}


def _json(value):
    """JSON text; NaN and inf (a diverged network) become null, which JSON can carry."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# ------------------------------------------------------------------------------ HTTP
async def index(request):
    return FileResponse(STATIC / "index.html")


async def session_count(request):
    return JSONResponse({"sessions": len(request.app.state.sessions)})


def _live(request):
    return request.app.state.sessions.get(request.path_params["session"])


async def upload_csv(request):
    live = _live(request)
    if live is None:
        return JSONResponse({"error": "unknown session; reload the page"}, status_code=404)
    body = await request.body()
    try:
        live.upload = parse_points_csv(body.decode("utf-8"))
    except UnicodeDecodeError:
        return JSONResponse({"error": "csv: the file is not UTF-8 text\nhelp: save it as "
                                      "CSV (comma-separated values)"}, status_code=400)
    except SettingsError as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    return JSONResponse({"rows": len(live.upload[1])})


async def export_file(request):
    live, name = _live(request), request.path_params["file"]
    if live is None or live.session is None:
        return JSONResponse({"error": "unknown session; reload the page"}, status_code=404)
    if name not in EXPORTS:
        return JSONResponse({"error": f"unknown export {name!r}; choose one of: "
                                      f"{', '.join(EXPORTS)}"}, status_code=404)
    media_type, make = EXPORTS[name]
    return Response(make(live.session), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


class BodyLimit:
    """ASGI middleware: refuse an HTTP request body above ``limit`` bytes with 413, from its
    Content-Length or, when streamed, as soon as the bytes received pass the limit."""

    def __init__(self, app, limit=MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message
        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send):
        await JSONResponse({"error": f"request body over {self.limit} bytes"},
                           status_code=413)({"type": "http"}, None, send)


class _TooLarge(Exception):
    """A streamed body passed the limit."""


def create_app(max_sessions=MAX_SESSIONS):
    """The Starlette app (what tests drive with ``starlette.testclient.TestClient``)."""
    from starlette.middleware import Middleware

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/sessions", session_count),
        Route("/api/csv/{session}", upload_csv, methods=["POST"]),
        Route("/api/export/{session}/{file}", export_file),
        WebSocketRoute("/ws", websocket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], middleware=[Middleware(BodyLimit)])
    app.state.sessions, app.state.max_sessions = {}, max_sessions
    return app


# ------------------------------------------------------------------------------ serving
def bind(host, port):
    """A listening socket on ``host:port`` (port 0: a free one), bound before the URL is
    printed so the URL names the real port."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def url_of(sock):
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def make_server(sock, app=None):
    """A uvicorn Server for ``app`` (default :func:`create_app`) on the bound socket; WebSocket
    messages above MAX_MESSAGE_BYTES are refused by uvicorn itself."""
    import uvicorn

    config = uvicorn.Config(app or create_app(), log_level="warning", ws="websockets-sansio",
                            ws_max_size=MAX_MESSAGE_BYTES, lifespan="off")
    return uvicorn.Server(config)


def serve(sock, app=None):
    """Serve until Ctrl-C."""
    make_server(sock, app).run(sockets=[sock])
