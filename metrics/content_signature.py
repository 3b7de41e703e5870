"""A clip's look and sound as numbers, without downloaded weights: colour, texture, motion, the
face and the sound's spectral shape (the offline content audit, arena/jobs/content_audit.py).

Every measure is taken at one analysis size and per second, never per pixel of the file or per
frame of its rate, so that two encodings of the same pictures get the same signature: what it
tells apart is what a viewer sees and hears, not how the file was made.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from generators.decode import decode_soundtrack, frame_to_rgb, iter_video_frames, probe_clip
from generators.errors import MediaError
from metrics.mfcc import hz_to_mel, mel_filterbank, mel_to_hz
from metrics.sharpness import edge_residual
from metrics.temporal import warping_error

SIGNATURE_VERSION = "1"
LOOK_FRAMES = 4  # evenly spaced frames for colour, texture and the face
LOOK_WIDTH = 48  # every frame is resized to this width (aspect kept), up or down
FACE_SIDE = 320  # longest side the face is looked for at (dlib's HOG finds faces of ~80 px)
MOTION_FRAMES = 48  # consecutive frames for motion, at most (from the start)
LAB_BINS = 8  # histogram bins per CIELAB channel
MEL_BANDS = 20  # mel bands of the sound's spectral shape, up to MEL_TOP_HZ
MEL_TOP_HZ = 8000.0
SOUND_RATE = 16000  # the sound is resampled to this rate first
AUDIBLE_DB = 20.0  # band energies this far under the clip's loudest are clamped there
FACE_DIMS = 128  # dlib's face descriptor


def _fixed(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    height = max(2, int(round(LOOK_WIDTH * h / w)))
    return cv2.resize(rgb, (LOOK_WIDTH, height), interpolation=cv2.INTER_AREA)


def _decode(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], float]:
    """(look frames at LOOK_WIDTH, motion frames at LOOK_WIDTH, look frames at FACE_SIDE, fps)."""
    from generators.decode import analysis_size

    info = probe_clip(path)
    n = max(info.n_frames, 1)
    wanted = set(np.linspace(0, n - 1, min(LOOK_FRAMES, n)).round().astype(int).tolist())
    face_w, face_h = analysis_size(info.width, info.height, FACE_SIDE)
    look, faces, motion, times = [], [], [], []
    for index, (time, frame) in enumerate(iter_video_frames(path)):
        if index >= MOTION_FRAMES and index > max(wanted):
            break
        rgb = frame_to_rgb(frame, face_w, face_h)
        small = _fixed(rgb)
        if index < MOTION_FRAMES:
            motion.append(small)
            times.append(time)
        if index in wanted:
            look.append(small)
            faces.append(rgb)
    if not look:
        raise MediaError(f"{path}: no frame to take a content signature of")
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    fps = (len(times) - 1) / span if span > 0 else max(info.fps, 1.0)
    return np.stack(look), np.stack(motion), faces, fps


def colour_features(frames: np.ndarray) -> dict[str, float]:
    """CIELAB histograms, means and spreads, saturation and contrast of RGB uint8 frames."""
    lab = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2LAB) for f in frames]).reshape(-1, 3)
    out: dict[str, float] = {}
    for c, name in enumerate("Lab"):
        values = lab[:, c].astype(np.float64)
        hist = np.histogram(values, bins=LAB_BINS, range=(0, 256))[0] / len(values)
        out.update({f"lab_{name}_hist{i}": float(v) for i, v in enumerate(hist)})
        out[f"lab_{name}_mean"] = float(values.mean())
        out[f"lab_{name}_std"] = float(values.std())
    hsv = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2HSV) for f in frames])
    saturation = hsv[..., 1].astype(np.float64)
    out["saturation_mean"] = float(saturation.mean())
    out["saturation_std"] = float(saturation.std())
    lightness = lab[:, 0].astype(np.float64)
    out["contrast_rms"] = float(lightness.std())
    low, high = np.percentile(lightness, [5, 95])
    out["contrast_range"] = float(high - low)
    return out


def texture_features(frames: np.ndarray) -> dict[str, float]:
    """The sharpness metric's edge residual (at a quarter of the analysis size) and the mean
    gradient of the frames' luma. Not the finest scale: at the analysis size that is where a
    codec's blocks and a rescaler's ringing live, which say how the file was made."""
    luma = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    gradients = []
    for y in luma:
        y = y.astype(np.float32)
        gx, gy = cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1)
        gradients.append(float(np.sqrt(gx * gx + gy * gy).mean()))
    return {
        "edge_detail": float(np.mean([edge_residual(y, 4.0) for y in luma])),
        "gradient_mean": float(np.mean(gradients)),
    }


def motion_features(frames: np.ndarray, fps: float) -> dict[str, float]:
    """The temporal metric's flow motion and warping error, and the frame difference, per
    second (so a clip's frame rate does not show)."""
    if len(frames) < 2:
        return {"motion_per_s": 0.0, "frame_change_per_s": 0.0, "warping_error": 0.0}
    warp, motion_px = warping_error(frames)
    diagonal = float(np.hypot(*frames.shape[1:3]))
    change = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    return {
        "motion_per_s": 100.0 * motion_px / diagonal * fps,
        "frame_change_per_s": float(change.mean()) * fps,
        "warping_error": 0.0 if np.isnan(warp) else warp,
    }


def face_features(frames: list[np.ndarray]) -> dict[str, float]:
    """dlib's face descriptor, mean over the frames with a face, and where the face sits;
    zeros (face_share 0) where no face is found."""
    from metrics.facetrack import _pick, detect_faces, face_descriptor

    descriptors, boxes = [], []
    for rgb in frames:
        box = _pick(detect_faces(rgb, 0), None)
        if box is None:
            continue
        h, w = rgb.shape[:2]
        descriptors.append(face_descriptor(rgb, box))
        boxes.append([(box[0] + box[2]) / 2 / w, (box[1] + box[3]) / 2 / h, (box[2] - box[0]) / w])
    out = {"face_share": len(descriptors) / max(len(frames), 1)}
    mean = np.mean(descriptors, axis=0) if descriptors else np.zeros(FACE_DIMS)
    place = np.mean(boxes, axis=0) if boxes else np.zeros(3)
    out.update({"face_x": float(place[0]), "face_y": float(place[1]), "face_size": float(place[2])})
    out.update({f"face_{i}": float(v) for i, v in enumerate(mean)})
    return out


def sound_features(path: str | Path) -> dict[str, float]:
    """The sound's spectral shape: each mel band's mean log energy relative to the clip's
    (loudness left out), the spectral centroid and flatness, and how the level moves;
    zeros (has_sound 0) without a sound track or with silence."""
    names = [f"mel{i}_shape" for i in range(MEL_BANDS)]
    silent = dict.fromkeys(["has_sound", "centroid_hz", "flatness", "envelope_spread", *names], 0.0)
    track = decode_soundtrack(path)
    if track is None:
        return silent
    from math import gcd

    from scipy.signal import resample_poly

    samples, source_rate = track
    # One rate for every clip, so the filters fall on the same frequencies whatever the file's.
    rate = SOUND_RATE
    step = gcd(rate, source_rate)
    mono = resample_poly(samples.mean(axis=1).astype(np.float64), rate // step, source_rate // step)
    win, hop = int(0.025 * rate), int(0.010 * rate)
    if len(mono) < win or not np.any(mono):
        return silent
    nfft = 1 << (win - 1).bit_length()
    starts = np.arange(0, len(mono) - win + 1, hop)
    frames = mono[starts[:, None] + np.arange(win)[None, :]] * np.hanning(win)
    power = np.abs(np.fft.rfft(frames, nfft)) ** 2
    bank = mel_filterbank(MEL_BANDS, nfft, rate, high_hz=MEL_TOP_HZ)
    log_mel = np.log(power @ bank.T + 1e-20)
    # Quieter than AUDIBLE_DB under the loudest band is left out: a codec's noise lives there,
    # and what it says is how the sound was encoded, not what it is.
    log_mel = np.maximum(log_mel, log_mel.max() - AUDIBLE_DB * np.log(10) / 10)
    shape = log_mel.mean(axis=0) - log_mel.mean()
    centres = mel_to_hz(np.linspace(0, hz_to_mel(MEL_TOP_HZ), MEL_BANDS + 2))[1:-1]
    energy = np.exp(log_mel).mean(axis=0)
    out = {
        "has_sound": 1.0,
        "centroid_hz": float((centres * energy).sum() / energy.sum()),
        "flatness": float(np.exp(np.log(energy).mean()) / energy.mean()),
        # How the sound's level moves in time (a band's own spread is mostly its codec's noise).
        "envelope_spread": float(np.log(np.exp(log_mel).sum(axis=1)).std()),
    }
    out.update({f"mel{i}_shape": float(v) for i, v in enumerate(shape)})
    return out


def content_signature(path: str | Path, faces: bool = True) -> dict[str, float]:
    """A clip's offline content signature: colour, texture, motion, face (unless faces=False:
    the dlib descriptor is the slowest part) and sound, one float per named feature; the same
    names for every clip."""
    look, motion, face_frames, fps = _decode(path)
    out = colour_features(look)
    out.update(texture_features(look))
    out.update(motion_features(motion, fps))
    if faces:
        out.update(face_features(face_frames))
    out.update(sound_features(path))
    return out
