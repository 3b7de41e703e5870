"""The built-in model and its calibrated baselines, built from `builtin:<name>?param=value`."""

from __future__ import annotations

from collections.abc import Callable

from generators.errors import InputError, UnknownGeneratorError
from generators.pony.generator import Flaws, PonyGenerator

# name -> (parameter, default, documented meaning)
BASELINE_PARAMS: dict[str, tuple[str, float, str]] = {
    "pony-lag": ("ms", 200.0, "audio delayed by this many milliseconds"),
    "pony-mute": ("fraction", 1.0, "1 drops the audio stream; below 1 silences that tail share"),
    "pony-drift": ("amount", 1.0, "0..1, how far the face turns into another one after shot 1"),
    "pony-flicker": ("amount", 0.12, "per-frame brightness gain drawn from 1 ± amount"),
    "pony-lowres": ("height", 360.0, "render at this many lines, then upscale"),
    "pony-freeze": ("hold", 3.0, "each shown frame is held this many frames; the others dropped"),
    "pony-noisy": ("snr_db", 0.0, "pink noise mixed this many dB below the clean sound's level"),
    "pony-clipped": ("db", 20.0, "sound boosted this many dB into a hard ceiling at full scale"),
    "pony-late": ("ms", 300.0, "ambient and event sounds (not speech) this many ms late"),
}
BUILTIN_NAMES = ("pony", *BASELINE_PARAMS)

_FLAW_OF: dict[str, Callable[[float], Flaws]] = {
    "pony-lag": lambda v: Flaws(audio_delay_ms=v),
    "pony-mute": lambda v: Flaws(mute_fraction=v),
    "pony-drift": lambda v: Flaws(drift_amount=v),
    "pony-flicker": lambda v: Flaws(flicker_amount=v),
    "pony-lowres": lambda v: Flaws(render_height=int(v)),
    "pony-freeze": lambda v: Flaws(freeze_hold=int(v)),
    "pony-noisy": lambda v: Flaws(noise_snr_db=v),
    "pony-clipped": lambda v: Flaws(clip_gain_db=v),
    "pony-late": lambda v: Flaws(events_delay_ms=v),
}
_RANGES = {
    "pony-lag": (0, 2000),
    "pony-mute": (0, 1),
    "pony-drift": (0, 1),
    "pony-flicker": (0, 0.9),
    "pony-lowres": (16, 4320),
    "pony-freeze": (1, 60),
    "pony-noisy": (-20, 60),
    "pony-clipped": (0, 40),
    "pony-late": (0, 1000),
}


def build_builtin(name: str, params: dict[str, str]) -> PonyGenerator:
    """pony or one of its baselines; unknown names and parameters raise PaddockErrors."""
    if name not in BUILTIN_NAMES:
        raise UnknownGeneratorError(
            f"unknown built-in model {name!r}: known are {', '.join(BUILTIN_NAMES)}"
        )
    if name == "pony":
        if params:
            raise InputError(f"builtin:pony takes no parameters, got {', '.join(params)}")
        return PonyGenerator()
    key, default, _ = BASELINE_PARAMS[name]
    extra = set(params) - {key}
    if extra:
        raise InputError(
            f"builtin:{name} takes only the parameter {key!r}, got {', '.join(sorted(extra))}"
        )
    try:
        value = float(params.get(key, default))
    except ValueError as exc:
        raise InputError(f"builtin:{name} parameter {key}={params[key]!r} is not a number") from exc
    lo, hi = _RANGES[name]
    if not lo <= value <= hi:
        raise InputError(f"builtin:{name} parameter {key}={value:g} is out of range {lo}..{hi}")
    return PonyGenerator(name, _FLAW_OF[name](value))


build = build_builtin  # the registry builds every kind through its module's `build`
