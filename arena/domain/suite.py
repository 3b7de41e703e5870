"""Prompt suites as data: the prompt record, the suite tags and the quick first subset."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

CATEGORIES = ("t2v", "i2v")


FIELDS = ("id", "text", "category", "audio", "tags", "image", "seed", "suite")


DEFAULT_SUITE = "default"


# Tags the shipped suites draw from; user prompt files may carry any tag.
KIND_TAGS = ("dialogue", "ambient", "silent", "multi-shot", "camera-motion")


LANGUAGES = ("en", "zh", "es", "hi", "ar", "fr")


SETTINGS = (
    "street", "rain", "night", "beach", "clouds", "interior", "forest", "snow", "city", "office",
    "kitchen", "park", "desert", "mountains",
)  # fmt: skip


SUITE_TAGS = frozenset(KIND_TAGS) | {f"language:{code}" for code in LANGUAGES} | set(SETTINGS)


QUICK_SUBSET_SIZES: Mapping[str, int] = {"t2v": 4, "i2v": 2}


@dataclass(frozen=True)
class SuitePrompt:
    """One prompt of a suite: what to generate, and what kind of battle pool it belongs to."""

    id: str
    text: str
    category: str  # "t2v" | "i2v"
    audio: bool  # audio expected (False: the silent pool)
    tags: tuple[str, ...]
    image: str | None  # i2v input: "skimage:<name>" or a file path
    seed: int
    suite: str

    @property
    def language(self) -> str | None:
        """The dialogue language code from a `language:xx` tag, if any."""
        for tag in self.tags:
            if tag.startswith("language:"):
                return tag.removeprefix("language:")
        return None


@dataclass(frozen=True)
class SuiteMeta:
    """A shipped suite's name, version, licence and the licence of every input image it uses."""

    name: str
    version: int
    licence: str
    description: str = ""
    images: dict[str, dict[str, str]] = field(default_factory=dict)


def quick_subset(
    prompts: Sequence[SuitePrompt],
    n_per_category: int | Mapping[str, int] = QUICK_SUBSET_SIZES,
) -> list[SuitePrompt]:
    """A small, diverse first set for a fast first generation, per category in suite order.

    Each category is filled in priority order: English dialogue, silent, non-English dialogue,
    ambient sound, camera motion, multi-shot; then the prompts that add the most unseen tags.
    """
    sizes = (
        dict.fromkeys(CATEGORIES, n_per_category)
        if isinstance(n_per_category, int)
        else dict(n_per_category)
    )
    chosen: list[SuitePrompt] = []
    for category in CATEGORIES:
        pool = [p for p in prompts if p.category == category]
        picked = _pick_diverse(pool, max(0, sizes.get(category, 0)))
        chosen.extend(picked)
    return chosen


_QUICK_PRIORITIES: tuple[Callable[[SuitePrompt], bool], ...] = (
    lambda p: "dialogue" in p.tags and p.language == "en",
    lambda p: not p.audio,
    lambda p: "dialogue" in p.tags and p.language not in (None, "en"),
    lambda p: p.audio and "dialogue" not in p.tags,
    lambda p: "camera-motion" in p.tags,
    lambda p: "multi-shot" in p.tags,
)


def _pick_diverse(pool: list[SuitePrompt], n: int) -> list[SuitePrompt]:
    picked: list[SuitePrompt] = []
    for wanted in _QUICK_PRIORITIES:
        if len(picked) >= n:
            return picked
        match = next((p for p in pool if p not in picked and wanted(p)), None)
        if match is not None:
            picked.append(match)
    while len(picked) < n:
        rest = [p for p in pool if p not in picked]
        if not rest:
            break
        seen = {tag for p in picked for tag in p.tags}
        # max() keeps the first of equals, so ties go to suite order
        picked.append(max(rest, key=lambda p: len(set(p.tags) - seen)))
    return picked

