"""`replicate:<owner/model[:version]>`: Replicate's predictions API.

Reference followed: https://replicate.com/docs/topics/predictions/create-a-prediction and the
HTTP API reference https://replicate.com/docs/reference/http (read 2026-12-02), and the
prediction lifecycle https://replicate.com/docs/topics/predictions/lifecycle (read 2026-12-05).
Submit: POST {base}/v1/models/{owner}/{name}/predictions {"input": {...}} (an official model), or
POST {base}/v1/predictions {"version": ..., "input": {...}} when a version is given; status:
GET {base}/v1/predictions/{id} -> starting | processing | succeeded | failed | canceled |
aborted ("exceeded its deadline before it could start running": final, often with no error), with
`output` (a URL or a list of them) and `error`. Auth: `Authorization: Bearer
$REPLICATE_API_TOKEN`. Images go as data URIs (Replicate takes them for small files; larger
ones need its files API, which Paddock does not use). Each model names its inputs its own way:
the families below are mapped, any other model gets prompt/seed/duration/aspect_ratio/image.
"""

from __future__ import annotations

import re

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import ANY_RESOLUTION, Endpoint, Limits, Protocol

_ID = re.compile(r"^([\w.-]+)/([\w.-]+)(?::([0-9a-f]{8,64}))?$")
_SQUARE = {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"}


def _inputs(model: str) -> tuple[dict, Limits]:
    m = model.lower()
    common = {"prompt": "{prompt}", "seed": "{seed}", "negative_prompt": "{negative_prompt}"}
    if m.startswith("google/veo-3"):
        body = {
            **common,
            "duration": "{duration}",
            "aspect_ratio": "{aspect}",
            "resolution": "{resolution}",
            "generate_audio": "{audio}",
            "image": "{image_data_uri}",
        }
        return body, Limits(
            (4, 6, 8),
            aspects={"16:9": "16:9", "9:16": "9:16"},
            resolutions={"720p": "720p", "1080p": "1080p"},
            audio="optional",
        )
    if m.startswith("kwaivgi/kling"):
        body = {
            **common,
            "duration": "{duration}",
            "aspect_ratio": "{aspect}",
            "start_image": "{image_data_uri}",
        }
        return body, Limits((5, 10), aspects=_SQUARE, resolutions=ANY_RESOLUTION)
    if m.startswith("bytedance/seedance"):
        body = {
            **common,
            "duration": "{duration}",
            "aspect_ratio": "{aspect}",
            "resolution": "{resolution}",
            "image": "{image_data_uri}",
        }
        return body, Limits((), (2, 12), aspects=_SQUARE, resolutions=ANY_RESOLUTION)
    if m.startswith("minimax/"):
        body = {
            "prompt": "{prompt}",
            "duration": "{duration}",
            "first_frame_image": "{image_data_uri}",
        }
        return body, Limits((6, 10), aspects={"16:9": "16:9"}, resolutions=ANY_RESOLUTION)
    body = {
        **common,
        "duration": "{duration}",
        "aspect_ratio": "{aspect}",
        "image": "{image_data_uri}",
    }
    return body, Limits((), (1, 15), aspects=_SQUARE, resolutions=ANY_RESOLUTION)


def _resolve(target: str) -> Endpoint:
    match = _ID.match(target)
    if not match:
        raise InputError(
            f"replicate:{target}: not a Replicate model (owner/model or owner/model:version)"
        )
    owner, name, version = match.groups()
    body, limits = _inputs(f"{owner}/{name}")
    if version:
        return Endpoint(
            body={"version": version, "input": body},
            limits=limits,
            submit_path="/v1/predictions",
            status_path="/v1/predictions/{id}",
        )
    return Endpoint(
        body={"input": body},
        limits=limits,
        submit_path=f"/v1/models/{owner}/{name}/predictions",
        status_path="/v1/predictions/{id}",
    )


PROTOCOL = Protocol(
    kind="replicate",
    title="Replicate",
    reference="https://replicate.com/docs/reference/http (2026-12-05)",
    base_url="https://api.replicate.com",
    env=(("REPLICATE_API_TOKEN",),),
    auth="bearer",
    resolve=_resolve,
    target_help="owner/model[:version]",
    example="google/veo-3",
    note="abilities differ per model",
    status_field="status",
    done_values=("succeeded",),
    failed_values=("failed", "canceled", "aborted"),
    status_reasons={"aborted": "the prediction exceeded its deadline before it could start"},
    result_field="output",
    error_fields=("error", "detail", "title"),
    cost_fields={"predict_time_s": "metrics.predict_time"},
    check_path="/v1/account",
    poll_interval_s=3.0,
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
