"""Measurements the pony tests make on generated clips (decoded with generators.decode)."""

from __future__ import annotations

import numpy as np

from generators.pony.portrait import dlib_model_path, face_landmarks


def mouth_openings(frames: np.ndarray, step: int = 1) -> np.ndarray:
    """Inner-lip height over inter-ocular distance per sampled frame; NaN where no face."""
    out = []
    for frame in frames[::step]:
        lm = face_landmarks(frame, upsample=0)
        if lm is None:
            out.append(np.nan)
            continue
        eyes = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
        out.append(float(np.mean(lm[[65, 66, 67], 1] - lm[[63, 62, 61], 1]) / eyes))
    return np.array(out)


def face_size(frame: np.ndarray) -> float:
    """Inter-ocular distance in pixels of the largest face (NaN when none)."""
    lm = face_landmarks(frame, upsample=0)
    if lm is None:
        return float("nan")
    return float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))


def frame_envelope(
    audio: np.ndarray, rate: int, frame_times: np.ndarray, window_s: float = 0.06
) -> np.ndarray:
    """RMS of the audio in a window centred on each frame time."""
    half = int(window_s * rate / 2)
    env = []
    for t in frame_times:
        c = int(t * rate)
        seg = audio[max(c - half, 0) : c + half]
        env.append(float(np.sqrt(np.mean(seg**2))) if len(seg) else 0.0)
    return np.array(env)


def audio_offset_ms(
    reference: np.ndarray, shifted: np.ndarray, rate: int, max_ms: float = 600.0
) -> float:
    """How much later `shifted` plays than `reference`, by cross-correlating their envelopes."""
    hop = rate // 1000  # 1 ms resolution

    def env(x):
        n = len(x) // hop
        return np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))

    a, b = env(reference), env(shifted)
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    lags = np.arange(-int(max_ms), int(max_ms) + 1)
    scores = [np.dot(a[max(0, -k) : n - max(0, k)], b[max(0, k) : n - max(0, -k)]) for k in lags]
    return float(lags[int(np.argmax(scores))])


def face_descriptor(frame: np.ndarray) -> np.ndarray | None:
    """dlib's 128-d face descriptor of the largest face, or None."""
    import dlib

    global _REC, _SP, _DET
    if "_REC" not in globals():
        _REC = dlib.face_recognition_model_v1(
            dlib_model_path("dlib_face_recognition_resnet_model_v1.dat")
        )
        _SP = dlib.shape_predictor(dlib_model_path("shape_predictor_68_face_landmarks.dat"))
        _DET = dlib.get_frontal_face_detector()
    rects = _DET(frame, 1)
    if not rects:
        return None
    rect = max(rects, key=lambda r: r.width() * r.height())
    return np.array(_REC.compute_face_descriptor(frame, _SP(frame, rect)))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def _dlib_face_models():
    face_descriptor(np.zeros((8, 8, 3), np.uint8))  # loads the models once
    return _DET, _SP, _REC


def faces_in(frame: np.ndarray, upsample: int = 1) -> list[dict]:
    """Every face dlib finds, left to right: box centre x, mouth opening, 128-d descriptor."""
    det, sp, rec = _dlib_face_models()
    out = []
    for rect in det(frame, upsample):
        shape = sp(frame, rect)
        lm = np.array([(p.x, p.y) for p in shape.parts()], np.float32)
        eyes = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
        opening = float(np.mean(lm[[65, 66, 67], 1] - lm[[63, 62, 61], 1]) / eyes)
        out.append({"x": (rect.left() + rect.right()) / 2, "opening": opening,
                    "descriptor": np.array(rec.compute_face_descriptor(frame, shape))})
    return sorted(out, key=lambda f: f["x"])


def lower_motion(frames: np.ndarray, start: float = 0.6) -> float:
    """Mean absolute change between the first and last frame below `start` of the height."""
    h = frames.shape[1]
    a = frames[0, int(start * h):].astype(np.float32)
    b = frames[-1, int(start * h):].astype(np.float32)
    return float(np.abs(a - b).mean())


def plan_mismatches(label: dict, explained: dict) -> list[str]:
    """Which labelled attributes the explained plan gets wrong (empty: all match)."""
    wrong = []
    people = explained["people"]
    if len(people) != label["people"]:
        wrong.append(f"people {len(people)}")
    if "genders" in label and [p["gender"] for p in people] != label["genders"]:
        wrong.append("genders")
    if [ln["speaker"] for ln in explained["lines"]] != label["speakers"]:
        wrong.append("speakers")
    if explained["animals"] != label["animals"]:
        wrong.append("animals")
    for key in ("place", "weather", "crowd"):
        if key in label and explained[key] != label[key]:
            wrong.append(key)
    if not set(label.get("actions", [])) <= set(explained["actions"]):
        wrong.append("actions")
    for key, want in label.get("person0", {}).items():
        got = people[0][key] if people else None
        if key == "clothing" and not set(want) <= set(got or []):
            wrong.append("clothing")
        elif key != "clothing" and got != want:
            wrong.append(key)
    return wrong
