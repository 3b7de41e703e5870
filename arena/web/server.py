"""Serving the arena: the Gradio page, opaque clip URLs and prompt images on one loopback server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from arena.domain.abuse import AbuseGuard
from arena.domain.battles import Playback, serve_battle, submit_aspect_vote, submit_vote
from arena.domain.scheduler import Scheduler, SchedulerConfig
from arena.errors import http_status
from arena.io.admin_token import check_admin_token, load_admin_token
from arena.io.backup import BACKUP_ROUTE, backup_data_dir
from arena.store import SERVER_FILE, Store
from arena.web.app import ArenaOptions, build_app
from arena.web.player_page import page_assets
from arena.web.serving_urls import IMAGE_ROUTE, MEDIA_ROUTE, battle_payload
from generators.errors import InputError, PaddockError
from generators.serving.profile import ServingProfile

log = logging.getLogger("paddock.serve")

MEDIA_ID = re.compile(r"[0-9a-f]{32}")
PROMPT_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# At most 18 digits: positions fit in 64 bits, and int() of a huge digit string would raise.
RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")
LOOPBACK = {"127.0.0.1", "::1"}


class BattleRequest(BaseModel):
    """POST /api/battle: a battle for this rater (optionally from one category)."""

    rater_id: str = Field(max_length=64)
    category: str = Field("", max_length=8)


class VoteRequest(BaseModel):
    """POST /api/vote: the vote on a served battle, with its one-time token."""

    battle_id: str = Field(max_length=64)
    token: str = Field(max_length=128)
    rater_id: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    playback: str = Field("", max_length=512)


class AspectVoteRequest(BaseModel):
    """POST /api/aspect-vote: one follow-up answer (left / right / tie on one aspect) of a
    battle already voted on, with the battle's token."""

    battle_id: str = Field(max_length=64)
    token: str = Field(max_length=128)
    rater_id: str = Field(max_length=64)
    aspect: str = Field(max_length=32)
    outcome: str = Field(max_length=16)


class BackupRequest(BaseModel):
    """POST /admin/backup: where the serving process writes a consistent copy of the data dir."""

    out: str = Field(max_length=4096)
    clips: bool = True


def _error(exc: PaddockError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=http_status(exc))


