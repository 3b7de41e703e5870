"""`runway:<model>`: Runway's API (text_to_video / image_to_video tasks, versioned by header).

Reference followed: https://docs.dev.runwayml.com/api/ and the getting-started guide
https://docs.dev.runwayml.com/guides/using-the-api (read 2026-12-02), with the per-model request
forms of Runway's published Python SDK (text_to_video / image_to_video params, July 2026;
re-read 2026-12-05 at runwayml/sdk-python c604e0e, the image-to-video forms model by model).
Submit: POST {base}/v1/text_to_video or /v1/image_to_video {model, promptText, promptImage,
ratio, duration, seed} -> {id}; status: GET {base}/v1/tasks/{id} -> PENDING | THROTTLED | RUNNING
| SUCCEEDED | FAILED | CANCELLED, with `output` (URLs), `failure` and `failureCode` (SAFETY.* for a
content refusal). Only gen4.5 and gen4_turbo take a seed; seedance2 takes `audio`. Each model's
image-to-video body is built from its own form: happyhorse_1_0 takes no `ratio` there (the clip
follows the input image) and takes `resolution` "720P" | "1080P". Headers: `Authorization:
Bearer $RUNWAYML_API_SECRET`, `X-Runway-Version: 2024-11-06`. Images go as data URIs in
promptImage. Gen-3 Alpha Turbo (gen3a_turbo) was retired on 2026-07-30 and is refused by name.
"""

from __future__ import annotations

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import Endpoint, Limits, Protocol

_WIDE = {"16:9": "1280:720", "9:16": "720:1280"}
_SQUARE = {**_WIDE, "1:1": "960:960"}
_RES = {"720p": "720p"}
_HH_RES = {"720p": "720P", "1080p": "1080P"}  # HappyHorse image-to-video quality tiers
# model -> its image-to-video form, where it is not the text-to-video one plus promptImage
# (runwayml/sdk-python image_to_video_create_params, read 2026-12-05).
FORMS_I2V = {
    "happyhorse_1_0": {
        "model": "{model}",
        "promptImage": "{image_data_uri}",
        "promptText": "{prompt}",
        "duration": "{duration}",
        "resolution": "{resolution}",
    },
}
LIMITS_I2V = {
    "gen4.5": Limits((), (2, 10), aspects=_SQUARE, resolutions=_RES),  # 960:960 from an image
    "happyhorse_1_0": Limits((), (3, 15), aspects=_SQUARE, resolutions=_HH_RES),
}
# model -> (limits, the fields it takes beyond model/promptText/ratio/duration). The ratios are
# the ones its text-to-video form takes (gen4.5 takes 960:960 only for image-to-video).
MODELS = {
    "gen4.5": (Limits((), (2, 10), aspects=_WIDE, resolutions=_RES), {"seed": "{seed}"}),
    "gen4_turbo": (
        Limits((5, 10), aspects=_SQUARE, resolutions=_RES, t2v=False),
        {"seed": "{seed}"},
    ),
    "happyhorse_1_0": (Limits((), (3, 15), aspects=_SQUARE, resolutions=_RES), {}),
    "seedance2": (
        Limits((), (4, 15), aspects=_SQUARE, resolutions=_RES, audio="optional"),
        {"audio": "{audio}"},
    ),
    "seedance2_fast": (
        Limits((), (4, 15), aspects=_SQUARE, resolutions=_RES, audio="optional"),
        {"audio": "{audio}"},
    ),
    "veo3.1": (Limits((4, 6, 8), aspects=_WIDE, resolutions=_RES, audio="always"), {}),
    "veo3.1_fast": (Limits((4, 6, 8), aspects=_WIDE, resolutions=_RES, audio="always"), {}),
    "veo3": (Limits((8,), aspects=_WIDE, resolutions=_RES, audio="always"), {}),
}
RETIRED = {"gen3a_turbo": "Runway retired Gen-3 Alpha Turbo on 2026-07-30; use gen4.5"}


def _resolve(target: str) -> Endpoint:
    if target in RETIRED:
        raise InputError(f"runway:{target}: {RETIRED[target]}")
    if target not in MODELS:
        raise InputError(f"runway:{target}: unknown Runway model; known: {', '.join(MODELS)}")
    limits, fields = MODELS[target]
    body = {
        "model": "{model}",
        "promptText": "{prompt}",
        "ratio": "{aspect}",
        "duration": "{duration}",
        **fields,
    }
    return Endpoint(
        body=body,
        form_i2v=FORMS_I2V.get(target, {**body, "promptImage": "{image_data_uri}"}),
        limits=limits,
        limits_i2v=LIMITS_I2V.get(target),
        submit_path="/v1/text_to_video",
        submit_path_i2v="/v1/image_to_video",
        status_path="/v1/tasks/{id}",
    )


PROTOCOL = Protocol(
    kind="runway",
    title="Runway",
    reference="https://docs.dev.runwayml.com/api/ (2026-12-05)",
    base_url="https://api.dev.runwayml.com",
    env=(("RUNWAYML_API_SECRET",),),
    auth="bearer",
    headers={"X-Runway-Version": "2024-11-06"},
    resolve=_resolve,
    target_help=" | ".join(MODELS),
    example="gen4.5",
    status_field="status",
    done_values=("SUCCEEDED",),
    failed_values=("FAILED", "CANCELLED"),
    result_field="output",
    error_fields=("failureCode", "failure", "error"),
    check_path="/v1/organization",
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
