"""Sound events in step with the picture: audio onsets against picture changes, for any content.

The audio's onset strength (half-wave rectified spectral flux) is cross-correlated with the
picture's change envelope (rise of the frame-difference energy, over the whole frame and on a
4x4 grid so that a small moving object counts) over lags of +-1 s. No face and no learned model.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage, signal

from metrics.base import ClipContext, Metric, MetricResult
from metrics.lipsync import refine_peak, zscore

MAX_LAG_S = 1.0  # lags searched either side
GRID = 4  # picture cells per side
FLUX_WINDOW_S, FLUX_HOP_S = 0.032, 0.01  # STFT of the onset envelope
FLUX_BAND_HZ = (60.0, 7500.0)
FLUX_BANDS = 32
DETREND_S = 0.6  # moving median removed from both envelopes: only changes faster than this count
SMOOTH_FRAMES = 0.7  # Gaussian smoothing of both envelopes (sigma, frames)
WHITEN_BINS = 15  # auto-spectrum smoothing (frequency bins) of the whitened correlation
WEIGHT_SHARPNESS = 2.0  # softmax over the cells' peak z: 0 would average a small object away
EDGE_S = 0.2  # envelopes ignored at each end of the clip
MIN_DURATION_S = 2.0
MIN_EVENTS = 3
MIN_CONFIDENCE = 4.5  # z of the peak against the far lags (calibrated in docs/metrics.md)
MIN_MARGIN = 2.0  # ... and over the runner-up peak within +-MAX_LAG_S, on the same scale
OUT_OF_SYNC_MS = 80.0
EVENT_SPACING_S = 0.1  # onsets closer than this count once


def _band_edges(top_hz: float, min_width_hz: float) -> np.ndarray:
    """Log-spaced band edges from FLUX_BAND_HZ[0], no band narrower than min_width_hz (a band
    of one or two FFT bins is mostly noise)."""
    ratio = (top_hz / FLUX_BAND_HZ[0]) ** (1.0 / FLUX_BANDS)
    edges = [FLUX_BAND_HZ[0]]
    while edges[-1] < top_hz:
        edges.append(min(max(edges[-1] * ratio, edges[-1] + min_width_hz), top_hz))
    return np.asarray(edges)


def onset_strength(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Half-wave rectified log-magnitude spectral flux and the time (s) of each value, on the
    audio's own clock (sample 0 at 0 s)."""
    win = int(round(FLUX_WINDOW_S * rate))
    hop = int(round(FLUX_HOP_S * rate))
    x = audio.astype(np.float64)
    if len(x) < win + hop:
        return np.zeros(0), np.zeros(0)
    n = 1 + (len(x) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    power = np.abs(np.fft.rfft(x[idx] * np.hanning(win), axis=1)) ** 2
    freqs = np.fft.rfftfreq(win, 1.0 / rate)
    # log-spaced bands, as a mel spectrogram has: per-bin log magnitudes of noise jump about
    # from frame to frame and would read as onsets everywhere
    edges = _band_edges(min(FLUX_BAND_HZ[1], rate / 2), 4 * rate / win)
    band = np.searchsorted(edges, freqs, side="right") - 1
    inside = (band >= 0) & (band < len(edges) - 1)
    bands = np.zeros((n, len(edges) - 1))
    for k in np.unique(band[inside]):
        bands[:, k] = power[:, band == k].sum(axis=1)
    used = bands[:, bands.max(axis=0) > 0]
    if used.size == 0:
        return np.zeros(n - 1), (np.arange(1, n) * hop + win / 2) / rate
    # log compression with a floor 60 dB under the loudest band: quiet hiss gives no flux
    log_band = np.log10(np.maximum(used, float(used.max()) * 1e-6))
    flux = np.maximum(np.diff(log_band, axis=0), 0.0).sum(axis=1)
    times = (np.arange(1, n) * hop + win / 2) / rate
    return flux, times


def audio_onsets(
    flux: np.ndarray, times: np.ndarray, frame_times: np.ndarray, audio_start_s: float
) -> np.ndarray:
    """The onset strength summed over each video frame's interval (previous frame, this frame],
    the interval in which that frame's picture change happened."""
    clip_times = times + audio_start_s
    step = float(np.median(np.diff(frame_times))) if len(frame_times) > 1 else 1.0
    edges = np.concatenate([[frame_times[0] - step], frame_times])
    which = np.searchsorted(edges, clip_times, side="left") - 1
    inside = (which >= 0) & (which < len(frame_times))
    summed = np.bincount(which[inside], weights=flux[inside], minlength=len(frame_times))
    # compressed: one burst (a splice, a gap of digital silence) must not outweigh every event
    return np.log1p(summed / (float(np.median(summed)) + 1e-9))


def count_events(flux: np.ndarray) -> int:
    """Distinct onsets: flux peaks far above its typical level (median + 6 robust deviations)."""
    if len(flux) < 3:
        return 0
    med = float(np.median(flux))
    spread = 1.4826 * float(np.median(np.abs(flux - med)))
    height = max(med + 6.0 * spread, 0.25 * float(flux.max()), 1e-9)
    peaks, _ = signal.find_peaks(
        flux, height=height, distance=max(1, int(EVENT_SPACING_S / FLUX_HOP_S))
    )
    return int(len(peaks))


def picture_changes(small: np.ndarray, cuts: list[int], grid: int = GRID) -> np.ndarray:
    """Change envelopes, shape (grid*grid + 1, frames): the rise of the mean absolute frame
    difference in each cell (row-major) and over the whole frame (last row).

    Entry i is the change between frames i-1 and i; frames that start a shot hold the cell's
    median instead (a cut changes everything and makes no sound).
    """
    t = len(small)
    h, w = small.shape[1:3]
    size = (max(grid, (w // (4 * grid)) * grid), max(grid, (h // (4 * grid)) * grid))
    grey = np.stack(
        [
            cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
            for f in small
        ]
    ).astype(np.float32)
    diff = np.abs(np.diff(grey, axis=0))  # (t-1, h, w)
    gh, gw = size[1] // grid, size[0] // grid
    cells = diff.reshape(t - 1, grid, gh, grid, gw).mean(axis=(2, 4)).reshape(t - 1, -1)
    energy = np.concatenate([cells, diff.mean(axis=(1, 2))[:, None]], axis=1).T
    energy = np.concatenate([energy[:, :1], energy], axis=1)  # frame 0: no earlier frame
    masked = [c for c in cuts if 0 < c < t]
    for c in masked:
        energy[:, c] = np.median(energy, axis=1)
    # log: a change that doubles counts the same in a dark and a bright cell
    level = np.log(energy + 1.0)
    rise = np.maximum(np.diff(level, axis=1, prepend=level[:, :1]), 0.0)
    for c in masked:
        rise[:, c : c + 2] = 0.0
    return rise


def _detrend(x: np.ndarray, fps: float) -> np.ndarray:
    """Slow trends removed, then smoothed over about a frame: an event that falls between two
    frames must still meet its sound when the offset is not a whole number of frames."""
    size = max(3, int(round(DETREND_S * fps)) | 1)
    fast = x - ndimage.median_filter(x, size=size, mode="nearest")
    return ndimage.gaussian_filter1d(fast, SMOOTH_FRAMES, mode="wrap")


def _circular_xcorr(picture: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Correlation at every circular lag L (picture[t] against audio[t - L]); rows: signals.

    Whitened (SCOT, as lipsync's confidence): each cross-spectrum is divided by the smoothed
    auto-spectra, so the rhythm of speech or of a walk (a broad, periodic correlation) does
    not pass for an alignment and a train of sharp events gives a sharp peak.
    """
    n = picture.shape[-1]
    spec_p, spec_a = np.fft.rfft(picture, axis=-1), np.fft.rfft(audio)
    if WHITEN_BINS:
        smooth = min(WHITEN_BINS, max(1, spec_a.shape[-1] // 4))
        power_p = ndimage.uniform_filter1d(np.abs(spec_p) ** 2, smooth, axis=-1)
        power_a = ndimage.uniform_filter1d(np.abs(spec_a) ** 2, smooth)
        spec_p = spec_p / (np.sqrt(power_p) + 1e-12)
        spec_a = spec_a / (np.sqrt(power_a) + 1e-12)
    return np.fft.irfft(spec_p * np.conj(spec_a), n, axis=-1) / n


def sync_offset(picture: np.ndarray, audio: np.ndarray, fps: float) -> tuple[float, float, float]:
    """(offset in frames, positive: sound late; confidence z; margin z) of audio onsets against
    the picture change envelopes (rows of `picture`, e.g. from picture_changes).

    Each envelope's correlation curve is weighted by exp(WEIGHT_SHARPNESS * z) of its own best
    value at any circular lag (so the cells that hold the events dominate, and choosing the
    weights favours no lag over another). The combined curve's peak within +-MAX_LAG_S is the
    offset; its height against the curve at the far lags (a null of circular shifts) is the
    confidence, and its height over the runner-up peak in the window, on the same scale, the
    margin.
    """
    n = picture.shape[1]
    max_lag = int(min(round(MAX_LAG_S * fps), n // 4))
    a = zscore(_detrend(audio, fps))
    rows = np.stack([zscore(_detrend(p, fps)) for p in picture])
    curves = _circular_xcorr(rows, a)
    spread = curves.std(axis=1)
    if not (spread > 0).any():
        return 0.0, 0.0, 0.0
    peak_z = (curves.max(axis=1) - curves.mean(axis=1)) / np.where(spread > 0, spread, np.inf)
    weights = np.exp(WEIGHT_SHARPNESS * (peak_z - peak_z.max()))
    combined = weights @ curves / weights.sum()
    lags = np.arange(-max_lag, max_lag + 1)
    window = combined[lags % n]
    best = int(np.argmax(window))
    # a picture change at t with its sound at t + d pairs best at lag L = -d
    offset = -(float(lags[best]) + refine_peak(window, best))
    distance = np.minimum(np.arange(n), n - np.arange(n))
    null = combined[distance > max_lag + 2]
    if len(null) < 10 or float(np.std(null)) <= 0:
        return offset, 0.0, 0.0
    mean, std = float(np.mean(null)), float(np.std(null))
    # the runner-up: the highest other local peak in the window (a periodic motion or rhythm
    # puts one a beat away, and then the alignment is ambiguous however high the peak)
    peaks, _ = signal.find_peaks(np.concatenate([[-np.inf], window, [-np.inf]]))
    others = [float(window[p - 1]) for p in peaks if abs(p - 1 - best) > 2]
    runner_up = max(others) if others else mean
    return offset, (float(window[best]) - mean) / std, (float(window[best]) - runner_up) / std


def verdict(offset_ms: float, confidence: float, margin: float, events: int) -> str:
    if events < MIN_EVENTS:
        return "too few events"
    if confidence < MIN_CONFIDENCE or margin < MIN_MARGIN:
        return "uncertain"
    return "out of sync" if abs(offset_ms) > OUT_OF_SYNC_MS else "in sync"


def analyse(
    small: np.ndarray,
    cuts: list[int],
    audio: np.ndarray,
    rate: int,
    frame_times: np.ndarray,
    audio_start_s: float,
    fps: float,
) -> dict:
    """The av_sync values for frames and audio on one timeline (also used by the tests)."""
    flux, times = onset_strength(audio, rate)
    events = count_events(flux)
    onsets = audio_onsets(flux, times, frame_times, audio_start_s)
    picture = picture_changes(small, cuts)
    # the ends hold fades, codec priming and the first frame: nothing there says sync
    edge = max(1, int(round(EDGE_S * fps)))
    onsets[:edge], onsets[-edge:] = np.median(onsets), np.median(onsets)
    picture[:, :edge] = np.median(picture, axis=1, keepdims=True)
    picture[:, -edge:] = np.median(picture, axis=1, keepdims=True)
    offset_frames, confidence, margin = sync_offset(picture, onsets, fps)
    offset_ms = offset_frames * 1000.0 / fps
    found = verdict(offset_ms, confidence, margin, events)
    return {
        # an offset read from noise would only add noise to averages and the regress gate
        "offset_ms": round(offset_ms, 1) if found in ("in sync", "out of sync") else None,
        "confidence": round(float(confidence), 3),
        "events": events,
        "verdict": found,
    }


def _compute(ctx: ClipContext) -> MetricResult:
    clip = ctx.clip
    params = {
        "max_lag_s": MAX_LAG_S,
        "grid": GRID,
        "min_confidence": MIN_CONFIDENCE,
        "min_margin": MIN_MARGIN,
        "min_events": MIN_EVENTS,
        "out_of_sync_ms": OUT_OF_SYNC_MS,
        "fps": clip.fps,
    }
    if not clip.info.has_audio or clip.audio is None or len(clip.audio) == 0:
        return AV_SYNC.unavailable("no audio track", params=params)
    if clip.info.variable_frame_rate:
        return AV_SYNC.unavailable("variable frame rate", params=params)
    if clip.duration_s < MIN_DURATION_S:
        return AV_SYNC.unavailable(
            f"too short: {clip.duration_s:.2f} s, av_sync needs {MIN_DURATION_S:.0f} s",
            params=params,
        )
    values = analyse(
        ctx.small_frames,
        ctx.shot_cuts,
        clip.audio,
        clip.audio_rate,
        clip.frame_times,
        clip.audio_start_s,
        clip.fps,
    )
    return AV_SYNC.result(values, params=params)


AV_SYNC = Metric(
    name="av_sync",
    version="1",
    backend="spectral-flux+frame-difference",
    # |offset|: a clip 300 ms early is as far out as one 300 ms late
    higher_is_better={"abs_offset_ms": False},
    units={
        "offset_ms": "ms",
        "abs_offset_ms": "ms",
        "confidence": "z",
        "events": "onsets",
        "verdict": "label",
    },
    compute=_compute,
    derived={"abs_offset_ms": lambda v: None if v.get("offset_ms") is None else abs(v["offset_ms"])},
    tolerances={
        # ms. pony's drum and ball scenes read 1.4 ms with a spread of 1.6 ms
        # (benchmarks/calibrate_tolerances.py --prompt-file tests/data/event_prompts.jsonl, 6
        # prompts x 3 seeds, 3 s 480p; an offset on 17 of the 18 clips), so what viewers notice
        # sets it: about one frame at 24 fps, where ITU-R BT.1359 puts detectability (45 ms).
        "abs_offset_ms": 40.0,
    },
    description="offset of sound onsets against picture changes (any content, positive: late)",
)
