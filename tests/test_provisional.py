"""Provisional ratings and the variants a board does not show: the mark until N votes since a
model's last change, families (checkpoints, paddock.toml, baselines), `--hide`, on every board."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.domain.families import model_families
from arena.domain.registration import change_model_generator, ensure_builtin_models
from arena.errors import exit_code
from arena.io.dataset_export import export_dataset
from arena.io.models_file import load_models_file, sync_models
from arena.store import Store
from arena.web.leaderboard_view import compute_board
from leaderboards.provisional import hide_models, mark_provisional, variant_notes

DAY = 86_400.0


def votes_between(pairs: list[tuple[str, str, int]], tstamp: float, seed: int = 0) -> pd.DataFrame:
    """``n`` votes for each (a, b, n), cast at ``tstamp`` (epoch seconds); a wins about 60%."""
    rng = np.random.default_rng(seed)
    rows = []
    for a, b, n in pairs:
        for i in range(n):
            left, right = (a, b) if i % 2 else (b, a)
            a_wins = rng.random() < 0.6
            winner = "model_a" if (left == a) == a_wins else "model_b"
            rows.append({"model_a": left, "model_b": right, "winner": winner, "tstamp": tstamp})
    return pd.DataFrame(rows)


def leaderboard(data: Path, *args: str):
    result = CliRunner().invoke(
        app, ["leaderboard", "--data", str(data), "--bootstrap", "0", *args]
    )
    return result


def board_json(data: Path, *args: str) -> dict[str, dict]:
    result = leaderboard(data, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {row["model"]: row for row in json.loads(result.stdout)}


def refusal(result) -> str:
    """The one line a refused command prints (exit code 2), as `paddock` prints it."""
    assert result.exception is not None and exit_code(result.exception) == 2, result.output
    message = str(result.exception)
    assert "\n" not in message
    return message


def folder(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.mkdir()
    return f"folder:{path}"


# ---------------------------------------------------------------- the pure rules


def test_the_mark_holds_below_n_votes_since_the_change_and_goes_at_n() -> None:
    table = pd.DataFrame({"model": ["a", "b", "c"], "votes": [900, 900, 900]})
    marked = mark_provisional(table, {"a": 499, "b": 500}, 500)
    assert marked["provisional"].tolist() == [True, False, True]  # c: none since its change
    assert marked["votes_since_change"].tolist() == [499, 500, 0]


def test_variants_are_noted_only_above_the_limit_and_when_some_are_not_shown() -> None:
    rated = ["acme-1", "acme-2", "acme-3", "acme-4", "solo"]
    families = {m: "acme" for m in rated[:4]}
    notes = variant_notes(rated, ["acme-4", "solo"], families, max_variants=3)
    assert [n.sentence() for n in notes] == ["acme: 4 variants rated, 1 shown"]
    assert variant_notes(rated, rated, families, 3) == []  # every variant shown
    assert variant_notes(rated, ["acme-4"], families, 4) == []  # 4 is not more than 4


def test_hidden_rows_go_and_ranks_are_counted_among_the_shown() -> None:
    table = pd.DataFrame(
        {"model": ["x", "y", "z"], "rating": [1200.0, 1000.0, 800.0],
         "ci_low": [1150.0, 950.0, 750.0], "ci_high": [1250.0, 1050.0, 850.0], "rank": [1, 2, 3]}
    )  # fmt: skip
    shown = hide_models(table, ["x"])
    assert shown["model"].tolist() == ["y", "z"] and shown["rank"].tolist() == [1, 2]


# ---------------------------------------------------------------- families


def test_families_checkpoints_inherit_the_file_overrides_baselines_stand_alone(
    data_dir: Path, tmp_path: Path
) -> None:
    store = Store.open(data_dir)
    ensure_builtin_models(store)
    store.add_model("pony-ft", "checkpoint", parent="pony")
    store.add_model("pony-ft2", "checkpoint", parent="pony-ft")
    store.add_model("lag-ft", "checkpoint", parent="pony-lag")
    config = tmp_path / "paddock.toml"
    config.write_text(
        f'[models.acme-a]\ngenerator = "{folder(tmp_path, "a")}"\nfamily = "acme"\n'
        f'[models.acme-b]\ngenerator = "{folder(tmp_path, "b")}"\nfamily = "acme"\n'
        f'[models.other]\ngenerator = "{folder(tmp_path, "c")}"\n'
        '[models.acme-b-ft]\ngenerator = "builtin:pony"\nparent = "acme-b"\n'
    )
    report = sync_models(store, load_models_file(config))
    assert set(report.added) == {"acme-a", "acme-b", "other", "acme-b-ft"}
    families = model_families(store.models())
    assert families["pony-ft"] == families["pony-ft2"] == "pony"
    assert families["lag-ft"] == "pony-lag"
    assert all(families[n] == n for n in families if n.startswith("pony-") and "ft" not in n)
    assert families["acme-a"] == families["acme-b"] == families["acme-b-ft"] == "acme"
    assert families["other"] == "other"
    # A family given later to a registered model is recorded by the next sync.
    config.write_text(
        config.read_text().replace("[models.other]\n", '[models.other]\nfamily = "acme"\n')
    )
    assert sync_models(store, load_models_file(config)).family_set == ["other"]
    assert model_families(store.models())["other"] == "acme"
    # A baseline cannot be declared a variant of anything.
    config.write_text('[models.pony-lag2]\ngenerator = "builtin:pony-lag"\nfamily = "pony"\n')
    with pytest.raises(Exception, match=r"\[models.pony-lag2\] family: a built-in baseline"):
        load_models_file(config)
    store.close()


# ---------------------------------------------------------------- the store and the CLI


def test_votes_before_a_change_do_not_count_and_the_mark_goes_at_n(
    data_dir: Path, tmp_path: Path
) -> None:
    store = Store.open(data_dir)
    for name in ("old", "fresh", "base"):
        store.add_model(name, "imported")
    store.add_model("acme", "http", generator=folder(tmp_path, "v1"))
    past, later = time.time() - 30 * DAY, time.time() + DAY
    store.import_battles(votes_between([("acme", "base", 60), ("old", "base", 60)], past, 1))
    before = store.model_by_name("acme").changed_at
    changed = change_model_generator(store, "acme", folder(tmp_path, "v2"))
    assert changed.changed_at > before and changed.generator.endswith("v2")
    with pytest.raises(Exception, match="nothing changed"):
        change_model_generator(store, "acme", changed.generator)
    store.import_battles(votes_between([("acme", "fresh", 39), ("old", "fresh", 10)], later, 2))
    store.close()

    rows = board_json(data_dir, "--provisional-votes", "40")
    # acme has 99 votes, but only 39 since it changed: still provisional; votes dated before a
    # model was registered (old's imported ones) do not count either.
    assert rows["acme"]["votes"] == 99 and rows["acme"]["votes_since_change"] == 39
    assert rows["acme"]["provisional"] is True
    assert rows["old"]["votes_since_change"] == 10 and rows["old"]["provisional"] is True
    assert rows["fresh"]["votes_since_change"] == 49 and rows["fresh"]["provisional"] is False
    assert rows["acme"]["preliminary"] is False  # distinct from the preliminary mark

    with Store.open(data_dir) as store:
        store.import_battles(votes_between([("acme", "fresh", 1)], later, 3))
    rows = board_json(data_dir, "--provisional-votes", "40")
    assert rows["acme"]["votes_since_change"] == 40 and rows["acme"]["provisional"] is False

    markdown = leaderboard(data_dir, "--provisional-votes", "40", "--format", "markdown").stdout
    assert "| old † |" in markdown and "| acme |" in markdown
    assert "† provisional: fewer than 40 votes since the model was added" in markdown
    table = leaderboard(data_dir, "--provisional-votes", "40").stdout
    line = {
        name: next(r for r in table.splitlines() if f" {name} " in r) for name in ("old", "acme")
    }
    assert "†" in line["old"] and "†" not in line["acme"]  # beside the votes
    # The default N and paddock.toml's [leaderboard] section.
    assert board_json(data_dir)["fresh"]["provisional"] is True  # 50 < 500
    config = tmp_path / "paddock.toml"
    config.write_text("[leaderboard]\nprovisional_votes = 40\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PADDOCK_CONFIG", str(config))
        assert board_json(data_dir)["acme"]["provisional"] is False
        config.write_text("[leaderboard]\nprovisional_votes = 0\n")
        refused = refusal(leaderboard(data_dir))
        assert "[leaderboard] provisional_votes" in refused


@pytest.fixture
def family_store(data_dir: Path, tmp_path: Path) -> Path:
    """acme-1..acme-5 (family acme, from paddock.toml) and two others, all with votes."""
    store = Store.open(data_dir)
    config = tmp_path / "family.toml"
    config.write_text(
        "".join(
            f'[models.acme-{i}]\ngenerator = "{folder(tmp_path, f"acme{i}")}"\nfamily = "acme"\n'
            for i in range(1, 6)
        )
    )
    sync_models(store, load_models_file(config))
    store.add_model("rival", "imported")
    store.add_model("ref", "imported")
    pairs = [(f"acme-{i}", "ref", 30) for i in range(1, 6)] + [("rival", "ref", 30)]
    store.import_battles(votes_between(pairs, time.time() + DAY))
    store.close()
    return data_dir


def test_hiding_variants_says_how_many_were_rated(family_store: Path) -> None:
    data = family_store
    everything = board_json(data)
    assert len(everything) == 7
    hide = "acme-1,acme-2,acme-3,acme-4"
    result = leaderboard(data, "--format", "json", "--hide", hide)
    assert result.exit_code == 0, result.output
    shown = {row["model"] for row in json.loads(result.stdout)}
    assert shown == {"acme-5", "rival", "ref"}
    assert "acme: 5 variants rated, 1 shown" in result.stderr
    assert sorted(r["rank"] for r in json.loads(result.stdout))[0] == 1
    robust = leaderboard(data, "--format", "json", "--hide", hide, "--robustness")
    assert robust.exit_code == 0, robust.output
    assert not any(f"acme-{i}" in robust.stdout + robust.stderr for i in range(1, 5))
    assert sum(bool(r["holds_unless"]) for r in json.loads(robust.stdout)) == 2  # 3 shown
    markdown = leaderboard(data, "--format", "markdown", "--hide", hide).stdout
    assert "acme: 5 variants rated, 1 shown" in markdown and "acme-1" not in markdown
    # Hiding no more than the limit allows, or hiding nothing, says nothing.
    few = leaderboard(data, "--format", "markdown", "--hide", hide, "--max-variants", "5")
    assert "variants rated" not in few.stdout
    assert "variants rated" not in leaderboard(data, "--format", "markdown").stdout
    # A name that is not a model is refused in one line.
    assert "unknown model 'acme-9'" in refusal(leaderboard(data, "--hide", "acme-9"))


def test_inactive_variants_leave_the_tab_and_the_tab_says_how_many_were_rated(
    family_store: Path,
) -> None:
    data = family_store
    runner = CliRunner()
    for i in range(1, 5):
        result = runner.invoke(app, ["models", "deactivate", f"acme-{i}", "--data", str(data)])
        assert result.exit_code == 0, result.output
    with Store.open(data) as store:
        view = compute_board(store, "all", n_bootstrap=50)
    assert set(view.table["model"]) == {"acme-5", "rival", "ref"}
    assert "acme: 5 variants rated, 1 shown" in view.summary
    assert view.table["provisional"].all()  # 30 or 150 votes, under 500
    assert "3 model(s) provisional" in view.summary
    hidden = board_json(data, "--hide-inactive")
    assert set(hidden) == {"acme-5", "rival", "ref"}
    with Store.open(data) as store:
        store.set_model_active("acme-1", True)  # serving again is not a change
        assert store.model_by_name("acme-1").changed_at == store.model_by_name("acme-1").created_at


def test_export_marks_provisional_models_and_counts_variants(
    family_store: Path, tmp_path: Path
) -> None:
    with Store.open(family_store) as store:
        for i in range(1, 5):
            store.set_model_active(f"acme-{i}", False)
        export_dataset(store, tmp_path / "out", created_at="2026-01-01T00:00:00+00:00")
    models = pd.read_parquet(tmp_path / "out" / "models.parquet").set_index("model")
    assert models.loc["acme-3", "family"] == "acme" and models.loc["rival", "family"] == "rival"
    assert models.loc["ref", "votes_since_change"] == 180
    assert models["provisional"].all()
    card = (tmp_path / "out" / "README.md").read_text()
    assert "## Provisional ratings" in card and "`acme-1` (30 since" in card
    assert "acme: 5 variants rated, 1 shown" in card


def test_a_model_added_by_an_import_counts_its_imported_votes(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        store.add_model("known", "imported")
        old = votes_between([("known", "new", 30)], time.time() - 30 * DAY)
        store.import_battles(old, add_models=True)
        assert store.votes_since_change() == {"new": 30}  # known was registered after them


def test_models_change_restamps_and_list_names_the_family(data_dir: Path, tmp_path: Path) -> None:
    with Store.open(data_dir) as store:
        ensure_builtin_models(store)
        store.add_model("acme", "http", generator=folder(tmp_path, "v1"))
        store.add_model("acme-ft", "checkpoint", parent="acme")
        before = store.model_by_name("acme").changed_at
    runner = CliRunner()
    args = ["--data", str(data_dir)]
    new = folder(tmp_path, "v2")
    result = runner.invoke(app, ["models", "change", "acme", "--generator", new, *args])
    assert result.exit_code == 0 and "provisional" in result.stdout, result.output
    assert "built in" in refusal(
        runner.invoke(app, ["models", "change", "pony", "--generator", new, *args])
    )
    listed = runner.invoke(app, ["models", "list", *args]).stdout
    assert "acme-ft\tcheckpoint\t-\tfamily acme" in listed
    assert "family" not in next(line for line in listed.splitlines() if line.startswith("pony-lag"))
    with Store.open(data_dir) as store:
        changed = store.model_by_name("acme")
        assert changed.generator == new and changed.changed_at > before
        assert store.model_by_name("acme-ft").changed_at < changed.changed_at  # not its variants