def range_is_satisfiable(header: str | None, size: int) -> bool:
    """One well-formed byte range inside the file (what video elements ask for), or none."""
    if header is None:
        return True
    match = RANGE.fullmatch(header.strip())
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
    serving: ServingProfile | None = None,
) -> FastAPI:
    """FastAPI app with the media routes and the Gradio arena mounted at /.

    serving: the pool's serving profile; the media route then serves only renditions (cut and
    padded per battle), never an original (see arena/jobs/serving_cuts.py). Without it originals
    are served: tests and the audit's --originals only (run_server refuses to)."""
    import gradio as gr

    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    clips_root = store.clips_dir.resolve()
    renditions_root = (store.data_dir / "renditions").resolve()
    # One guard for every route that serves battles or takes votes, so that the rate limits
    # and bans hold whichever route a client uses.
    options = options or ArenaOptions()
    guard = AbuseGuard(options.abuse)

    def media_path(media_id: str) -> Path:
        # Only a battle's random media id leads to a file, and only inside the clip store.
        if not MEDIA_ID.fullmatch(media_id):
            raise HTTPException(404)
        if serving is not None:
            return served_path(media_id)
        path = store.media_clip(media_id)
        if path is None:
            raise HTTPException(404)
        path = path.resolve()
        if clips_root not in path.parents or not path.is_file():
            raise HTTPException(404)
        return path

    @api.get(MEDIA_ROUTE + "/{media_id}/poster")
    def poster(media_id: str) -> Response:
        """The served file's first frame, for the player to show before it plays."""
        from arena.web.poster import poster_jpeg

        try:
            body = poster_jpeg(media_path(media_id))
        except PaddockError as exc:
            log.warning("poster %s not served: %s", media_id, exc)
            raise HTTPException(404) from None
        headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
        return Response(body, media_type="image/jpeg", headers=headers)

    @api.get(MEDIA_ROUTE + "/{media_id}")
    def media(media_id: str, request: Request) -> Response:
        path = media_path(media_id)
        size = path.stat().st_size
        if not range_is_satisfiable(request.headers.get("range"), size):
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        response = FileResponse(
            path,
            media_type="video/mp4",
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
            content_disposition_type="inline",
            filename=None,
            stat_result=os.stat(path) if serving is not None else None,
        )
        if serving is not None:
            # A file's mtime and ETag would tell two equally long files apart.
            del response.headers["etag"]
            del response.headers["last-modified"]
        return response

    def served_path(media_id: str) -> Path:
        """Serving on: only a battle's padded rendition, never an original."""
        from arena.jobs.serving_cuts import battle_media_path

        try:
            path = battle_media_path(store, media_id, serving)
        except PaddockError as exc:
            log.warning("media %s not served: %s", media_id, exc)
            raise HTTPException(404) from None
        if path is None:
            raise HTTPException(404)
        path = path.resolve()
        if renditions_root not in path.parents:
            raise HTTPException(404)
        return path

    @api.get(IMAGE_ROUTE + "/{prompt_id}")
    def prompt_image(prompt_id: str) -> FileResponse:
        if not PROMPT_ID.fullmatch(prompt_id):
            raise HTTPException(404)
        try:
            prompt = store.prompt(prompt_id)
        except PaddockError:
            raise HTTPException(404) from None
        if not prompt.image:
            raise HTTPException(404)
        from arena.io.suite_images import materialize_image

        try:
            path = materialize_image(prompt.image, store.data_dir / "images")
        except PaddockError:
            raise HTTPException(404) from None
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    @api.get("/healthz")
    def health() -> JSONResponse:
        body = {"ok": True, "clips": store.counts()["clips"]}
        if serving is not None:  # how many clips can be served yet (renditions made)
            body["servable"] = store.servable_count()
        return JSONResponse(body)

    # The rater's two actions as plain JSON for programmatic clients, routed before the Gradio
    # mount: the same domain functions without Gradio's per-request work (the gr.api endpoints
    # /gradio_api/run/battle|vote stay for gradio_client). They run on a plain thread pool:
    # handing a sync route to anyio's pool cost the event loop about a quarter of its time per
    # request (cancel scopes, capacity limiter), and threads are what lets writes share commits.
    workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="paddock-api")

    async def in_worker(fn: Callable[[], JSONResponse]) -> JSONResponse:
        return await asyncio.get_running_loop().run_in_executor(workers, fn)

    def client_ip(request: Request) -> str | None:
        return request.client.host if request.client else None

    @api.post("/api/battle")
    async def json_battle(body: BattleRequest, request: Request) -> JSONResponse:
        def work() -> JSONResponse:
            try:
                view = serve_battle(
                    store,
                    scheduler,
                    body.rater_id,
                    body.category or None,
                    client_ip=client_ip(request),
                    guard=guard,
                )
            except PaddockError as exc:
                return _error(exc)
            return JSONResponse(battle_payload(view))

        return await in_worker(work)

    @api.post("/api/vote")
    async def json_vote(body: VoteRequest, request: Request) -> JSONResponse:
        def work() -> JSONResponse:
            try:
                result = submit_vote(
                    store,
                    body.battle_id,
                    body.token,
                    body.rater_id,
                    body.outcome,
                    Playback.from_json(body.playback),
                    client_ip=client_ip(request),
                    guard=guard,
                )
            except PaddockError as exc:
                return _error(exc)
            return JSONResponse(result.to_dict())

        return await in_worker(work)

    @api.post("/api/aspect-vote")
    async def json_aspect_vote(body: AspectVoteRequest, request: Request) -> JSONResponse:
        def work() -> JSONResponse:
            try:
                answer = submit_aspect_vote(
                    store,
                    body.battle_id,
                    body.token,
                    body.rater_id,
                    body.aspect,
                    body.outcome,
                    options.aspects,
                    client_ip=client_ip(request),
                    guard=guard,
                )
            except PaddockError as exc:
                return _error(exc)
            return JSONResponse(answer)

        return await in_worker(work)

    admin_token = load_admin_token()

    @api.post(BACKUP_ROUTE)
    def backup(body: BackupRequest, request: Request) -> JSONResponse:
        # This process owns the DuckDB file, so a backup while serving is taken here, under the
        # store's lock; only from this machine and with the admin token.
        if request.client is None or request.client.host not in LOOPBACK:
            raise HTTPException(404)
        bearer = request.headers.get("authorization", "")
        try:
            check_admin_token(admin_token, bearer.removeprefix("Bearer ").strip() or None)
            report = backup_data_dir(store, Path(body.out), clips=body.clips)
        except PaddockError as exc:
            return _error(exc)
        return JSONResponse(report.to_dict())

    app = build_app(store, scheduler, options, leaderboard, guard=guard)
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
    scheduler_config: SchedulerConfig | None = None,
    serving: ServingProfile | None = None,
    first_prompts: tuple[str, ...] = (),
) -> None:
    """Serve until interrupted; `background(stop)` runs in a thread meanwhile (e.g. generation).
    scheduler_config limits or tunes the battles (e.g. a duel of two models). serving: serve
    renditions of this profile only, made by a background thread (first_prompts' clips first)."""
    import uvicorn

    if serving is None:  # originals reach raters only through build_server (tests, the audit)
        raise InputError("the arena serves renditions only: run_server needs a serving profile")
    if not port_is_free(host, port):
        raise InputError(f"port {port} on {host} is in use; pick another with --port")
    scheduler = Scheduler(store, config=scheduler_config)
    app = build_server(store, scheduler, options, leaderboard, serving=serving)
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

    renderer = None
    if serving is not None:
        from arena.jobs.serving_renditions import start_rendition_thread

        renderer = start_rendition_thread(store, serving, stop, first_prompts=first_prompts)
    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        stop.set()
        if worker is not None and worker.is_alive():
            worker.join(timeout=30)
        if renderer is not None:
            renderer.join(timeout=10)  # lets its worker pool finish the clip in hand and close
        with contextlib.suppress(FileNotFoundError):
            info_path.unlink()
        store.checkpoint()
