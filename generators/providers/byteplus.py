"""`byteplus:<seedance model>`: Seedance on BytePlus ModelArk's content-generation tasks.

Reference followed: BytePlus ModelArk "Video generation API" (create / retrieve a content
generation task), https://docs.byteplus.com/en/docs/ModelArk/1520757 (read 2026-12-02).
Create: POST {base}/api/v3/contents/generations/tasks {model, content: [{type: text, text},
{type: image_url, image_url: {url}, role: first_frame}], ratio, duration, resolution, seed,
generate_audio, watermark} -> {id}; status: GET {base}/api/v3/contents/generations/tasks/{id} ->
queued | running | succeeded | failed | cancelled | expired, with content.video_url (valid 24 h),
usage.total_tokens (what is billed) and error {code, message}; a content refusal has a code like
InputTextSensitiveContentDetected. Auth: `Authorization: Bearer $ARK_API_KEY` (keys are
regional: base_url picks the region). Images go as data URIs in image_url.url.
"""

from __future__ import annotations

import re

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import ANY_RESOLUTION, Endpoint, Limits, Protocol

_ID = re.compile(r"^[\w.-]+$")
_RATIOS = {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"}


def _limits(model: str) -> Limits:
    m = model.lower()
    if "seedance-2" in m:
        return Limits((), (4, 15), aspects=_RATIOS, resolutions=ANY_RESOLUTION, audio="optional")
    if "seedance-1-5" in m:
        return Limits((), (4, 12), aspects=_RATIOS, resolutions=ANY_RESOLUTION, audio="optional")
    lite_t2v, lite_i2v = "lite-t2v" in m, "lite-i2v" in m
    return Limits(
        (), (2, 12), aspects=_RATIOS, resolutions=ANY_RESOLUTION, t2v=not lite_i2v, i2v=not lite_t2v
    )


def _resolve(target: str) -> Endpoint:
    if not _ID.match(target):
        raise InputError(
            f"byteplus:{target}: not a ModelArk model or endpoint id (e.g. "
            "dreamina-seedance-2-0-260128, seedance-1-5-pro-251215, ep-...)"
        )
    limits = _limits(target)
    body = {
        "model": "{model}",
        "content": [{"type": "text", "text": "{prompt}"}],
        "ratio": "{aspect}",
        "duration": "{duration}",
        "resolution": "{resolution}",
        "seed": "{seed}",
        "watermark": False,
    }
    if limits.audio == "optional":
        body["generate_audio"] = "{audio}"
    image = {"type": "image_url", "image_url": {"url": "{image_data_uri}"}, "role": "first_frame"}
    return Endpoint(
        body=body,
        body_i2v={"content": [{"type": "text", "text": "{prompt}"}, image]},
        limits=limits,
        submit_path="/api/v3/contents/generations/tasks",
        status_path="/api/v3/contents/generations/tasks/{id}",
    )


PROTOCOL = Protocol(
    kind="byteplus",
    title="BytePlus ModelArk",
    reference="https://docs.byteplus.com/en/docs/ModelArk/1520757 (2026-12-02)",
    base_url="https://ark.ap-southeast.bytepluses.com",
    env=(("ARK_API_KEY",),),
    auth="bearer",
    resolve=_resolve,
    target_help="ModelArk model or endpoint id",
    example="dreamina-seedance-2-0-260128",
    status_field="status",
    done_values=("succeeded",),
    failed_values=("failed", "cancelled", "expired"),
    result_field="content.video_url",
    error_fields=("error",),
    cost_fields={"usage_tokens": "usage.total_tokens"},
    check_path="/api/v3/contents/generations/tasks?page_num=1&page_size=1",
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
