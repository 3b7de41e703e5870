"""pony's sound baselines carry their one flaw, measured in the clip files they write."""

from __future__ import annotations

import numpy as np
import pytest
from pony_checks import audio_offset_ms

from generators.base import GenerationRequest
from generators.decode import decode_soundtrack
from generators.errors import InputError
from generators.pony.plan import plan_shots
from generators.pony.soundtrack import build_soundtrack
from generators.registry import build_generator

SPOKEN = GenerationRequest(
    'A woman in a green sweater stands in a park and says "Good morning, everyone, the sun is '
    'out."',
    seed=5,
    duration_s=3.0,
    resolution="480p",
)
# No voice: the bed is the whole sound, so a shift of the bed is a shift of the clip's sound.
EVENTS = GenerationRequest(
    "A dog runs across a green park while a cat watches", seed=3, duration_s=3.0, resolution="480p"
)
NEAR_FULL_SCALE = 10 ** (-1 / 20)  # within 1 dB of full scale


@pytest.fixture(scope="module")
def sounds(tmp_path_factory) -> dict[str, np.ndarray]:
    """Each model's decoded sound (samples, 2) for the request it is tested on."""
    folder = tmp_path_factory.mktemp("sound_flaws")
    out = {}
    for name, request in [
        ("pony", SPOKEN),
        ("pony-noisy", SPOKEN),
        ("pony-clipped", SPOKEN),
        ("pony/events", EVENTS),
        ("pony-late", EVENTS),
    ]:
        path = folder / f"{name.replace('/', '_')}.mp4"
        build_generator(f"builtin:{name.split('/')[0]}").generate(request, str(path))
        out[name], rate = decode_soundtrack(path)
        assert rate == 48000
    return out


def _snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """Level of the clean part over the level of what is not the clean sound (least squares)."""
    n = min(len(clean), len(noisy))
    clean, noisy = clean[:n].astype(np.float64), noisy[:n].astype(np.float64)
    scale = float(np.sum(clean * noisy) / np.sum(clean * clean))
    rest = noisy - scale * clean
    return 20 * np.log10(
        np.sqrt(np.mean((scale * clean) ** 2)) / (np.sqrt(np.mean(rest**2)) + 1e-12)
    )


def test_noisy_mixes_pink_noise_at_the_documented_snr(sounds) -> None:
    # In the file, through AAC: the clean clip's own coding error is far below the noise.
    assert _snr_db(sounds["pony"], sounds["pony-noisy"]) == pytest.approx(0.0, abs=1.0)
    assert _snr_db(sounds["pony"], sounds["pony"]) > 60
    # Before coding, exactly, at another strength; and the noise is pink: about equal power in
    # every octave (white noise would have twice the power an octave up).
    plan = plan_shots(SPOKEN.prompt, SPOKEN.seed, SPOKEN.duration_s)
    sound = build_soundtrack(plan, SPOKEN.duration_s)
    n = len(sound.mix)
    noisy = build_generator("builtin:pony-noisy?snr_db=15")._audio_out(sound, n, plan.seed)
    assert _snr_db(sound.mix, noisy) == pytest.approx(15.0, abs=0.1)
    scale = float(np.sum(sound.mix * noisy) / np.sum(sound.mix**2))
    spectrum = np.abs(np.fft.rfft((noisy - scale * sound.mix)[:, 0])) ** 2
    freqs = np.fft.rfftfreq(n, 1 / sound.sample_rate)
    octaves = [spectrum[(freqs >= f) & (freqs < 2 * f)].sum() for f in (250, 1000, 4000)]
    assert max(octaves) / min(octaves) < 1.5


def test_clipped_sits_at_full_scale(sounds) -> None:
    share = float(np.mean(np.abs(sounds["pony-clipped"]) >= NEAR_FULL_SCALE))
    clean = float(np.mean(np.abs(sounds["pony"]) >= NEAR_FULL_SCALE))
    assert share >= 0.01 and clean < 0.002, (share, clean)
    assert float(np.max(np.abs(sounds["pony"]))) < NEAR_FULL_SCALE  # pony peaks at -1 dBFS


def test_late_plays_the_scenes_sound_300ms_late_without_a_silent_start(sounds) -> None:
    clean, late = sounds["pony/events"][:, 0], sounds["pony-late"][:, 0]
    assert audio_offset_ms(clean, late, 48000) == pytest.approx(300, abs=5)
    assert abs(audio_offset_ms(clean, clean, 48000)) <= 1
    # The start gives nothing away: the first 100 ms carry sound at the level of the rest.
    head = np.sqrt(np.mean(late[int(0.05 * 48000) : int(0.15 * 48000)] ** 2))
    assert head > 0.3 * np.sqrt(np.mean(late**2))


def test_late_leaves_the_voices_on_time() -> None:
    plan = plan_shots(SPOKEN.prompt, SPOKEN.seed, SPOKEN.duration_s)
    clean = build_soundtrack(plan, SPOKEN.duration_s)
    late = build_soundtrack(plan, SPOKEN.duration_s, events_delay_s=0.12)
    assert np.array_equal(clean.speech, late.speech) and clean.spans == late.spans
    rate = clean.sample_rate
    bed, late_bed = clean.mix - clean.speech[:, None], late.mix - late.speech[:, None]
    assert audio_offset_ms(bed[:, 0], late_bed[:, 0], rate) == pytest.approx(120, abs=2)


def test_sound_baselines_take_their_parameter_in_range() -> None:
    assert build_generator("builtin:pony-noisy").flaws.noise_snr_db == 0.0
    assert build_generator("builtin:pony-clipped?db=12").flaws.clip_gain_db == 12.0
    assert build_generator("builtin:pony-late", ms=120).flaws.events_delay_ms == 120.0
    assert build_generator("builtin:pony").flaws.noise_snr_db is None
    for spec in ("builtin:pony-late?ms=5000", "builtin:pony-clipped?db=-3"):
        with pytest.raises(InputError, match="out of range"):
            build_generator(spec)
