"""`kling:<model>`: Kling's own API (text2video / image2video tasks), authenticated by a JWT.

Reference followed: Kling AI API documentation, "API authentication" and "Video generation"
(https://app.klingai.com/global/dev/document-api), read 2026-12-02.
Auth: a JWT (HS256) with iss = $KLING_ACCESS_KEY, exp = now + 30 min, nbf = now - 5 s, signed with
$KLING_SECRET_KEY, sent as `Authorization: Bearer <token>` (made with the standard library).
Create: POST {base}/v1/videos/text2video or /v1/videos/image2video {model_name, prompt,
negative_prompt, duration "5", aspect_ratio, mode, image (bare base64)} -> {code, message,
request_id, data: {task_id, task_status}}; status: GET {base}/v1/videos/text2video/{task_id} ->
data.task_status submitted | processing | succeed | failed, data.task_status_msg, and
data.task_result.videos[0].url. Models from v2.6 take `sound` ("on"/"off").
"""

from __future__ import annotations

import re

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import ANY_RESOLUTION, Endpoint, Limits, Protocol

_ID = re.compile(r"^kling-v[\w.-]+$")


def _resolve(target: str) -> Endpoint:
    if not _ID.match(target):
        raise InputError(
            f"kling:{target}: not a Kling model name (e.g. kling-v2-1-master, kling-v2-6)"
        )
    sound = any(v in target for v in ("v2-6", "v3"))
    body = {
        "model_name": "{model}",
        "prompt": "{prompt}",
        "negative_prompt": "{negative_prompt}",
        "duration": "{duration_str}",
        "aspect_ratio": "{aspect}",
        "mode": "std",
    }
    if sound:
        body["sound"] = "{audio_onoff}"
    return Endpoint(
        body=body,
        body_i2v={"image": "{image_base64}"},
        limits=Limits(
            (5, 10),
            aspects={"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"},
            resolutions=ANY_RESOLUTION,
            audio="optional" if sound else "never",
        ),
        submit_path="/v1/videos/text2video",
        submit_path_i2v="/v1/videos/image2video",
        status_path="/v1/videos/text2video/{id}",
        status_path_i2v="/v1/videos/image2video/{id}",
    )


PROTOCOL = Protocol(
    kind="kling",
    title="Kling",
    reference="https://app.klingai.com/global/dev/document-api (2026-12-02)",
    base_url="https://api.klingai.com",
    env=(("KLING_ACCESS_KEY",), ("KLING_SECRET_KEY",)),
    auth="jwt",
    resolve=_resolve,
    target_help="kling-v<version>",
    example="kling-v2-6",
    id_field="data.task_id",
    request_id_field="request_id",
    status_field="data.task_status",
    done_values=("succeed",),
    failed_values=("failed",),
    result_field="data.task_result.videos.0.url",
    error_fields=("data.task_status_msg", "message"),
    check_path="/v1/videos/text2video?pageNum=1&pageSize=1",
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
