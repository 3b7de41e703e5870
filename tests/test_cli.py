"""The `paddock` command on temporary data dirs: the real console script, exit codes and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from arena_helpers import seeded_store, tiny_clip

from arena.store import Store

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]


def paddock(*args: str, data: Path | None = None) -> subprocess.CompletedProcess:
    extra = ["--data", str(data)] if data is not None else []
    return subprocess.run([*PADDOCK, *args, *extra], capture_output=True, text=True, timeout=300)


def test_init_lists_models_and_prompts(data_dir):
    result = paddock("init", data=data_dir)
    assert result.returncode == 0, result.stderr
    listed = paddock("models", "list", data=data_dir).stdout.split()
    for name in (
        "pony",
        "pony-lag",
        "pony-mute",
        "pony-drift",
        "pony-flicker",
        "pony-lowres",
        "pony-freeze",
        "pony-noisy",
        "pony-clipped",
        "pony-late",
    ):
        assert name in listed
    prompts = paddock("prompts", "list", "--category", "i2v", data=data_dir).stdout.splitlines()
    assert len(prompts) >= 10 and all("\ti2v\t" in line for line in prompts)


def test_user_mistakes_are_one_line_and_exit_2(data_dir, tmp_path):
    paddock("init", data=data_dir)
    bad = paddock("models", "add", "x", "--generator", "nosuch:thing", data=data_dir)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr
    missing = paddock("models", "list", data=tmp_path / "nowhere")
    assert missing.returncode == 2 and "paddock init" in missing.stderr


def test_clips_import_reports_each_bad_file_and_writes_nothing(data_dir, tmp_path):
    store = seeded_store(data_dir)
    prompt = store.prompts(category="t2v")[0]
    store.close()
    folder = tmp_path / "incoming" / "beta"
    folder.mkdir(parents=True)
    tiny_clip(folder / "good.mp4", 90)  # named after an unknown prompt id
    (folder / f"{prompt.id}.mp4").write_bytes(b"")
    other = tmp_path / "incoming" / "nosuchmodel"
    other.mkdir()
    tiny_clip(other / f"{prompt.id}.mp4", 10)
    result = paddock("clips", "import", str(tmp_path / "incoming"), data=data_dir)
    assert result.returncode == 2
    assert "unknown prompt 'good'" in result.stderr
    assert "empty (zero bytes)" in result.stderr
    assert "unknown model 'nosuchmodel'" in result.stderr
    with Store.open(data_dir) as again:
        assert again.counts()["clips"] == 9
        assert len(list(again.clips_dir.iterdir())) == 9


def test_clips_import_refuses_silent_clip_for_audio_prompt(data_dir, tmp_path):
    store = seeded_store(data_dir, models=("alpha", "beta", "gamma", "delta"))
    prompt = next(p for p in store.prompts() if p.audio)
    silent_prompt = next(p for p in store.prompts() if not p.audio)
    before = len(store.clips("delta"))
    store.close()
    manifest = tmp_path / "clips.jsonl"
    tiny_clip(tmp_path / "mute.mp4", 30, audio=False)
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 50)
    rows = [
        {"model": "delta", "prompt_id": prompt.id, "path": "mute.mp4"},
        {"model": "delta", "prompt": silent_prompt.text, "path": "junk.mp4"},
    ]
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = paddock("clips", "import", str(manifest), data=data_dir)
    assert result.returncode == 2
    assert "expects audio" in result.stderr and "line 1" in result.stderr
    assert "line 2" in result.stderr
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps(
            {"model": "delta", "prompt": silent_prompt.text, "path": str(tmp_path / "mute.mp4")}
        )
        + "\n"
    )
    result = paddock("clips", "import", str(good), data=data_dir)
    assert result.returncode == 0, result.stderr
    with Store.open(data_dir) as again:
        assert len(again.clips("delta")) == before + 1


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_votes_export_import_round_trip(data_dir, tmp_path, fmt):
    store = seeded_store(data_dir)
    clips = store.clips()
    pid = clips[0].prompt_id
    pair = [c for c in clips if c.prompt_id == pid][:2]
    new = store.create_battle(pid, pair[0].id, pair[1].id, "rater-1", 0.25)
    store.cast_vote(new.battle.id, new.token, "rater-1", "left")
    store.close()
    out = tmp_path / f"votes.{fmt}"
    assert paddock("votes", "export", str(out), data=data_dir).returncode == 0
    frame = (
        pd.read_parquet(out)
        if fmt == "parquet"
        else (pd.read_csv(out) if fmt == "csv" else pd.read_json(out, lines=True))
    )
    assert list(frame.columns[:10]) == [
        "model_a",
        "model_b",
        "winner",
        "prompt_id",
        "prompt",
        "category",
        "clip_a",
        "clip_b",
        "rater",
        "tstamp",
    ]
    assert frame.loc[0, "winner"] == "model_a"
    other = tmp_path / "other-data"
    seeded_store(other).close()
    result = paddock("votes", "import", str(out), data=other)
    assert result.returncode == 0, result.stderr
    with Store.open(other) as again:
        rows = again.battles_frame()
        assert (
            rows.loc[0, ["model_a", "model_b", "winner", "rater"]].tolist()
            == frame.loc[0, ["model_a", "model_b", "winner", "rater"]].tolist()
        )


def test_votes_import_names_line_and_column(data_dir, tmp_path):
    seeded_store(data_dir).close()
    csv = tmp_path / "v.csv"
    csv.write_text("model_a,model_b,winner\nalpha,beta,model_a\nalpha,beta,left\n")
    result = paddock("votes", "import", str(csv), data=data_dir)
    assert result.returncode == 2 and "line 3, column winner" in result.stderr
    nocol = tmp_path / "n.jsonl"
    nocol.write_text('{"model_a": "alpha", "winner": "tie"}\n')
    result = paddock("votes", "import", str(nocol), data=data_dir)
    assert result.returncode == 2 and "missing column(s) model_b" in result.stderr
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"model_a": "alpha", "model_b": "beta", "winner": "tie"}\n{oops\n')
    result = paddock("votes", "import", str(broken), data=data_dir)
    assert result.returncode == 2 and "line 2" in result.stderr
    latin = tmp_path / "l.csv"
    latin.write_bytes(b"model_a,model_b,winner\n\xe9,beta,tie\n")
    result = paddock("votes", "import", str(latin), data=data_dir)
    assert result.returncode == 2 and "not UTF-8" in result.stderr
    with Store.open(data_dir) as again:
        assert again.vote_count() == 0


def test_generate_takes_a_model_name_as_the_board_spells_it(data_dir, tmp_path):
    """--model pony (a built-in name) and --model NAME (a model in the store) make a clip."""
    clip = ["--prompt", "a calm beach", "--duration", "1", "--resolution", "480p"]
    bare = paddock("generate", "--model", "pony", *clip, "--out", str(tmp_path / "a.mp4"))
    assert bare.returncode == 0, bare.stderr
    assert json.loads(bare.stdout)["frames"] == 24
    with Store.open(data_dir) as store:
        store.add_model("team-lag", "baseline", generator="builtin:pony-lag?ms=200")
    named = paddock(
        "generate", "--model", "team-lag", *clip, "--out", str(tmp_path / "b.mp4"), data=data_dir
    )
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "b.mp4").stat().st_size > 0
    unknown = paddock("generate", "--model", "nosuch", *clip, "--out", str(tmp_path / "c.mp4"))
    assert unknown.returncode == 2 and "built-in model" in unknown.stderr
    assert not (tmp_path / "c.mp4").exists()
