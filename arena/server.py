"""Serving the arena: the Gradio page, opaque clip URLs and prompt images on one loopback server."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from arena.app import ArenaOptions, build_app, page_assets
from arena.battles import IMAGE_ROUTE, MEDIA_ROUTE
from arena.scheduler import Scheduler
from arena.store import SERVER_FILE, Store
from generators.errors import InputError, PaddockError

MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
PROMPT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def range_is_satisfiable(header: str | None, size: int) -> bool:
    """One well-formed byte range inside the file (what video elements ask for), or none."""
    if header is None:
        return True
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return False
    first, last = match.groups()
    if first == "":
        return int(last) > 0
    return int(first) < size and (last == "" or int(last) >= int(first))


def build_server(
    store: Store,
    scheduler: Scheduler,
    options: ArenaOptions | None = None,
    leaderboard: Callable | None = None,
) -> FastAPI:
    """FastAPI app with the media routes and the Gradio arena mounted at /."""
    import gradio as gr

    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    clips_root = store.clips_dir.resolve()

    @api.get(MEDIA_ROUTE + "/{media_id}")
    def media(media_id: str, request: Request) -> Response:
        # Only a battle's random media id leads to a file, and only inside the clip store.
        if not MEDIA_ID.match(media_id):
            raise HTTPException(404)
        path = store.media_clip(media_id)
        if path is None:
            raise HTTPException(404)
        path = path.resolve()
        if clips_root not in path.parents or not path.is_file():
            raise HTTPException(404)
        size = path.stat().st_size
        if not range_is_satisfiable(request.headers.get("range"), size):
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        return FileResponse(
            path,
            media_type="video/mp4",
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
            content_disposition_type="inline",
            filename=None,
        )

    @api.get(IMAGE_ROUTE + "/{prompt_id}")
    def prompt_image(prompt_id: str) -> FileResponse:
        if not PROMPT_ID.match(prompt_id):
            raise HTTPException(404)
        try:
            prompt = store.prompt(prompt_id)
        except PaddockError:
            raise HTTPException(404) from None
        if not prompt.image:
            raise HTTPException(404)
        from arena.suite import materialize_image

        try:
            path = materialize_image(prompt.image, store.data_dir / "images")
        except PaddockError:
            raise HTTPException(404) from None
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    @api.get("/healthz")
    def health() -> JSONResponse:
        return JSONResponse({"ok": True, "clips": store.counts()["clips"]})

    app = build_app(store, scheduler, options, leaderboard)
    head, css = page_assets()
    return gr.mount_gradio_app(
        api, app, path="/", head=head, css=css, show_error=True, footer_links=[]
    )


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def run_server(
    store: Store,
    host: str = "127.0.0.1",
    port: int = 7860,
    options: ArenaOptions | None = None,
    background: Callable[[threading.Event], None] | None = None,
    on_ready: Callable[[str], None] | None = None,
    leaderboard: Callable | None = None,
) -> None:
    """Serve until interrupted; `background(stop)` runs in a thread meanwhile (e.g. generation)."""
    import uvicorn

    if not port_is_free(host, port):
        raise InputError(f"port {port} on {host} is in use; pick another with --port")
    scheduler = Scheduler(store)
    app = build_server(store, scheduler, options, leaderboard)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    info_path = Path(store.data_dir) / SERVER_FILE
    info_path.write_text(json.dumps({"pid": os.getpid(), "host": host, "port": port}))
    stop = threading.Event()
    worker = None
    if background is not None:
        worker = threading.Thread(
            target=background, args=(stop,), name="paddock-background", daemon=True
        )

    def announce() -> None:
        while not server.started and not stop.is_set():
            stop.wait(0.05)
        if on_ready:
            on_ready(f"http://{host}:{port}/")
        if worker is not None:
            worker.start()

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        stop.set()
        if worker is not None and worker.is_alive():
            worker.join(timeout=30)
        with contextlib.suppress(FileNotFoundError):
            info_path.unlink()
        store.checkpoint()
