"""Bulk vote import in SQL: Parquet files checked and inserted by DuckDB, all or nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arena.io.battle_files import import_votes
from arena.store import Store
from generators.errors import InputError


def battles(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    names = np.array(["alpha", "beta", "gamma"])
    a = rng.integers(0, 3, n)
    b = (a + rng.integers(1, 3, n)) % 3
    return pd.DataFrame(
        {
            "model_a": names[a],
            "model_b": names[b],
            "winner": rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"], n),
            "rater": [f"r{i % 4}" for i in range(n)],
            "tstamp": 1.7e9 + np.arange(n, dtype=float),
            "sampling_prob": np.full(n, 0.5),
        }
    )


def snapshot(store: Store) -> tuple:
    return (
        store.vote_count(),
        len(store.models()),
        store._query("SELECT count(*) FROM all_battles")[0][0],
        store._query("SELECT count(*) FROM clips")[0][0],
        store._query("SELECT count(*) FROM raters")[0][0],
    )


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "data") as opened:
        for name in ("alpha", "beta"):
            opened.add_model(name, "imported")
        yield opened


def test_parquet_import_round_trips_and_reports_progress(store: Store, tmp_path: Path) -> None:
    frame = battles()
    path = tmp_path / "votes.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError, match=r"unknown model\(s\) gamma; register them first"):
        import_votes(store, path)
    steps: list[str] = []
    assert import_votes(store, path, add_models=True, progress=steps.append) == len(frame)
    assert steps == ["reading", "checking", "inserting"]
    back = store.battles_frame()
    assert len(back) == len(frame)
    pd.testing.assert_frame_equal(
        back[["model_a", "model_b", "winner", "rater"]].reset_index(drop=True),
        frame[["model_a", "model_b", "winner", "rater"]],
    )
    assert np.allclose(back["tstamp"], frame["tstamp"]) and (back["sampling_prob"] == 0.5).all()
    assert (back["source"] == "import").all() and back["clip_a"].str.startswith("imp_").all()
    counts = store.vote_counts()
    assert counts["count"].sum() == len(frame) and np.allclose(counts["ipw"], 2 * counts["count"])
    # Battle ids are opaque and distinct.
    ids = store._query("SELECT id FROM all_battles")
    assert len({i[0] for i in ids}) == len(frame) and all(i[0].startswith("imp") for i in ids)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"winner": (5, "draw")}, "row 6, column winner: unknown label 'draw'"),
        ({"model_b": (2, "")}, "row 3, column model_b: empty or not text"),
        ({"model_b": (3, None)}, "row 4, column model_b: empty or not text"),
        ({"tstamp": (7, -5.0)}, "row 8, column tstamp: '-5.0' is not seconds since 1970"),
        ({"sampling_prob": (1, 1.5)}, "row 2, column sampling_prob: '1.5' is not a probability"),
        ({"sampling_prob": (9, float("inf"))}, "row 10, column sampling_prob: 'inf' is not"),
    ],
)
def test_a_bad_row_names_its_row_and_nothing_is_written(
    store: Store, tmp_path: Path, change: dict, message: str
) -> None:
    frame = battles()
    for column, (row, value) in change.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    before = snapshot(store)
    with pytest.raises(InputError) as error:
        import_votes(store, path, add_models=True)
    assert f"{path}, {message}" in str(error.value)
    assert "\n" not in str(error.value)
    assert snapshot(store) == before


def test_self_battles_lists_and_broken_files_are_refused(store: Store, tmp_path: Path) -> None:
    frame = battles()
    frame.loc[4, "model_b"] = frame.loc[4, "model_a"]
    selfie = tmp_path / "self.parquet"
    frame.to_parquet(selfie)
    listed = battles().assign(rater=[["x"]] * 40)
    lists = tmp_path / "lists.parquet"
    listed.to_parquet(lists)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    before = snapshot(store)
    for path, message in [
        (selfie, f"row 5: model {frame.loc[4, 'model_a']!r} battles itself"),
        (lists, "row 1, column rater: expected text"),
        (broken, "not a readable Parquet file"),
    ]:
        with pytest.raises(InputError, match=message.replace("(", r"\(")):
            import_votes(store, path, add_models=True)
    assert snapshot(store) == before


def test_store_import_battles_checks_rows_too(store: Store) -> None:
    bad = battles().head(5).copy()
    bad = bad[(bad["model_a"] != "gamma") & (bad["model_b"] != "gamma")].copy()
    bad.loc[bad.index[-1], "winner"] = "left"
    with pytest.raises(InputError, match=r"votes, row \d+, column winner: unknown label 'left'"):
        store.import_battles(bad)
    assert store.vote_count() == 0
