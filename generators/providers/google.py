"""`google:<veo model>`: Veo on the Gemini API, as a long-running predictLongRunning operation.

Reference followed: https://ai.google.dev/gemini-api/docs/video (REST tab) and
https://ai.google.dev/api/models#method:-models.predictlongrunning (read 2026-12-02).
Submit: POST {base}/v1beta/models/{model}:predictLongRunning {"instances": [{prompt, image}],
"parameters": {aspectRatio, durationSeconds, resolution, negativePrompt}} -> {name: the
operation}; status: GET {base}/v1beta/{operation name} -> {done, response.generateVideoResponse
.generatedSamples[].video.uri} or {done, error}; a sample withheld by the safety filters shows
in raiMediaFilteredReasons. The video URI is fetched with the same key. Auth: `x-goog-api-key`
from $GEMINI_API_KEY (or $GOOGLE_API_KEY). Images go inline (bytesBase64Encoded + mimeType).
Google's Python SDK (google-genai, models.py, August 2026) refuses `seed`, `fps` and
`generateAudio` for the Gemini API (Vertex only), so none is sent: Veo 3 clips always have sound.
Vertex AI serves the same models with OAuth tokens and a project path: not a preset here.
"""

from __future__ import annotations

import re

from generators.errors import InputError
from generators.providers.engine import build as _build
from generators.providers.protocol import Endpoint, Limits, Protocol

_ID = re.compile(r"^veo-[\w.-]+$")
_WIDE = {"16:9": "16:9", "9:16": "9:16"}


def _limits(model: str) -> Limits:
    if model.startswith("veo-2"):
        return Limits((), (5, 8), aspects=_WIDE, resolutions={"720p": "720p"})
    # Veo 3 and 3.1 make sound with every clip; 1080p only for 8 s clips (the API refuses
    # other lengths at 1080p with its own message).
    return Limits(
        (4, 6, 8), aspects=_WIDE, resolutions={"720p": "720p", "1080p": "1080p"}, audio="always"
    )


def _resolve(target: str) -> Endpoint:
    if not _ID.match(target):
        raise InputError(
            f"google:{target}: not a Veo model id (e.g. veo-3.1-generate-preview, "
            "veo-3.0-generate-001)"
        )
    parameters = {
        "aspectRatio": "{aspect}",
        "durationSeconds": "{duration}",
        "negativePrompt": "{negative_prompt}",
    }
    if not target.startswith("veo-2"):
        parameters["resolution"] = "{resolution}"
    return Endpoint(
        body={
            "instances": [
                {
                    "prompt": "{prompt}",
                    "image": {"bytesBase64Encoded": "{image_base64}", "mimeType": "{image_mime}"},
                }
            ],
            "parameters": parameters,
        },
        limits=_limits(target),
        submit_path="/v1beta/models/{model}:predictLongRunning",
        status_path="/v1beta/{id}",
    )


PROTOCOL = Protocol(
    kind="google",
    title="Google Gemini API",
    reference="https://ai.google.dev/gemini-api/docs/video (2026-12-02)",
    base_url="https://generativelanguage.googleapis.com",
    env=(("GEMINI_API_KEY", "GOOGLE_API_KEY"),),
    auth="goog",
    resolve=_resolve,
    target_help="veo-<version>",
    example="veo-3.1-generate-preview",
    id_field="name",
    request_id_field="name",
    status_field="done",
    done_values=(True,),
    failed_values=(),
    failed_if=("error",),
    moderation_fields=("response.generateVideoResponse.raiMediaFilteredReasons",),
    result_field="response.generateVideoResponse.generatedSamples.0.video.uri",
    error_fields=("error",),
    download_auth=True,
    check_path="/v1beta/models/{model}",
    max_concurrent=2,
    poll_interval_s=10.0,
)


def build(target: str, params: dict[str, str]):
    return _build(PROTOCOL, target, params)
