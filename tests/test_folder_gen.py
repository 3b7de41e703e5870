"""`folder:` generators: ready clips by prompt id, checked like `clips import`, into the store."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from arena_helpers import tag_clip, tiny_clip

from generators.base import GenerationRequest
from generators.decode import probe_clip
from generators.errors import GenerationError, InputError, MediaError
from generators.registry import build_generator


def request(prompt_id: str | None, audio: bool = True) -> GenerationRequest:
    return GenerationRequest("a prompt", duration_s=1.0, audio=audio, prompt_id=prompt_id)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "team-x"
    root.mkdir()
    tiny_clip(tmp_path / "plain.mp4", 60)
    tag_clip(tmp_path / "plain.mp4", root / "p-sound.mp4", "team-x secret model v3")
    tiny_clip(root / "p-silent.mp4", 120, audio=False)
    (root / "p-corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    tiny_clip(root / "p-twice.mp4", 30)
    tiny_clip(root / "p-twice.mov", 30)
    return root


def test_serves_the_prompts_clip_without_its_tags(folder, tmp_path):
    gen = build_generator(f"folder:{folder}")
    out = tmp_path / "out.mp4"
    result = gen.generate(request("p-sound"), str(out))
    info = probe_clip(out)
    assert result.has_audio and info.has_audio and (info.width, info.height) == (64, 48)
    assert result.frames == info.n_frames == 12
    with av.open(str(out)) as clip:
        assert "title" not in clip.metadata and "comment" not in clip.metadata
    assert out.read_bytes() != (folder / "p-sound.mp4").read_bytes()
    assert getattr(gen, "ready_made", False)  # the arena records no generation time for it


def test_a_silent_clip_serves_a_silent_prompt(folder, tmp_path):
    result = build_generator(f"folder:{folder}").generate(
        request("p-silent", audio=False), str(tmp_path / "s.mp4")
    )
    assert not result.has_audio


@pytest.mark.parametrize(
    "prompt_id, audio, error, message",
    [
        ("p-missing", True, GenerationError, r"no clip for prompt 'p-missing' \(expected"),
        ("p-silent", True, MediaError, "prompt 'p-silent' expects audio but the clip has no audio"),
        ("p-corrupt", True, MediaError, "p-corrupt.mp4"),
        ("p-twice", True, GenerationError, "several clips for prompt 'p-twice'"),
        ("../team-x/p-sound", True, GenerationError, "is not a prompt id"),
        (None, True, GenerationError, "serves clips by prompt id"),
    ],
)
def test_bad_or_missing_clips_are_clear_errors(folder, tmp_path, prompt_id, audio, error, message):
    gen = build_generator(f"folder:{folder}")
    with pytest.raises(error, match=message):
        gen.generate(request(prompt_id, audio), str(tmp_path / "x.mp4"))
    assert not (tmp_path / "x.mp4").exists()


def test_bad_specs_are_refused(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        build_generator(f"folder:{tmp_path / 'nowhere'}")
    with pytest.raises(InputError, match="takes no options"):
        build_generator(f"folder:{tmp_path}?fps=3")


@pytest.mark.slow
def test_suite_generation_imports_ready_clips_and_reports_the_missing(data_dir, tmp_path):
    from arena.io.prompt_files import ensure_suite
    from arena.jobs.generation import GenerationSettings, generate_missing
    from arena.store import Store

    with Store.open(data_dir) as store:
        prompts = [p for p in ensure_suite(store) if p.category == "t2v" and p.audio][:3]
        ready = tmp_path / "ready"
        ready.mkdir()
        for shade, prompt in zip((50, 150), prompts[:2], strict=True):
            tiny_clip(ready / f"{prompt.id}.mp4", shade)
        model = store.add_model("team-x", "imported", generator=f"folder:{ready}")
        report = generate_missing(store, [model], prompts, GenerationSettings(), workers=1)
        assert report.made == 2
        assert report.failed == [
            f"team-x / {prompts[2].id}: folder:{ready}: no clip for prompt {prompts[2].id!r} "
            f"(expected {prompts[2].id}.mp4)"
        ]
        clips = {c.prompt_id: c for c in store.clips("team-x")}
        assert set(clips) == {prompts[0].id, prompts[1].id}
        for clip in clips.values():
            assert clip.has_audio and clip.generation_s is None  # made elsewhere: no time
            assert (data_dir / clip.path).is_file()
        assert len(list((data_dir / "clips").glob("*.mp4"))) == 2
        # a second run has nothing left to do but the missing clip
        again = generate_missing(store, [model], prompts, GenerationSettings(), workers=1)
        assert again.made == 0 and len(again.failed) == 1
