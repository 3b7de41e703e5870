"""paddock.toml and the other TOML files: one reader, one error form, kinds that take a path."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from arena.io.aspects_file import load_aspects
from arena.io.models_file import full_spec, load_models_file
from arena.io.serving_file import load_serving_profile
from generators import registry
from generators.config_file import CONFIG_ENV, paddock_toml_path, read_toml
from generators.errors import InputError
from metrics.base import MetricsConfig
from metrics.regression import load_tolerances

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("arena", "generators", "metrics", "leaderboards", "benchmarks", "notebooks")


def _modules_that(found) -> list[str]:
    hits = []
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(found(node) for node in ast.walk(tree)):
                hits.append(str(path.relative_to(ROOT)))
    return hits


def test_toml_is_parsed_and_the_variable_named_in_one_module():
    def imports_tomllib(node) -> bool:
        if isinstance(node, ast.Import):
            return any(alias.name.split(".")[0] == "tomllib" for alias in node.names)
        return isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tomllib")

    def names_the_variable(node) -> bool:
        return isinstance(node, ast.Constant) and node.value == "PADDOCK_CONFIG"

    assert _modules_that(imports_tomllib) == ["generators/config_file.py"]
    assert _modules_that(names_the_variable) == ["generators/config_file.py"]


def test_the_file_in_use(tmp_path, monkeypatch):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert paddock_toml_path() == Path("paddock.toml")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "team.toml"))
    assert paddock_toml_path() == tmp_path / "team.toml"
    assert load_serving_profile().fps > 0  # no file where the variable points: the defaults


@pytest.mark.parametrize(
    ("text", "load", "message"),
    [
        ("[serving]\nfps = 0\n", load_serving_profile, "FILE [serving] fps: 0 is outside"),
        ("serving = 3\n", load_serving_profile, "FILE [serving]: must be a table"),
        ('aspects = ["smell"]\n', load_aspects, "FILE aspects: unknown aspect 'smell'"),
        ("[models.x]\nsteps = 3\n", load_models_file, "FILE [models.x] generator: Field required"),
        (
            '[http.a]\nendpoint = "http://x"\ncolour = 1\n[models.x]\ngenerator = "builtin:pony"\n',
            load_models_file,
            "FILE [http.a] colour: Extra inputs are not permitted",
        ),
        ("[tolerances]\nlipsync = 1\n", load_tolerances, "FILE [tolerances] lipsync: must be"),
        ("[metrics\n", MetricsConfig.load, "FILE: not valid TOML"),
    ],
)
def test_every_section_reports_file_section_and_key_one_way(tmp_path, text, load, message):
    path = tmp_path / "paddock.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value).startswith(message.replace("FILE", str(path)))


def test_a_missing_file_given_by_name_is_refused(tmp_path):
    for load in (load_serving_profile, load_aspects, MetricsConfig.load, read_toml):
        with pytest.raises(InputError, match="nowhere.toml: no such file"):
            load(tmp_path / "nowhere.toml")


def test_a_kind_whose_registry_row_says_path_gets_an_absolute_path(tmp_path, monkeypatch):
    """A new kind that takes a path needs no change to paddock.toml's reader."""
    row = replace(registry.KINDS["folder"], name="clipdir")
    monkeypatch.setitem(registry.KINDS, "clipdir", row)
    assert full_spec("clipdir:./clips", {}, tmp_path, tmp_path / "paddock.toml") == (
        f"clipdir:{tmp_path / 'clips'}"
    )
    named = replace(row, name="named", target=registry.TARGET_NAME)
    monkeypatch.setitem(registry.KINDS, "named", named)
    assert full_spec("named:./clips", {}, tmp_path, tmp_path / "paddock.toml") == "named:./clips"
