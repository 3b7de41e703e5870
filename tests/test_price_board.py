"""Price and speed on the board: per-model medians, the Pareto frontier, the CLI formats and
order, the charts (models without a price left off, never at 0), the tab and the export."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from price_board_support import MODELS, Seeded, priced_store
from typer.testing import CliRunner

from arena.cli import app
from leaderboards.board import BoardOptions, VotePool, build_board
from leaderboards.errors import RatingInputError
from leaderboards.plots import pareto_figure, pareto_figures
from leaderboards.price_speed import (
    LOCAL,
    NO_PRICE,
    pareto_frontier,
    price_speed,
    price_speed_summary,
    with_price_speed,
)

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]


def _clips(rows: list[tuple]) -> pd.DataFrame:
    columns = ["model", "duration", "generation_s", "price_usd", "price_source"]
    return pd.DataFrame(rows, columns=columns)


def test_medians_counts_and_notes_per_model():
    clips = _clips([
        ("hosted", 5.0, 50.0, 0.50, "reported"),
        ("hosted", 10.0, 60.0, 1.00, "reported"),
        ("hosted", 5.0, 40.0, None, "unknown"),  # timed, not priced
        ("hosted", None, 30.0, 0.70, "table:2026-12-05"),  # priced, no duration
        ("unpriced", 4.0, 20.0, None, "unknown"),
        ("unpriced", 4.0, 28.0, None, None),
        ("tiny", 4.0, 2.0, None, "local"),
        ("gpu", 5.0, 10.0, 0.0, "compute"),  # a real price of 0 stays 0
    ])  # fmt: skip
    table = price_speed(clips).set_index("model")
    hosted = table.loc["hosted"]
    assert hosted["gen_s_per_clip_s"] == pytest.approx(8.0)  # median of 10, 6, 8
    assert hosted["gen_s_per_clip"] == pytest.approx(50.0)  # median of 50, 60, 40
    assert hosted["price_per_clip"] == pytest.approx(0.70)  # median of 0.5, 1.0, 0.7
    assert hosted["price_per_min"] == pytest.approx(6.0)  # both 6 $/min; no duration: left out
    assert (hosted["clips_timed"], hosted["clips_priced"]) == (3, 3)
    assert hosted["price_note"] == "reported + table:2026-12-05"
    unpriced = table.loc["unpriced"]
    assert math.isnan(unpriced["price_per_clip"]) and math.isnan(unpriced["price_per_min"])
    assert unpriced["price_note"] == NO_PRICE and unpriced["clips_priced"] == 0
    assert unpriced["gen_s_per_clip_s"] == pytest.approx(6.0)
    tiny = table.loc["tiny"]
    assert tiny["price_note"] == LOCAL and math.isnan(tiny["price_per_min"])
    assert table.loc["gpu", "price_per_min"] == 0.0 and table.loc["gpu", "price_note"] == "compute"
    # A model whose generator runs here, with no price, is "local" also without that source.
    flagged = price_speed(clips.assign(local=clips["model"] == "unpriced")).set_index("model")
    assert flagged.loc["unpriced", "price_note"] == LOCAL


def test_a_model_dominated_on_both_axes_is_not_on_the_frontier():
    cost = np.array([1.0, 2.0, 3.0, 2.5, np.nan, 0.5])
    rating = np.array([1000.0, 1100.0, 1200.0, 1050.0, 1300.0, 900.0])
    # 2.5 $/min for 1050 is beaten by 2.0 for 1100 on both axes; a missing cost is never on it.
    assert pareto_frontier(cost, rating).tolist() == [True, True, True, False, False, True]
    # Equal on both: neither dominates the other. Equal cost, lower rating: dominated.
    assert pareto_frontier([1.0, 1.0], [1000.0, 1000.0]).tolist() == [True, True]
    assert pareto_frontier([1.0, 1.0], [1000.0, 990.0]).tolist() == [True, False]


def _board_table() -> pd.DataFrame:
    return pd.DataFrame({
        "model": ["best", "middle", "free-local", "unknown", "no-clips"],
        "rating": [1100.0, 1000.0, 950.0, 900.0, 850.0],
        "ci_low": [1050.0, 960.0, 900.0, 850.0, 800.0],
        "ci_high": [1150.0, 1040.0, 1000.0, 950.0, 900.0],
    })  # fmt: skip


def _board_clips() -> pd.DataFrame:
    return _clips([
        ("best", 5.0, 100.0, 2.0, "reported"),
        ("middle", 5.0, 10.0, 0.5, "table:2026-12-05"),
        ("free-local", 5.0, 5.0, None, "local"),
        ("unknown", 5.0, 50.0, None, "unknown"),
    ])  # fmt: skip


def test_board_columns_and_the_price_and_speed_orders():
    table = with_price_speed(_board_table(), _board_clips())
    assert list(table["model"]) == ["best", "middle", "free-local", "unknown", "no-clips"]
    assert table.set_index("model").loc["no-clips", "price_note"] == NO_PRICE
    assert table.set_index("model").loc["no-clips", "clips_timed"] == 0
    by_price = with_price_speed(_board_table(), _board_clips(), "price")
    # Cheapest per minute first; models without a price last, in rating order (never as 0).
    assert list(by_price["model"]) == ["middle", "best", "free-local", "unknown", "no-clips"]
    by_speed = with_price_speed(_board_table(), _board_clips(), "speed")
    assert list(by_speed["model"]) == ["free-local", "middle", "unknown", "best", "no-clips"]


def test_sorting_needs_the_clips_and_a_raw_board():
    counts = pd.DataFrame({"model_a": ["a", "b"], "model_b": ["b", "a"],
                           "winner": ["model_a", "model_a"], "count": [30, 20]})  # fmt: skip
    pool = VotePool({"overall": counts})
    with pytest.raises(RatingInputError, match="votes file does not carry"):
        build_board(pool, BoardOptions(sort="price"))
    with pytest.raises(RatingInputError, match="unknown sort 'cost'"):
        build_board(pool, BoardOptions(sort="cost"))
    clips = _clips([("a", 5.0, 50.0, 1.0, "reported"), ("b", 5.0, 10.0, 0.1, "reported")])
    board = build_board(VotePool({"overall": counts}, clips=clips), BoardOptions(sort="price"))
    assert list(board.table["model"]) == ["b", "a"] and board.table["rank"].tolist() == [1, 1]
    assert "price_per_min" not in build_board(pool).table.columns  # a file: no such columns


def _axes_points(figure) -> tuple[set[str], np.ndarray]:
    """The model names written on a chart and the x of every point drawn."""
    axes = figure.axes[0]
    names = {t.get_text() for t in axes.texts}
    xs = [line.get_xdata() for line in axes.lines if len(line.get_xdata())]
    return names, np.concatenate(xs) if xs else np.array([])


def test_the_price_chart_leaves_unpriced_models_off_and_names_them():
    table = with_price_speed(_board_table(), _board_clips())
    figure = pareto_figure(table, "price_per_min", "price", "Rating against price")
    names, xs = _axes_points(figure)
    assert names == {"best", "middle"}
    assert (xs > 0).all()  # nothing drawn at 0
    caption = figure.get_supxlabel()
    assert caption == (
        "Not plotted: free-local (local, time only); unknown, no-clips (no price)."
    ), caption
    # Both on the frontier: best is dearer but better rated.
    bold = {t.get_text() for t in figure.axes[0].texts if t.get_fontweight() == "bold"}
    assert bold == {"best", "middle"}
    speed = pareto_figures(table)["speed"]
    names, _ = _axes_points(speed)
    assert names == {"best", "middle", "free-local", "unknown"}
    bold = {t.get_text() for t in speed.axes[0].texts if t.get_fontweight() == "bold"}
    assert bold == {"best", "middle", "free-local"}  # unknown: slower and worse than middle
    summary = price_speed_summary(table)
    assert "Frontier on price: best, middle." in summary
    assert "Frontier on speed: best, middle, free-local." in summary


def test_no_chart_without_any_figure():
    table = with_price_speed(_board_table(), _clips([("best", 5.0, None, None, None)]))
    assert pareto_figures(table) == {}


def _cli(*args: str):
    return CliRunner().invoke(app, ["leaderboard", *args], catch_exceptions=True)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("priced") / "data"
    priced_store(data).close()
    return data


def test_cli_formats_carry_price_and_speed(store_dir, tmp_path):
    result = _cli("--data", str(store_dir), "--bootstrap", "50", "--format", "json",
                  "--sort", "price")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    prices = [r["price_per_min"] for r in rows]
    priced = [p for p in prices if p is not None]
    assert priced == sorted(priced) and prices[: len(priced)] == priced  # cheapest first
    by_model = {r["model"]: r for r in rows}
    assert by_model["mystery-api"]["price_per_min"] is None
    assert by_model["mystery-api"]["price_note"] == NO_PRICE
    assert by_model["pony"]["price_note"] == LOCAL and by_model["pony"]["clips_timed"] == 6
    assert by_model["veo-3"]["price_per_min"] == pytest.approx(24.0, rel=0.2)
    assert by_model["veo-3"]["clips_priced"] == 6
    markdown = _cli("--data", str(store_dir), "--bootstrap", "0", "--format", "markdown",
                    "--sort", "speed")  # fmt: skip
    assert markdown.exit_code == 0, markdown.output
    lines = markdown.stdout.splitlines()
    assert "| $ / min |" in lines[0] and "| s / clip s |" in lines[0]
    assert lines[2].startswith("| ") and "pony" in lines[2]  # the fastest first
    # (a name may carry the provisional mark: "mystery-api †")
    assert any("| mystery-api" in line and "| no price | no price |" in line for line in lines)
    assert any("| pony" in line and "| local | local |" in line for line in lines)
    csv = _cli("--data", str(store_dir), "--bootstrap", "0", "--format", "csv",
               "--plot", str(tmp_path / "plots"))  # fmt: skip
    assert csv.exit_code == 0, csv.output
    frame = pd.read_csv(pd.io.common.StringIO(csv.stdout))
    assert frame.set_index("model")["price_per_min"].isna().sum() == 2  # empty, not 0
    assert {"price.png", "speed.png"} <= {p.name for p in (tmp_path / "plots").iterdir()}


def test_cli_refuses_a_price_order_for_a_votes_file(tmp_path):
    votes = tmp_path / "votes.csv"
    pd.DataFrame({"model_a": ["a"] * 5, "model_b": ["b"] * 5,
                  "winner": ["model_a"] * 5}).to_csv(votes, index=False)  # fmt: skip
    proc = subprocess.run([*PADDOCK, "leaderboard", "--votes", str(votes), "--sort", "price"],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert "sorting by price needs the clips' times and prices" in line


def test_tab_shows_price_cells_and_both_charts(data_dir):
    from arena.web.app import board_updates
    from arena.web.leaderboard_view import compute_board

    store = priced_store(data_dir)
    view = compute_board(store, "all", n_bootstrap=50)
    assert "price_per_min" not in view.table.columns  # the board keeps its own columns
    table = view.price_table.set_index("model")
    assert table.loc["mystery-api", "$ / min"] == NO_PRICE
    assert table.loc["pony", "$ / clip"] == LOCAL
    assert table.loc["veo-3", "$ / clip"].startswith("$")
    assert table.loc["veo-3", "price from"] == "reported"
    assert table.loc["pony", "clips timed / priced"] == "6 / 0"
    assert list(view.price_table["model"]) == list(view.table["model"])  # rating order
    outputs = board_updates(view)
    note, cells, price, speed = outputs[7:11]
    assert "Frontier on price:" in note and "mystery-api (no price)" in note
    assert cells["visible"] is True
    assert price["visible"] is True and speed["visible"] is True
    names, xs = _axes_points(price["value"])
    assert "mystery-api" not in names and "pony" not in names and (xs > 0).all()
    store.close()


def test_export_carries_price_and_time_per_clip_and_per_model(data_dir, tmp_path):
    from arena.io.dataset_export import export_dataset

    models = (*MODELS[:2], Seeded("pony", "builtin", "builtin:pony", 0.0, 4.0, 3.0, None, None))
    store = priced_store(data_dir, models, n_votes=60)
    export_dataset(store, tmp_path / "out", created_at="2026-12-05T00:00:00+00:00")
    store.close()
    clips = pd.read_parquet(tmp_path / "out" / "clips.parquet").set_index("clip_id")
    assert {"generation_s", "queue_s", "price_usd", "price_source"} <= set(clips.columns)
    assert clips.loc["c0000", "price_source"] == "reported" and clips.loc["c0000", "price_usd"] > 0
    assert clips.loc["c0200", "price_usd"] != clips.loc["c0200", "price_usd"]  # null, not 0
    card = (tmp_path / "out" / "README.md").read_text()
    assert "## Price and speed per model" in card
    veo = next(line for line in card.splitlines() if line.startswith("| veo-3 |"))
    assert "| 6 | reported |" in veo
    # pony's clips name no source: its builtin generator makes it local, with its time only.
    pony = next(line for line in card.splitlines() if line.startswith("| pony |"))
    cells = [c.strip() for c in pony.strip("|").split("|")]
    assert cells[4:7] == ["local", "local", "0"] and 0.6 < float(cells[2]) < 0.9, pony


@pytest.mark.browser
def test_leaderboard_tab_shows_price_and_speed_in_a_browser(data_dir, tmp_path):
    """The tab at 1440x900 in Chromium; with PADDOCK_SCREENSHOT_DIR=docs this makes
    docs/leaderboard-price.png (the price and speed table and the two Pareto charts)."""
    import os

    from arena_helpers import ServerThread
    from browser import browser_page

    store = priced_store(data_dir)
    shot = Path(os.environ.get("PADDOCK_SCREENSHOT_DIR") or tmp_path)
    with ServerThread(store) as server, browser_page(viewport=(1440, 900)) as page:
        page.goto(server.url, wait_until="networkidle")
        page.get_by_role("tab", name="Leaderboard").click()
        page.wait_for_function(
            "(document.getElementById('pd-price-board') || {innerText: ''}).innerText"
            ".includes('no price')", timeout=60_000,
        )  # fmt: skip
        chart = page.locator("#pd-price-chart")
        chart.locator("img, svg, canvas").first.wait_for(state="visible", timeout=60_000)
        text = page.locator("#pd-price-board").inner_text()
        assert "$ / min" in text and "local" in text and "s / clip s" in text
        note = page.locator("#pd-price-note").inner_text()
        assert "Frontier on price:" in note and "mystery-api (no price)" in note
        page.evaluate("document.getElementById('pd-price-note').scrollIntoView()")
        page.screenshot(path=str(shot / "leaderboard-price.png"))
    store.close()
