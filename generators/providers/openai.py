"""`openai:<model>`: OpenAI's Videos API (Sora 2): create, poll, download the content.

Reference followed: https://developers.openai.com/api/docs/guides/video-generation and
https://developers.openai.com/api/reference/resources/videos (read 2026-12-02), and the videos
resource of OpenAI's Python SDK (openai/openai-python e43b422, August 2026, read 2026-12-05).
The page says: "The Sora 2 video generation models and Videos API are deprecated and will shut
down on September 24, 2026." So on 2026-12-02 OpenAI serves no clip here: the preset is kept for
endpoints that still speak this protocol and is refused unless base_url names one.
Create: POST {base}/v1/videos as multipart/form-data (the SDK's videos.create posts a form with
Content-Type multipart/form-data, the reference's curl uses -F) {model, prompt, seconds "4", size
"1280x720", input_reference (the image as a file part)} -> {id, status};
status: GET {base}/v1/videos/{id} -> queued | in_progress | completed | failed (error.code,
error.message); download: GET {base}/v1/videos/{id}/content. Auth: `Authorization: Bearer
$OPENAI_API_KEY`. Its seconds are 4, 8 or 12 (the guide also names 16 and 20 s, which Paddock's
15 s limit never asks for).
"""

from __future__ import annotations

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import Endpoint, Limits, Protocol

MODELS = ("sora-2", "sora-2-pro")
_LIMITS = Limits(
    (4, 8, 12),
    aspects={"16:9": "1280x720", "9:16": "720x1280"},
    resolutions={"720p": "720p"},
    audio="always",
)


def _resolve(target: str) -> Endpoint:
    if target not in MODELS:
        raise InputError(f"openai:{target}: unknown video model; known: {', '.join(MODELS)}")
    return Endpoint(
        body={
            "model": "{model}",
            "prompt": "{prompt}",
            "seconds": "{duration_str}",
            "size": "{aspect}",
        },
        body_i2v={"input_reference": "{image_file}"},
        limits=_LIMITS,
        submit_path="/v1/videos",
        status_path="/v1/videos/{id}",
    )


PROTOCOL = Protocol(
    kind="openai",
    title="OpenAI",
    reference="https://developers.openai.com/api/docs/guides/video-generation (2026-12-05)",
    body_encoding="multipart",
    base_url="https://api.openai.com",
    env=(("OPENAI_API_KEY",),),
    auth="bearer",
    resolve=_resolve,
    target_help=" | ".join(MODELS),
    example="sora-2",
    status_field="status",
    done_values=("completed",),
    failed_values=("failed",),
    error_fields=("error",),
    download_path="/v1/videos/{id}/content",
    check_path="/v1/models",
    retired=(
        "OpenAI shut the Videos API (Sora 2) down on 2026-09-24; set base_url to an endpoint "
        "that still serves this protocol"
    ),
    max_concurrent=2,
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
