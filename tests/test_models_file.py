"""paddock.toml models and `paddock models sync`: specs made whole, all or nothing, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from arena.io.models_file import load_models_file, sync_models
from arena.store import Store
from generators.errors import InputError
from generators.registry import parse_spec

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]

API = """
[http.acme]
endpoint = "http://127.0.0.1:9/v1"
auth_env = "ACME_KEY"
"""


def paddock(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PADDOCK, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pipelines" / "wan").mkdir(parents=True)
    (tmp_path / "exports" / "team-x").mkdir(parents=True)
    (tmp_path / "paddock.toml").write_text(
        """
[models.wan-small]
generator = "diffusers:./pipelines/wan"
display_name = "Wan 2.1 small"
steps = 2
guidance = 4.5

[models.wan-hub]
generator = "diffusers:Wan-AI/Wan2.1-T2V-1.3B-Diffusers?dtype=bfloat16"
offload = "model"

[models.acme]
generator = "http:acme"

[models.team-x]
generator = "folder:exports/team-x"

[models.pony-lag-300]
generator = "builtin:pony-lag"
ms = 300
parent = "wan-small"
"""
        + API
    )
    return tmp_path / "paddock.toml"


def test_specs_are_made_whole(project):
    decls = {d.name: d for d in load_models_file(project)}
    root = project.parent.resolve()
    wan = decls["wan-small"]
    assert wan.spec == f"diffusers:{root}/pipelines/wan?guidance=4.5&steps=2"
    assert (wan.kind, wan.display_name) == ("diffusers", "Wan 2.1 small")
    # a hub id is not a folder here: it stays as written, its query merged with the keys
    hub = parse_spec(decls["wan-hub"].spec)
    assert hub == (
        "diffusers",
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        {"dtype": "bfloat16", "offload": "model"},
    )
    assert decls["acme"].spec == f"http:acme?config={project.resolve()}"
    assert decls["acme"].kind == "http"
    assert decls["team-x"].spec == f"folder:{root}/exports/team-x"
    assert decls["team-x"].kind == "imported"
    lag = decls["pony-lag-300"]
    assert (lag.spec, lag.kind, lag.parent) == (
        "builtin:pony-lag?ms=300",
        "checkpoint",
        "wan-small",
    )


def test_sync_registers_once_and_refuses_a_changed_generator(project, tmp_path):
    data = tmp_path / "data"
    first = paddock("models", "sync", str(project), "--data", str(data))
    assert first.returncode == 0, first.stderr
    assert "5 added, 0 unchanged" in first.stdout
    listed = paddock("models", "list", "--data", str(data)).stdout
    for name in ("wan-small", "wan-hub", "acme", "team-x", "pony-lag-300"):
        assert name in listed
    again = paddock("models", "sync", str(project), "--data", str(data))
    assert again.returncode == 0 and "0 added, 5 unchanged" in again.stdout

    text = project.read_text().replace("guidance = 4.5", "guidance = 6.0")
    project.write_text(text + '\n[models.new-one]\ngenerator = "builtin:pony"\n')
    changed = paddock("models", "sync", str(project), "--data", str(data))
    assert changed.returncode == 2
    assert (
        changed.stderr.count("\n") == 1
        and "error: model 'wan-small' is registered" in changed.stderr
    )
    with Store.open(data, read_only=True) as store:
        assert store.find_model("new-one") is None  # nothing synced


@pytest.mark.parametrize(
    "section, message",
    [
        ('[models.x]\ngenerator = "nope:thing"\n', r"\[models.x\]: unknown generator kind 'nope'"),
        ('[models.x]\ngenerator = "pony"\n', r"paddock.toml \[models.x\] generator: Value error"),
        ("[models.x]\nsteps = 3\n", r"paddock.toml \[models.x\] generator: Field required"),
        ('[models.x]\ngenerator = "diffusers:./missing"\n', "no such pipeline folder"),
        ('[models.x]\ngenerator = "diffusers:./pipelines/wan"\nstepz = 2\n', "unknown option"),
        ('[models.x]\ngenerator = "folder:./nowhere"\n', "no such folder"),
        ('[models.x]\ngenerator = "http:other"\n', r"no \[http.other\] section"),
        ('[models.x]\ngenerator = "builtin:pony"\nsizes = [1, 2]\n', "must be a string, number"),
        (
            '[http.bad]\nendpoint = "gopher://x"\n[models.x]\ngenerator = "builtin:pony"\n',
            r"paddock.toml \[http.bad\] endpoint: Value error",
        ),
        ("[other]\nx = 1\n", r"no \[models.NAME\] sections"),
        ("[models.x\n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_naming_the_section(tmp_path, section, message):
    (tmp_path / "pipelines" / "wan").mkdir(parents=True)
    path = tmp_path / "paddock.toml"
    path.write_text(section)
    with pytest.raises(InputError, match=message):
        load_models_file(path)


def test_a_bad_file_writes_nothing_through_the_cli(tmp_path):
    path = tmp_path / "paddock.toml"
    path.write_text('[models.ok]\ngenerator = "builtin:pony"\n[models.bad]\ngenerator = "x:y"\n')
    data = tmp_path / "data"
    result = paddock("models", "sync", str(path), "--data", str(data))
    assert result.returncode == 2 and "unknown generator kind 'x'" in result.stderr
    assert not data.exists()  # the file is checked before the store is even opened


def test_missing_file_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="paddock.toml: no such file"):
        load_models_file(Path("paddock.toml"))


def test_sync_in_library_is_all_or_nothing_on_unknown_parent(project, data_dir):
    decls = load_models_file(project)
    orphan = [d for d in decls if d.name == "pony-lag-300"]
    with Store.open(data_dir) as store:
        with pytest.raises(InputError, match="unknown model 'wan-small'"):
            sync_models(store, orphan)
        assert store.models() == []
        report = sync_models(store, decls)
        assert len(report.added) == 5
        lag = store.model_by_name("pony-lag-300")
        assert lag.parent == store.model_by_name("wan-small").id
