"""Tests for the prompt suites: the shipped default suite, user prompt files, images, quick subset."""

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from arena.domain.suite import LANGUAGES, SETTINGS, SUITE_TAGS, SuitePrompt, quick_subset
from arena.io.prompt_files import available_suites, load_prompts_file, load_suite, suite_meta
from arena.io.suite_images import SKIMAGE_IMAGES, materialize_image
from generators.errors import InputError

QUOTE = re.compile(r'"([^"]+)"')
SCRIPTS = {
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "hi": re.compile(r"[\u0900-\u097f]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
}

# Arabic words carry more syllables each, so fewer of them fit in a second
WORDS_PER_SECOND = {"en": 2.5, "es": 2.5, "fr": 2.5, "hi": 2.5, "ar": 2.0}
CHARS_PER_SECOND_ZH = 4.0


@pytest.fixture(scope="module")
def suite() -> list[SuitePrompt]:
    return load_suite("default")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_default_suite_is_shipped_with_a_version_and_licences() -> None:
    assert "default" in available_suites()
    meta = suite_meta("default")
    assert meta.name == "default" and meta.version >= 1 and meta.licence


def test_default_suite_size_and_category_split(suite: list[SuitePrompt]) -> None:
    assert len(suite) >= 66
    counts = Counter(p.category for p in suite)
    assert set(counts) == {"t2v", "i2v"}
    assert 0.6 <= counts["t2v"] / len(suite) <= 0.8
    assert len({p.id for p in suite}) == len(suite)
    assert all(p.suite == "default" for p in suite)


def test_default_suite_covers_every_kind_and_language(suite: list[SuitePrompt]) -> None:
    tags = Counter(tag for p in suite for tag in p.tags)
    for kind in ("dialogue", "ambient", "silent", "multi-shot", "camera-motion"):
        assert tags[kind] >= 5, kind
    for code in LANGUAGES:
        assert tags[f"language:{code}"] >= 3, code
    assert {t for t in tags if t in SETTINGS} == set(SETTINGS)
    assert set(tags) <= SUITE_TAGS
    i2v = [p for p in suite if p.category == "i2v"]
    assert any("dialogue" in p.tags and p.image == "skimage:astronaut" for p in i2v)
    assert {p.audio for p in i2v} == {True, False}
    assert {p.audio for p in suite if p.category == "t2v"} == {True, False}


def test_dialogue_prompts_quote_a_short_line_in_their_language(suite: list[SuitePrompt]) -> None:
    for prompt in suite:
        quotes = QUOTE.findall(prompt.text)
        if "dialogue" not in prompt.tags:
            assert not quotes, prompt.id
            assert prompt.language is None, prompt.id
            continue
        assert prompt.audio and len(quotes) == 1, prompt.id
        line, language = quotes[0], prompt.language
        assert language in LANGUAGES, prompt.id
        if language in SCRIPTS:
            assert SCRIPTS[language].search(line), prompt.id
        else:
            assert not any(script.search(line) for script in SCRIPTS.values()), prompt.id
        # 3-10 s of speech at a conversational pace (Mandarin counted in characters)
        if language == "zh":
            seconds = len(SCRIPTS["zh"].findall(line)) / CHARS_PER_SECOND_ZH
        else:
            seconds = len(line.split()) / WORDS_PER_SECOND[language]
        assert 3 <= seconds <= 10, (prompt.id, seconds)


def test_audio_flag_matches_kind_and_multi_shot_cuts(suite: list[SuitePrompt]) -> None:
    for prompt in suite:
        assert prompt.audio == ("silent" not in prompt.tags), prompt.id
        if "multi-shot" in prompt.tags:
            assert "Shot 1:" in prompt.text and "Cut to" in prompt.text, prompt.id
            assert "same" in prompt.text, prompt.id


def test_t2v_text_names_a_setting_the_generator_understands(suite: list[SuitePrompt]) -> None:
    for prompt in suite:
        settings = [t for t in prompt.tags if t in SETTINGS]
        assert settings, prompt.id
        if prompt.category == "t2v":
            assert any(s in prompt.text.lower() for s in settings), prompt.id


def test_i2v_images_are_free_and_their_licences_recorded(suite: list[SuitePrompt]) -> None:
    meta = suite_meta("default")
    used = {p.image.removeprefix("skimage:") for p in suite if p.image is not None}
    assert all(p.image and p.image.startswith("skimage:") for p in suite if p.category == "i2v")
    assert used == set(meta.images)
    for name in used:
        assert name in SKIMAGE_IMAGES
        licence = meta.images[name]["licence"].lower()
        assert "public domain" in licence or "cc0" in licence, name


def test_materialize_image_writes_a_readable_png_once(tmp_path: Path) -> None:
    first = materialize_image("skimage:astronaut", tmp_path / "images")
    stamp = first.stat().st_mtime_ns
    again = materialize_image("skimage:astronaut", tmp_path / "images")
    assert again == first and again.stat().st_mtime_ns == stamp
    with Image.open(first) as image:
        assert image.format == "PNG" and image.mode == "RGB" and image.size == (512, 512)
    assert [p.name for p in (tmp_path / "images").iterdir()] == [first.name]
    grey = materialize_image("skimage:camera", tmp_path / "images")
    assert np.asarray(Image.open(grey)).shape == (512, 512, 3)
    assert grey != first


def test_materialize_image_passes_files_and_rejects_unknowns(tmp_path: Path) -> None:
    own = tmp_path / "face.png"
    Image.new("RGB", (8, 8)).save(own)
    assert materialize_image(str(own), tmp_path / "out") == own
    with pytest.raises(InputError, match="missing.png"):
        materialize_image(str(tmp_path / "missing.png"), tmp_path / "out")
    with pytest.raises(InputError, match="lfw_subset"):  # not a licence-checked sample
        materialize_image("skimage:lfw_subset", tmp_path / "out")


def test_quick_subset_is_small_and_diverse(suite: list[SuitePrompt]) -> None:
    subset = quick_subset(suite)
    assert 4 <= len(subset) <= 8
    assert len({p.id for p in subset}) == len(subset)
    assert {p.category for p in subset} == {"t2v", "i2v"}
    for category in ("t2v", "i2v"):
        assert {p.audio for p in subset if p.category == category} == {True, False}
    t2v_dialogue = [p for p in subset if p.category == "t2v" and "dialogue" in p.tags]
    assert len(t2v_dialogue) >= 2 and any(p.language != "en" for p in t2v_dialogue)
    assert any("ambient" in p.tags for p in subset)
    assert quick_subset(suite) == subset
    assert len(quick_subset(suite, n_per_category=1)) == 2
    assert len(quick_subset(suite, n_per_category={"t2v": 7, "i2v": 0})) == 7


def test_load_prompts_jsonl_defaults_and_relative_images(tmp_path: Path) -> None:
    Image.new("RGB", (8, 8)).save(tmp_path / "ref.png")
    rows = [
        {"text": 'A man says "hi there, friend"', "category": "t2v", "tags": ["dialogue"]},
        {"text": "Snow falls.", "category": "T2V", "tags": ["silent", "snow"]},
        {"id": "mine-1", "text": "The face smiles.", "category": "i2v", "image": "ref.png",
         "seed": 7, "audio": False},
    ]  # fmt: skip
    path = write(tmp_path / "mine.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    first, silent, i2v = load_prompts_file(path)
    assert first.audio is True and first.seed == 0 and first.image is None
    assert first.suite == "mine" and first.id.startswith("t2v-")
    assert silent.audio is False and silent.category == "t2v"
    assert i2v.id == "mine-1" and i2v.seed == 7 and Path(i2v.image) == tmp_path / "ref.png"
    assert load_prompts_file(path) == [first, silent, i2v]


def test_load_prompts_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.csv",
        "id,text,category,audio,tags,image,seed\n"
        'a,"Rain on a street, at night",t2v,yes,ambient;rain|street,,3\n'
        "b,The astronaut waves,i2v,no,silent,skimage:astronaut,\n",
    )
    a, b = load_prompts_file(path)
    assert a.tags == ("ambient", "rain", "street") and a.audio and a.seed == 3
    assert a.text == "Rain on a street, at night"
    assert b.image == "skimage:astronaut" and b.audio is False and b.seed == 0


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"category": "t2v"}, "text", "missing"),
        ({"text": "x"}, "category", "missing"),
        ({"text": "x", "category": "v2v"}, "category", "t2v"),
        ({"text": "x", "category": "i2v"}, "image", "need an input image"),
        ({"text": "x", "category": "i2v", "image": "nope.png"}, "image", "not found"),
        ({"text": "x", "category": "i2v", "image": "skimage:moon"}, "image", "unknown image"),
        ({"text": "x", "category": "t2v", "image": "skimage:astronaut"}, "image", "no image"),
        ({"text": "x", "category": "t2v", "seed": -1}, "seed", "non-negative"),
        ({"text": "x", "category": "t2v", "audio": "maybe"}, "audio", "true or false"),
        ({"text": "x", "category": "t2v", "audio": True, "tags": ["silent"]}, "audio", "silent"),
        ({"text": "x", "category": "t2v", "tags": "dialogue", "audio": False}, "audio", "dialogue"),
        ({"text": "x", "category": "t2v", "tags": [3]}, "tags", "strings"),
        ({"text": "x", "category": "t2v", "id": "has space"}, "id", "slug"),
        ({"text": "x", "category": "t2v", "catgory": "t2v"}, "catgory", "unknown field"),
        ({"text": "x", "category": "t2v", "id": "p1"}, "id", "duplicate id 'p1'"),
    ],
)
def test_malformed_rows_name_line_and_field(
    tmp_path: Path, line: dict, field: str, message: str
) -> None:
    good = {"id": "p1", "text": "A quiet park.", "category": "t2v"}
    path = write(tmp_path / "bad.jsonl", json.dumps(good) + "\n\n" + json.dumps(line) + "\n")
    with pytest.raises(InputError) as caught:
        load_prompts_file(path)
    text = str(caught.value)
    assert f"bad.jsonl:3: field '{field}'" in text
    assert message in text


def test_malformed_files_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"bad\.jsonl:2: not valid JSON"):
        load_prompts_file(
            write(tmp_path / "bad.jsonl", '{"text": "a", "category": "t2v"}\n{oops\n')
        )
    with pytest.raises(InputError, match=r"bad\.csv:1: field 'prompt': unknown column"):
        load_prompts_file(write(tmp_path / "bad.csv", "prompt,category\na,t2v\n"))
    with pytest.raises(InputError, match=r"bad2\.csv:3: field 'category'"):
        load_prompts_file(write(tmp_path / "bad2.csv", "text,category\na,t2v\nb,video\n"))
    with pytest.raises(InputError, match="unsupported prompt file type"):
        load_prompts_file(write(tmp_path / "p.txt", "hello"))
    with pytest.raises(InputError, match="not found"):
        load_prompts_file(tmp_path / "absent.jsonl")
    with pytest.raises(InputError, match="no prompts"):
        load_prompts_file(write(tmp_path / "empty.jsonl", "\n"))


def test_unknown_suite_lists_available() -> None:
    with pytest.raises(InputError, match="default"):
        load_suite("../etc")
