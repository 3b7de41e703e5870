"""The notebooks: stored without outputs, and executed on a small real demo data dir."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import pytest
from notebook_demo import TRUE_ELO, build_demo

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = "paddock-test-python"


def test_every_notebook_is_stored_without_outputs():
    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {b.stem for b in books} >= {"leaderboard", "agreement", "raters"}
    for path in books:
        book = json.loads(path.read_text(encoding="utf-8"))
        for cell in book["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [], f"{path.name}: a code cell has outputs"
                assert cell["execution_count"] is None, f"{path.name}: a cell has a count"


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """Real pony clips for two prompts, quick metrics, ~320 simulated votes (built once)."""
    return build_demo(tmp_path_factory.getbasetemp() / "notebook-demo")


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec that runs this interpreter, so a clean clone's venv is the kernel."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_json = {"argv": argv, "display_name": "Paddock tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json))
    return root


def run_notebook(name: str, data_dir: Path, kernel_dir: Path, monkeypatch) -> list[dict]:
    """Execute a notebook on ``data_dir``; returns its code cells with their outputs."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PADDOCK_DATA", str(data_dir))
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        book,
        kernel_name=KERNEL,
        timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return [c for c in book.cells if c.cell_type == "code"]


def _texts(cells: list[dict]) -> str:
    parts = []
    for cell in cells:
        for out in cell.outputs:
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts.append(data.get("text/plain", "") + data.get("text/html", ""))
    return "\n".join(parts)


def _pngs(cells: list[dict]) -> int:
    return sum("image/png" in out.get("data", {}) for c in cells for out in c.outputs)


def _summary(cells: list[dict]) -> dict:
    """The last cell displays a summary dict; its text is a Python literal."""
    return ast.literal_eval(cells[-1].outputs[0]["data"]["text/plain"])


@pytest.mark.slow
def test_leaderboard_notebook(demo_dir, kernel_dir, monkeypatch):
    cells = run_notebook("leaderboard", demo_dir, kernel_dir, monkeypatch)
    summary = _summary(cells)
    assert summary["models"] == sorted(TRUE_ELO)
    assert summary["top_model"] == "pony"  # the simulated raters prefer pony by a wide margin
    assert 0.0 < summary["left_share"] < 1.0
    assert summary["final_tau"] == pytest.approx(1.0)
    text = _texts(cells)
    assert "simulated raters" in text
    assert "fitted left-side advantage" in text
    assert all(model in text for model in TRUE_ELO)
    assert _pngs(cells) >= 4  # ratings, win rates, battle counts, settling


@pytest.mark.slow
def test_agreement_notebook(demo_dir, kernel_dir, monkeypatch):
    cells = run_notebook("agreement", demo_dir, kernel_dir, monkeypatch)
    summary = _summary(cells)
    assert "temporal.flicker" in summary["metrics"]
    assert 0.0 <= summary["best_accuracy"] <= 1.0
    low, high = summary["best_accuracy_ci"]
    assert low <= summary["best_accuracy"] <= high
    assert summary["pairs"] > 50
    assert "pairwise accuracy [95% CI]" in _texts(cells)
    assert _pngs(cells) == 1


@pytest.mark.slow
def test_raters_notebook(demo_dir, kernel_dir, monkeypatch):
    cells = run_notebook("raters", demo_dir, kernel_dir, monkeypatch)
    summary = _summary(cells)
    assert summary["raters"] == [f"simulated-rater-{r:02d}" for r in range(8)]
    assert -1.0 <= summary["alpha"] <= 1.0 and 0.0 <= summary["raw_agreement"] <= 1.0
    assert 0.0 < summary["gold_accuracy"] < 1.0
    # Raters 3 and 7 vote at random: the gold checks catch them, and only them.
    assert summary["flagged"] == ["simulated-rater-03", "simulated-rater-07"]
    assert summary["median_time_to_vote_s"] > 0
    assert _pngs(cells) == 1


@pytest.mark.slow
@pytest.mark.browser
def test_leaderboard_tab_shows_agreement_in_a_browser(demo_dir, tmp_path):
    import shutil

    from arena_helpers import ServerThread
    from browser import browser_page

    from arena.store import Store

    data = tmp_path / "served"
    shutil.copytree(demo_dir, data)  # the server writes battles; the notebooks' copy stays as is
    store = Store.open(data)
    with ServerThread(store) as server, browser_page() as page:
        page.goto(server.url, wait_until="networkidle")
        page.get_by_role("tab", name="Leaderboard").click()
        note = page.locator("#pd-agreement-note")
        note.get_by_text("Metric-human agreement").wait_for(timeout=60_000)
        table = page.locator("#pd-agreement")
        table.get_by_text("temporal.flicker").wait_for(timeout=30_000)
        text = table.inner_text()
        assert "pairwise accuracy" in text and "Spearman" in text
        assert "78%" in note.inner_text()
        shot = os.environ.get("PADDOCK_SCREENSHOT")
        if shot:
            page.screenshot(path=shot, full_page=True)
    store.close()
