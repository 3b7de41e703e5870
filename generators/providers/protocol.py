"""A hosted video API's protocol as data: paths, request templates, status words, auth, limits."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generators.errors import GenerationError

# Placeholders a request template may use; the engine fills them from the GenerationRequest
# after fitting duration, aspect and resolution to the endpoint's limits.
PLACEHOLDERS = (
    "model",  # the model name the endpoint is called with
    "prompt",
    "negative_prompt",  # None (and so left out) unless the request has one
    "seed",
    "duration",  # number (int when whole)
    "duration_str",  # "5"
    "duration_s_str",  # "5s"
    "aspect",  # the provider's word for the aspect ("16:9", "1280:720", "1280x720")
    "resolution",  # the provider's word for the resolution
    "fps",
    "audio",  # bool
    "audio_onoff",  # "on" / "off"
    "image_data_uri",  # data:image/png;base64,... (None for text-to-video)
    "image_base64",  # the bare base64 text
    "image_mime",
    "image_file",  # (file name, bytes, mime): a file part of a multipart body
)


@dataclass(frozen=True)
class Limits:
    """What an endpoint can make, as its documentation states it.

    durations: the allowed lengths in seconds, or empty with duration_range for any length in it.
    aspects / resolutions: Paddock's word -> the provider's word, for every one it can make.
    audio: "never" (silent clips), "always" (sound whatever is asked), or "optional" (a field).
    """

    durations: tuple[float, ...] = ()
    duration_range: tuple[float, float] = (1.0, 15.0)
    aspects: dict[str, str] = field(default_factory=lambda: {"16:9": "16:9", "9:16": "9:16"})
    resolutions: dict[str, str] = field(default_factory=lambda: {"720p": "720p"})
    t2v: bool = True
    i2v: bool = True
    audio: str = "never"


@dataclass(frozen=True)
class Endpoint:
    """One model (or family of endpoints) of a provider: where to send it and what it takes."""

    body: dict[str, Any]  # text-to-video request template
    limits: Limits = field(default_factory=Limits)
    body_i2v: dict[str, Any] | None = None  # merged over body when an image is sent
    # A whole image-to-video template, used instead of body (a form with other fields)
    form_i2v: dict[str, Any] | None = None
    limits_i2v: Limits | None = None  # what the image-to-video form can make, when it differs
    # Fields sound needs (Kling v2.6 makes sound in pro mode only): merged over the body when
    # sound is asked, and recorded with the clip as adjusted [template value, sent value].
    body_audio: dict[str, Any] | None = None
    submit_path: str = ""
    submit_path_i2v: str | None = None
    status_path: str = ""
    status_path_i2v: str | None = None
    model: str = ""  # the model name sent ({model}); the target itself when empty


@dataclass(frozen=True)
class Protocol:
    """How to talk to one provider. Paths may use {base}, {target}, {app}, {id}, {model}."""

    kind: str
    title: str
    reference: str  # the documentation page followed, and when it was read
    base_url: str
    env: tuple[tuple[str, ...], ...]  # each group: one of these variables must be set
    auth: str  # bearer | key | goog | jwt
    resolve: Callable[[str], Endpoint]  # target -> its endpoint; InputError on a bad target
    target_help: str  # the target's form, for messages ("owner/model[:version]")
    # An endpoint whose abilities stand for the provider in `paddock providers list`, and the
    # model `providers check` asks about when given none.
    example: str
    id_field: str = "id"
    status_field: str = "status"
    done_values: tuple[Any, ...] = ("succeeded",)
    failed_values: tuple[Any, ...] = ("failed",)
    result_field: str = "output"
    result_path: str | None = None  # GET this (after done) for the result, instead of status
    # Where the submit answer names the status / result URLs itself (fal): their paths are
    # used, under base_url, before the templates above.
    status_url_field: str | None = None
    result_url_field: str | None = None
    download_path: str | None = None  # the video is fetched from here (authenticated)
    download_auth: bool = False  # the result URL itself wants the key (not a signed URL)
    error_fields: tuple[str, ...] = ("error",)
    failed_if: tuple[str, ...] = ()  # a done answer with any of these present has failed
    moderation_fields: tuple[str, ...] = ()  # non-empty here: the provider filtered the result
    moderation_markers: tuple[str, ...] = (
        "moderation",
        "safety",
        "content policy",
        "content security",
        "nsfw",
        "sensitive",
        "risk control",
    )
    request_id_field: str = "id"
    cost_fields: dict[str, str] = field(default_factory=dict)  # provenance name -> answer path
    # Statuses that mean the job is still waiting its turn (its queue time is measured from
    # them, where the answer gives no start time of its own).
    queued_values: tuple[Any, ...] = (
        "IN_QUEUE",
        "queued",
        "pending",
        "PENDING",
        "starting",
        "submitted",
        "THROTTLED",
    )
    headers: dict[str, str] = field(default_factory=dict)
    check_path: str | None = None  # the cheapest authenticated GET, if the provider has one
    retired: str | None = None  # why the default endpoint no longer serves, when it does not
    # A single key sent as `Authorization: Bearer`: when set, it replaces the env groups
    key_env: str | None = None
    body_encoding: str = "json"  # json | multipart (form fields, image_file as a file part)
    # A failed status's meaning, the reason given when the answer names none (Replicate aborted)
    status_reasons: dict[str, str] = field(default_factory=dict)
    note: str = ""  # shown beside the example's abilities (when they differ per endpoint)
    max_concurrent: int = 4
    poll_interval_s: float = 5.0

    @property
    def env_names(self) -> list[str]:
        return [name for group in self.env for name in group] + [self.key_env] * bool(self.key_env)


# ---------------------------------------------------------------------------- fitting to limits
ANY_RESOLUTION = {"480p": "480p", "720p": "720p", "1080p": "1080p"}  # the endpoint picks its own


def fit_duration(seconds: float, limits: Limits, rounding: bool) -> float:
    """The length the endpoint will be asked for: seconds itself, the nearest allowed one when
    rounding, else GenerationError naming the allowed lengths."""
    if limits.durations:
        if any(math.isclose(seconds, d) for d in limits.durations):
            return seconds
        allowed = ", ".join(f"{d:g}" for d in limits.durations)
        if not rounding:
            raise GenerationError(f"duration {seconds:g} s is not offered: use one of {allowed} s")
        return min(limits.durations, key=lambda d: (abs(d - seconds), d))
    low, high = limits.duration_range
    if low <= seconds <= high:
        return float(round(seconds))
    if not rounding:
        raise GenerationError(f"duration {seconds:g} s is not offered: use {low:g} to {high:g} s")
    return min(max(float(round(seconds)), low), high)


def fit_aspect(aspect: str, limits: Limits, rounding: bool) -> tuple[str, str]:
    """(Paddock aspect used, the provider's word). Rounding takes the nearest shape; a tie
    (1:1 between 16:9 and 9:16) is refused rather than guessed."""
    if aspect in limits.aspects:
        return aspect, limits.aspects[aspect]
    allowed = ", ".join(limits.aspects)
    if rounding:
        target = _log_ratio(aspect)
        ranked = sorted(limits.aspects, key=lambda a: abs(_log_ratio(a) - target))
        if len(ranked) == 1 or abs(_log_ratio(ranked[0]) - target) < abs(
            _log_ratio(ranked[1]) - target
        ):
            return ranked[0], limits.aspects[ranked[0]]
    raise GenerationError(f"aspect {aspect} is not offered: use one of {allowed}")


def fit_resolution(resolution: str, limits: Limits, rounding: bool) -> tuple[str, str]:
    if resolution in limits.resolutions:
        return resolution, limits.resolutions[resolution]
    allowed = ", ".join(limits.resolutions)
    if not rounding or not limits.resolutions:
        raise GenerationError(f"resolution {resolution} is not offered: use one of {allowed}")
    lines = int(resolution.rstrip("p"))
    best = min(limits.resolutions, key=lambda r: (abs(_lines(r) - lines), -_lines(r)))
    return best, limits.resolutions[best]


def _lines(resolution: str) -> int:
    digits = re.sub(r"\D", "", resolution)
    return int(digits) if digits else 0


def _log_ratio(aspect: str) -> float:
    w, h = (float(x) for x in aspect.split(":"))
    return math.log(w / h)


def number(value: float) -> int | float:
    """5.0 -> 5: APIs that take whole seconds refuse 5.0."""
    return int(value) if float(value).is_integer() else value
