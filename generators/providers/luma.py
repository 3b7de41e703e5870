"""`luma:<model>`: Luma's Dream Machine generations API (Ray models).

Reference followed: https://docs.lumalabs.ai/reference (Dream Machine API: create and get a
generation; credits), read 2026-12-02.
Submit: POST {base}/dream-machine/v1/generations {prompt, model, aspect_ratio, duration "5s",
resolution, loop} -> {id, state}; status: GET {base}/dream-machine/v1/generations/{id} -> queued |
dreaming | completed | failed, with assets.video and failure_reason. Auth: `Authorization: Bearer
$LUMAAI_API_KEY`. Luma takes input images only as public URLs (keyframes), and has no upload
endpoint, so these presets make text-to-video clips only. Luma now also runs a separate Agents
API for Ray 3.x; its details could not be confirmed from Luma's own pages, so it is not a preset.
"""

from __future__ import annotations

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import Endpoint, Limits, Protocol

_LIMITS = Limits(
    (5, 9),
    aspects={"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"},
    resolutions={"480p": "540p", "720p": "720p", "1080p": "1080p"},
    i2v=False,
)
MODELS = ("ray-2", "ray-flash-2")


def _resolve(target: str) -> Endpoint:
    if target not in MODELS:
        raise InputError(f"luma:{target}: unknown Luma model; known: {', '.join(MODELS)}")
    return Endpoint(
        body={
            "prompt": "{prompt}",
            "model": "{model}",
            "aspect_ratio": "{aspect}",
            "duration": "{duration_s_str}",
            "resolution": "{resolution}",
            "loop": False,
        },
        limits=_LIMITS,
        submit_path="/dream-machine/v1/generations",
        status_path="/dream-machine/v1/generations/{id}",
    )


PROTOCOL = Protocol(
    kind="luma",
    title="Luma",
    reference="https://docs.lumalabs.ai/reference (2026-12-02)",
    base_url="https://api.lumalabs.ai",
    env=(("LUMAAI_API_KEY",),),
    auth="bearer",
    resolve=_resolve,
    target_help=" | ".join(MODELS),
    example="ray-2",
    status_field="state",
    done_values=("completed",),
    failed_values=("failed",),
    result_field="assets.video",
    error_fields=("failure_reason", "detail"),
    check_path="/dream-machine/v1/credits",
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
