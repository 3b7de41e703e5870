"""Shot plans for pony: setting, shots, camera moves, dialogue and sounds read from the prompt."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from generators.pony.cast import Cast, read_cast
from generators.pony.impacts import IMPACT_WORDS
from generators.pony.speech import detect_language

FRAMINGS = ("wide", "medium", "close")
# where the faces of 1..4 people stand across a shot that shows them all (share of the width)
SIDES = {1: (0.5,), 2: (0.3, 0.7), 3: (0.2, 0.5, 0.8), 4: (0.14, 0.38, 0.62, 0.86)}
CAMERAS = ("push_in", "pull_out", "pan_left", "pan_right", "handheld", "static")

_PLACES = {
    "street": ("street", "city", "road", "alley", "avenue", "downtown", "sidewalk", "traffic",
               "market", "town", "crosswalk", "urban", "neon", "square", "plaza", "village",
               "bus stop", "skyline", "intersection", "balcony", "station", "calle", "rue",
               "ciudad", "ville"),
    "beach": ("beach", "sea", "ocean", "shore", "coast", "waves", "surf", "seaside", "harbor",
              "harbour", "playa", "plage", "mar", "mer"),
    "sky": ("clouds", "cloud", "sky", "flying", "balloon", "heaven", "airplane"),
    "interior": ("room", "kitchen", "office", "interior", "inside", "indoors", "cafe", "café",
                 "restaurant", "bar", "library", "studio", "home", "bedroom", "classroom",
                 "apartment", "house", "hall"),
    "forest": ("forest", "woods", "trees", "jungle", "woodland", "pine"),
    "snow": ("mountain", "mountains", "alps", "glacier", "ski", "winter", "ridge", "summit",
             "peak"),
    "desert": ("desert", "dunes", "dune", "sahara", "canyon"),
    "field": ("field", "meadow", "park", "garden", "farm", "hill", "hills", "countryside"),
}
_NIGHT = ("night", "midnight", "dark", "stars", "starry", "moon", "moonlit", "neon")
_SUNSET = ("sunset", "dusk", "dawn", "sunrise", "golden hour", "evening", "twilight")
_RAIN = ("rain", "raining", "rainy", "storm", "stormy", "drizzle", "downpour", "thunder")
_SNOW = ("snow", "snowing", "snowy", "blizzard", "snowfall", "frost")
_FOG = ("fog", "foggy", "mist", "misty", "haze")
_CROWD = ("crowd", "crowded", "busy", "market", "festival", "party", "people", "cafe", "café",
          "restaurant", "bar", "station")
_WALK = ("walk", "walks", "walking", "stroll", "strolls", "strolling", "steps", "running",
         "runs", "footsteps", "marching")
_BIRDS = ("birds", "bird", "seagulls", "gulls", "chirp", "chirps", "birdsong")
_WINDY = ("wind", "windy", "breeze", "gust", "gusts", "howling", "whistles")
_TRAFFIC = ("traffic", "cars", "car", "horns", "horn", "tram", "bus", "engine", "engines")
_WATER = ("fountain", "river", "stream", "waterfall", "waves", "surf")
_CUT = re.compile(r"\b(?:cut to|cuts to|shot \d+|next shot|then cut|camera cuts|new shot)\b",
                  re.IGNORECASE)
_QUOTES = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»|「([^」]+)」|『([^』]+)』|„([^“”]+)[“”]')


@dataclass(frozen=True)
class Line:
    """One line of quoted dialogue and its detected language."""

    text: str
    language: str
    speaker: int = 0  # index into the plan's cast.people


@dataclass(frozen=True)
class Shot:
    """A continuous stretch of the clip with one framing and one camera move."""

    start_s: float
    end_s: float
    framing: str
    camera: str
    side: float  # horizontal position of the character's face, 0 = left edge, 1 = right edge
    people: tuple[int, ...] | None = None  # who is in the shot (cast indexes); None = everyone


@dataclass(frozen=True)
class ShotPlan:
    """Everything pony decides from the prompt before rendering."""

    place: str
    time_of_day: str  # day | sunset | night
    weather: str  # clear | rain | snow | fog
    shots: tuple[Shot, ...]
    lines: tuple[Line, ...]
    sounds: tuple[str, ...]
    seed: int  # derived from (prompt, seed): drives every random choice after the plan
    cast: Cast = Cast((), (), False, ())
    timelapse: bool = False

    def explain(self) -> dict:
        """What pony understood from the prompt, as plain data (JSON-ready)."""
        return {
            "people": [p.describe() for p in self.cast.people],
            "animals": list(self.cast.animals), "crowd": self.cast.crowd,
            "actions": list(self.cast.actions),
            "lines": [{"text": ln.text, "language": ln.language, "speaker": ln.speaker}
                      for ln in self.lines],
            "place": self.place, "time_of_day": self.time_of_day, "weather": self.weather,
            "shots": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3),
                       "framing": s.framing, "camera": s.camera,
                       "people": list(s.people) if s.people is not None
                       else list(range(len(self.cast.people)))} for s in self.shots],
            "sounds": list(self.sounds),
        }


def plan_seed(prompt: str, seed: int) -> int:
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text) for w in words)


def _first_place(text: str) -> str:
    """The first place named; the sky only when no ground is ("clouds over the hills")."""
    best, best_pos = "field", len(text) + 1
    sky = False
    for place, words in _PLACES.items():
        for w in words:
            m = re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)
            if m and place == "sky":
                sky = True
            elif m and m.start() < best_pos:
                best, best_pos = place, m.start()
    return "sky" if sky and best_pos > len(text) else best


def _framing_of(text: str) -> str | None:
    if re.search(r"close[- ]?up|closeup|extreme close|tight shot|portrait shot", text):
        return "close"
    if re.search(r"medium shot|mid shot|medium close|waist", text):
        return "medium"
    if re.search(r"wide shot|establishing|long shot|full shot|wide angle|aerial", text):
        return "wide"
    return None


def _camera_of(text: str) -> str | None:
    if re.search(r"push[- ]in|dolly in|zoom(?:s|ing)? in|slowly approaches", text):
        return "push_in"
    if re.search(r"pull[- ]?back|pull[- ]out|zoom(?:s|ing)? out|dolly out", text):
        return "pull_out"
    if re.search(r"pan(?:s|ning)? (?:to the )?left", text):
        return "pan_left"
    if re.search(r"\bpan|tracking|truck", text):
        return "pan_right"
    if re.search(r"handheld|hand-held|shaky|documentary", text):
        return "handheld"
    if re.search(r"static|locked[- ]off|tripod", text):
        return "static"
    return None


def _segments(text: str) -> list[str]:
    parts = [p.strip() for p in _CUT.split(text) if p.strip()]
    if len(parts) > 1:
        return parts
    if re.search(r"multi[- ]?shot|several shots|multiple shots|montage", text):
        return [text, text, text]
    return [text]


def dialogue_lines(prompt: str) -> tuple[Line, ...]:
    lines = []
    for match in _QUOTES.finditer(prompt):
        text = next(g for g in match.groups() if g is not None).strip()
        if re.search(r"\w", text):
            lines.append(Line(text, detect_language(text)))
    return tuple(lines)


def _sounds(text: str, place: str, time_of_day: str, weather: str,
            animals: tuple[str, ...] = ()) -> tuple[str, ...]:
    sounds: list[str] = []
    if weather == "rain":
        sounds.append("rain")
    base = {"street": ["traffic"], "beach": ["waves", "wind"], "sky": ["wind"],
            "interior": ["room"], "forest": ["wind"], "snow": ["wind"], "desert": ["wind"],
            "field": ["wind"]}[place]
    sounds += base
    if place in ("forest", "field") and weather != "rain":
        sounds.append("crickets" if time_of_day == "night" else "birds")
    if _has(text, _CROWD) or (place == "street" and time_of_day != "night"):
        sounds.append("crowd")
    for words, sound in ((_BIRDS, "birds"), (_WINDY, "wind"), (_TRAFFIC, "traffic"),
                         (_WATER, "waves")):
        if _has(text, words):
            sounds.append(sound)
    if _has(text, _WALK):
        sounds.append("footsteps")
    sounds += [kind for kind, words in IMPACT_WORDS.items() if _has(text, words)][:1]
    sounds += [a for a in animals if a != "bird"]
    if "bird" in animals:
        sounds.append("birds")
    return tuple(dict.fromkeys(sounds))


def plan_shots(prompt: str, seed: int, duration_s: float, single_shot: bool = False) -> ShotPlan:
    """The shot plan for a prompt; the same (prompt, seed, duration) always gives the same plan."""
    text = prompt.lower()
    pseed = plan_seed(prompt, seed)
    rng = np.random.default_rng(pseed)
    # "she waves from the garden" is a gesture, not the sea
    place = _first_place(re.sub(r"\bwaves\s+(?=(?:from|at|to|goodbye|hello|back|and|his|her)\b)",
                                "waving ", text))
    time_of_day = "night" if _has(text, _NIGHT) else "sunset" if _has(text, _SUNSET) else "day"
    weather = ("rain" if _has(text, _RAIN) else "snow" if _has(text, _SNOW)
               else "fog" if _has(text, _FOG) else "clear")
    if weather == "snow" and place == "field":
        place = "snow"
    segments = [text] if single_shot else _segments(text)
    n = max(1, min(len(segments), int(duration_s // 1.5), 6))
    segments = segments[:n]
    default_cycle = ("wide", "medium", "close") if n > 1 else ("medium",)
    side = float(rng.choice([0.36, 0.64]))
    shots = []
    bounds = np.linspace(0.0, duration_s, n + 1)
    global_camera = _camera_of(text) if n == 1 else None
    for i, seg in enumerate(segments):
        framing = _framing_of(seg) or default_cycle[i % len(default_cycle)]
        camera = _camera_of(seg) or global_camera or str(
            rng.choice(["push_in", "pull_out", "pan_left", "pan_right", "handheld"]))
        face_side = 0.5 if framing == "close" else (side if framing == "wide"
                                                     else 0.5 + (side - 0.5) * 0.5)
        shots.append(Shot(float(bounds[i]), float(bounds[i + 1]), framing, camera, face_side))
    lines = dialogue_lines(prompt)
    cast = read_cast(prompt, len(lines))
    lines = tuple(Line(ln.text, ln.language, sp) for ln, sp in zip(lines, cast.speakers,
                                                                    strict=False))
    return ShotPlan(place, time_of_day, weather, tuple(shots), lines,
                    _sounds(text, place, time_of_day, weather, cast.animals), pseed, cast,
                    bool(re.search(r"time[- ]?lapse|timelapse|hyperlapse", text)))


def dialogue_shots(plan: ShotPlan, spans: tuple[tuple[float, float, int], ...],
                   duration_s: float) -> ShotPlan:
    """Shot / reverse shot for a conversation: a two-shot while the first speaker talks, then
    a shot of each later speaker for their line (cut a moment before they start)."""
    if len(plan.cast.people) < 2 or len({s for _, _, s in spans}) < 2:
        return plan
    two_shot = plan.shots[0]
    n = len(plan.cast.people)
    sides = SIDES[min(n, 4)]
    shots: list[Shot] = []
    starts = [max(0.0, a - 0.15) for a, _, _ in spans]
    first_cut = next((starts[k] for k in range(1, len(spans))
                      if spans[k][2] != spans[0][2]), duration_s)
    shots.append(Shot(0.0, first_cut, "wide", two_shot.camera, 0.5, None))
    k = next((k for k in range(1, len(spans)) if starts[k] == first_cut), len(spans))
    while k < len(spans):
        end = starts[k + 1] if k + 1 < len(spans) else duration_s
        who = spans[k][2]
        if end - starts[k] < 0.5 and shots:
            k += 1
            continue
        side = 0.5 + (sides[min(who, len(sides) - 1)] - 0.5) * 0.6
        camera = "push_in" if len(shots) % 2 else "handheld"  # never still: no frozen frames
        shots.append(Shot(starts[k], end, "medium", camera, side, (who,)))
        k += 1
    fixed = [Shot(s.start_s, shots[i + 1].start_s if i + 1 < len(shots) else duration_s,
                  s.framing, s.camera, s.side, s.people) for i, s in enumerate(shots)]
    return ShotPlan(plan.place, plan.time_of_day, plan.weather, tuple(fixed), plan.lines,
                    plan.sounds, plan.seed, plan.cast, plan.timelapse)


def explain_prompt(prompt: str, seed: int = 0, duration_s: float = 5.0,
                   image: bool = False) -> dict:
    """`paddock generate --explain`: the plan pony makes for a prompt, as plain data."""
    from generators.base import GenerationRequest

    request = GenerationRequest(prompt, seed=seed, duration_s=duration_s)  # validates
    plan = plan_shots(request.prompt, request.seed, request.duration_s, single_shot=image)
    return plan.explain()
