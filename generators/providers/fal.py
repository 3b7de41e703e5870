"""`fal:<endpoint id>`: every model fal hosts, through fal's queue (submit, status, result).

Reference followed: https://fal.ai/docs/documentation/model-apis/inference/queue and the queue
OpenAPI at https://fal.ai/docs/api-reference/inference-api/openapi/queue.json, with each model's
input schema at https://fal.ai/models/<endpoint id>/llms.txt (read 2026-12-02).
Submit: POST {base}/{endpoint id} -> {request_id, status_url, response_url}; status:
GET {base}/{app}/requests/{id}/status -> IN_QUEUE | IN_PROGRESS | COMPLETED; result:
GET {base}/{app}/requests/{id} -> the model's output ({"video": {"url": ...}} for video models).
The status and result URLs the submit answer names are followed (their paths, under base_url);
without them the OpenAPI's /{owner}/{app}/requests/{id} paths are used.
Auth: `Authorization: Key $FAL_KEY`. Images go as data URIs in image_url (fal accepts them).
"""

from __future__ import annotations

import re

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import ANY_RESOLUTION, Endpoint, Limits, Protocol

_ID = re.compile(r"^[\w.-]+/[\w.-]+(/[\w.-]+)*$")
_SQUARE = {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"}
_WIDE = {"16:9": "16:9", "9:16": "9:16"}


def _family(target: str) -> tuple[dict, Limits]:
    """The parameter mapping of the endpoint families fal documents; others get a generic one."""
    t = target.lower()
    base = {"prompt": "{prompt}", "image_url": "{image_data_uri}"}
    if "kling-video" in t:
        audio = any(v in t for v in ("v2.6", "v3", "v4"))
        body = {
            **base,
            "duration": "{duration_str}",
            "aspect_ratio": "{aspect}",
            "negative_prompt": "{negative_prompt}",
        }
        if audio:
            body["generate_audio"] = "{audio}"
        limits = Limits(
            (5, 10),
            aspects=_SQUARE,
            resolutions=ANY_RESOLUTION,
            audio="optional" if audio else "never",
        )
        return body, limits
    if "veo" in t:
        body = {
            **base,
            "duration": "{duration_s_str}",
            "aspect_ratio": "{aspect}",
            "resolution": "{resolution}",
            "negative_prompt": "{negative_prompt}",
            "seed": "{seed}",
            "generate_audio": "{audio}",
        }
        limits = Limits(
            (4, 6, 8),
            aspects=_WIDE,
            resolutions={"720p": "720p", "1080p": "1080p"},
            audio="optional",
        )
        return body, limits
    if "seedance" in t:
        v2 = "seedance-2" in t or "seedance/v2" in t or "2.0" in t
        audio = v2 or "v1.5" in t
        body = {
            **base,
            "duration": "{duration_str}",
            "aspect_ratio": "{aspect}",
            "resolution": "{resolution}",
            "seed": "{seed}",
        }
        if audio:
            body["generate_audio"] = "{audio}"
        limits = Limits(
            (),
            (4, 15) if v2 else (3, 12),
            aspects=_SQUARE,
            resolutions=ANY_RESOLUTION,
            audio="optional" if audio else "never",
        )
        return body, limits
    if "hailuo" in t or "minimax" in t:
        body = {**base, "duration": "{duration_str}", "prompt_optimizer": False}
        return body, Limits((6, 10), aspects={"16:9": "16:9"}, resolutions=ANY_RESOLUTION)
    if "ltx" in t:
        body = {
            **base,
            "duration": "{duration}",
            "resolution": "{resolution}",
            "aspect_ratio": "{aspect}",
            "generate_audio": "{audio}",
        }
        limits = Limits(
            (6, 8, 10), aspects={"16:9": "16:9"}, resolutions={"1080p": "1080p"}, audio="optional"
        )
        return body, limits
    if "luma" in t or "/ray" in t:
        body = {
            **base,
            "duration": "{duration_s_str}",
            "aspect_ratio": "{aspect}",
            "resolution": "{resolution}",
        }
        limits = Limits(
            (5, 9), aspects=_SQUARE, resolutions={"480p": "540p", "720p": "720p", "1080p": "1080p"}
        )
        return body, limits
    if "wan" in t:
        body = {
            **base,
            "duration": "{duration_str}",
            "aspect_ratio": "{aspect}",
            "resolution": "{resolution}",
            "negative_prompt": "{negative_prompt}",
            "seed": "{seed}",
        }
        return body, Limits((5, 10), aspects=_SQUARE, resolutions=ANY_RESOLUTION)
    # Any other endpoint (HappyHorse and the rest): the field names most fal video models share;
    # options extra.NAME add or override fields for an endpoint that differs.
    body = {
        **base,
        "duration": "{duration}",
        "aspect_ratio": "{aspect}",
        "resolution": "{resolution}",
        "negative_prompt": "{negative_prompt}",
        "seed": "{seed}",
    }
    return body, Limits((), (1, 15), aspects=_SQUARE, resolutions=ANY_RESOLUTION)


def _resolve(target: str) -> Endpoint:
    if not _ID.match(target):
        raise InputError(
            f"fal:{target}: not a fal endpoint id (owner/app[/path], e.g. "
            "fal-ai/kling-video/v2.1/standard/text-to-video)"
        )
    body, limits = _family(target)
    t = target.lower()
    if "image-to-video" in t:
        limits = Limits(**{**limits.__dict__, "t2v": False})
    elif "text-to-video" in t:
        limits = Limits(**{**limits.__dict__, "i2v": False})
    return Endpoint(
        body=body,
        limits=limits,
        submit_path="/{target}",
        status_path="/{app}/requests/{id}/status",
    )


PROTOCOL = Protocol(
    kind="fal",
    title="fal",
    reference="https://fal.ai/docs/documentation/model-apis/inference/queue (2026-12-02)",
    base_url="https://queue.fal.run",
    env=(("FAL_KEY",),),
    auth="key",
    resolve=_resolve,
    target_help="owner/app[/path]",
    example="fal-ai/kling-video/v2.6/pro/text-to-video",
    note="abilities differ per endpoint",
    id_field="request_id",
    request_id_field="request_id",
    status_field="status",
    done_values=("COMPLETED",),
    failed_values=(),
    failed_if=("error",),
    result_path="/{app}/requests/{id}",
    status_url_field="status_url",
    result_url_field="response_url",
    result_field="video.url",
    error_fields=("error", "error_type", "detail"),
    cost_fields={"inference_time_s": "metrics.inference_time"},
    check_path=None,  # fal documents no free authenticated call on the queue
    max_concurrent=4,
    poll_interval_s=3.0,
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
