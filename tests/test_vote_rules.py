"""One set of rules for a votes file's rows, one wording: import, leaderboard, composite, control."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.io.battle_files import import_votes
from arena.store import Store
from generators.errors import InputError


def votes(n: int = 12) -> pd.DataFrame:
    names = ["alpha", "beta", "gamma"]
    rows = [(names[i % 3], names[(i + 1) % 3], ["model_a", "model_b", "tie"][i % 3])
            for i in range(n)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])
    return frame.assign(tstamp=1.7e9, duration_a=5.0 + frame.index % 2, duration_b=5.5)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("winner", "draw", "column winner: unknown label 'draw'"),
        ("tstamp", -5.0, "column tstamp: '-5.0' is not seconds since 1970"),
        ("aspect", "colour", "column aspect: unknown aspect 'colour'"),
        ("sampling_prob", 1.5, "column sampling_prob: '1.5' is not a probability in (0, 1]"),
    ],
)
@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_a_bad_row_is_named_alike_wherever_the_file_is_read(
    tmp_path: Path, data_dir: Path, column: str, value: object, problem: str, suffix: str
) -> None:
    frame = votes()
    if column == "aspect":
        frame["aspect"] = ""
    if column == "sampling_prob":
        frame["sampling_prob"] = 0.5
    frame[column] = frame[column].astype(object)
    frame.loc[6, column] = value  # the 7th data row
    path = tmp_path / f"votes.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False)
        where = "line 8"
    elif suffix == "jsonl":
        frame.to_json(path, orient="records", lines=True)
        where = "line 7"
    else:
        kind = str if column in ("winner", "aspect") else float
        frame.astype({column: kind}).to_parquet(path)
        where = "row 7"
    expected = f"{path}, {where}, {problem}"
    with Store.open(data_dir) as store, pytest.raises(InputError) as imported:
        import_votes(store, path, add_models=True)
    assert str(imported.value).startswith(expected)
    runs = {
        "leaderboard": ["--bootstrap", "0"],
        "composite": ["--bootstrap", "0", "--composite"],
        "control": ["--control", "duration", "--ci", "sandwich"],
    }
    for name, extra in runs.items():
        result = CliRunner().invoke(app, ["leaderboard", "--votes", str(path), *extra])
        assert isinstance(result.exception, InputError), (name, result.output)
        assert str(result.exception) == str(imported.value), name
