"""`kling:<model>`: Kling's own API (text2video / image2video / omni-video tasks).

Reference followed: Kling AI API documentation (https://app.klingai.com/global/dev/document-api),
"General Info", "Text to Video", "Image to Video", "Video Omni" and the capability map, read
2026-12-02 and re-checked 2026-12-05 (Kling's pages as mirrored publicly; the 3.0 series is
marked "now fully available").
Host: the general-information page says the endpoint moved from https://api.klingai.com to
https://api-singapore.klingai.com (for servers outside China); keys of the two systems are not
interchangeable, so the old host is reached with base_url.
Auth: a JWT (HS256) with iss = $KLING_ACCESS_KEY, exp = now + 30 min, nbf = now - 5 s, signed with
$KLING_SECRET_KEY, sent as `Authorization: Bearer <token>` (made with the standard library); or a
single API key in $KLING_API_KEY sent as `Authorization: Bearer <key>` (third-party notes: the
AK/SK token covers models up to 3.0; the single key replaces the pair when set).
Create: POST {base}/v1/videos/text2video {model_name, prompt, negative_prompt, duration "5",
aspect_ratio, mode, sound} or /v1/videos/image2video {model_name, image (bare base64), prompt,
negative_prompt, duration, mode, sound} (no aspect_ratio: the clip follows the image) ->
{code, message, request_id, data: {task_id, task_status}}; status: GET {base}/v1/videos/
<text2video|image2video>/{task_id} -> data.task_status submitted | processing | succeed | failed,
data.task_status_msg, data.task_result.videos[0].url. Models from v2.6 take `sound` ("on"/"off");
the capability map gives kling-v2-6 sound in pro mode only (std: "silent video only"), so a clip
with sound is asked in pro and that is recorded with the clip. kling-v3 takes 3-15 s and sound
in std. kling-v3-omni, asked in pro (its capability map, as a reseller reproduces it, offers no
single-shot text-to-video in std): POST {base}/v1/videos/omni-video {model_name, prompt,
multi_shot, mode, aspect_ratio (text only), duration "3".."15", sound, image_list [{image_url,
type: first_frame}]};
status at /v1/videos/omni-video/{task_id} with the same answer. Multi-shot narrative is asked with
extra.multi_shot=true and extra.shot_type / extra.multi_prompt.
"""

from __future__ import annotations

import re

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import ANY_RESOLUTION, Endpoint, Limits, Protocol

_ID = re.compile(r"^kling-v[\w.-]+$")
_ASPECTS = {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"}
_COMMON = {
    "model_name": "{model}",
    "prompt": "{prompt}",
    "duration": "{duration_str}",
    "mode": "std",
}


def _omni() -> Endpoint:
    # pro: the 3.0 Omni capability map has no single-shot text-to-video in std
    body = {**_COMMON, "mode": "pro", "multi_shot": False, "sound": "{audio_onoff}"}
    return Endpoint(
        body={**body, "aspect_ratio": "{aspect}"},
        form_i2v={**body, "image_list": [{"image_url": "{image_base64}", "type": "first_frame"}]},
        limits=Limits((), (3, 15), aspects=_ASPECTS, resolutions=ANY_RESOLUTION, audio="optional"),
        submit_path="/v1/videos/omni-video",
        status_path="/v1/videos/omni-video/{id}",
    )


def _resolve(target: str) -> Endpoint:
    if not _ID.match(target):
        raise InputError(
            f"kling:{target}: not a Kling model name (e.g. kling-v2-6, kling-v3, kling-v3-omni)"
        )
    if target.startswith("kling-v3") and "omni" in target:
        return _omni()
    v3 = target.startswith("kling-v3")
    sound = v3 or "v2-6" in target
    body = {**_COMMON, "negative_prompt": "{negative_prompt}"}
    if sound:
        body["sound"] = "{audio_onoff}"
    return Endpoint(
        body={**body, "aspect_ratio": "{aspect}"},
        form_i2v={**body, "image": "{image_base64}"},
        limits=Limits(
            () if v3 else (5, 10),
            (3, 15),
            aspects=_ASPECTS,
            resolutions=ANY_RESOLUTION,
            audio="optional" if sound else "never",
        ),
        body_audio={"mode": "pro"} if sound and not v3 else None,
        submit_path="/v1/videos/text2video",
        submit_path_i2v="/v1/videos/image2video",
        status_path="/v1/videos/text2video/{id}",
        status_path_i2v="/v1/videos/image2video/{id}",
    )


PROTOCOL = Protocol(
    kind="kling",
    title="Kling",
    reference="https://app.klingai.com/global/dev/document-api (2026-12-05)",
    base_url="https://api-singapore.klingai.com",
    env=(("KLING_ACCESS_KEY",), ("KLING_SECRET_KEY",)),
    key_env="KLING_API_KEY",
    auth="jwt",
    resolve=_resolve,
    target_help="kling-v<version>",
    example="kling-v3-omni",
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
