"""The rooms' import rules hold on the project, and each way of breaking them is caught.

The checker lives in tests/import_rules.py; here it runs on the real tree, then on copies of the
rooms' Python files with one violation planted in each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from import_rules import ROOMS, cycles, rule_violations

REPO = Path(__file__).resolve().parent.parent


def test_the_project_keeps_every_rule():
    found = rule_violations(REPO)
    assert not found, "\n".join(found)


def test_the_walker_sees_cycles():
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "b.q": set()}
    assert cycles(graph) == [["a.x", "a.y", "a.z"]]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the rooms' Python files, nothing else."""
    for room in ROOMS:
        shutil.copytree(
            REPO / room,
            tmp_path / room,
            ignore=lambda folder, names: [
                n for n in names if not n.endswith(".py") and not Path(folder, n).is_dir()
            ],
        )
    return tmp_path


SINGLE_QUOTED = """
def leak(store):
    return store._con.execute('SELECT * FROM votes').fetchall()
"""
LOWERCASE = """
def names(con):
    return con.sql("select name from models").fetchall()
"""
WITH_QUERY = """
def counts(con):
    return con.execute("WITH v AS (SELECT * FROM votes) SELECT count(*) FROM v").fetchone()
"""
TRIPLE_QUOTED = '''
QUERY = """
SELECT *
FROM votes
"""


def dump(con):
    return con.execute(QUERY).fetchall()
'''
STORE_HELPER = """
def sneak(store):
    return store._query("DELETE FROM votes")
"""
SQL_IN_METRICS = """
import duckdb


def results(path):
    return duckdb.connect(path).execute("SELECT * FROM metric_results").fetchall()
"""
CONNECT_IN_IO = """
def open_raw(path):
    import duckdb

    return duckdb.connect(str(path))
"""
DUCKDB_BY_NAME = """
def open_raw(path):
    import importlib

    return importlib.import_module("duckdb").connect(str(path))
"""
STORE_BY_NAME = """
def store():
    import importlib

    return importlib.import_module("arena.store")
"""
WEB_BY_IMPORT_MODULE = """
from importlib import import_module


def page():
    return import_module("arena.web.app")
"""
REGISTRY_BACK = """
def _builder():
    from generators.registry import build_generator

    return build_generator
"""
TABLE_BACK = """
KINDS = {"up": "arena.jobs.loop"}


def load(kind):
    import importlib

    return importlib.import_module(KINDS[kind])
"""

# (file to plant in, text appended, what the report must say)
PLANTS = {
    "SQL in single quotes": ("arena/web/app.py", SINGLE_QUOTED, "arena.web.app:"),
    "lowercase SQL": ("arena/domain/battles.py", LOWERCASE, "calls .sql()"),
    "a WITH query": ("arena/jobs/loop.py", WITH_QUERY, "arena.jobs.loop:"),
    "a triple-quoted query": ("arena/cli/common.py", TRIPLE_QUOTED, "arena.cli.common:"),
    "the store's query helper": ("arena/web/admin.py", STORE_HELPER, "calls ._query()"),
    "SQL in metrics": ("metrics/planted.py", SQL_IN_METRICS, "metrics.planted imports duckdb"),
    "duckdb.connect in arena/io": (
        "arena/io/planted.py",
        CONNECT_IN_IO,
        "arena.io.planted imports duckdb",
    ),
    "duckdb by name": (
        "arena/domain/planted.py",
        DUCKDB_BY_NAME,
        "arena.domain.planted imports duckdb",
    ),
    "import_module of arena from metrics": (
        "metrics/planted.py",
        STORE_BY_NAME,
        "metrics.planted imports arena.store",
    ),
    "import_module upwards in arena": (
        "arena/domain/planted.py",
        WEB_BY_IMPORT_MODULE,
        "arena.domain.planted imports arena.web.app",
    ),
    "a module table upwards": (
        "arena/store/planted.py",
        TABLE_BACK,
        "arena.store.planted imports arena.jobs.loop",
    ),
    "a kind importing the registry back": (
        "generators/diffusers_gen.py",
        REGISTRY_BACK,
        "import cycle: generators.diffusers_gen <-> generators.registry",
    ),
    "store importing domain": (
        "arena/store/planted.py",
        "from arena.domain import battles\n",
        "arena.store.planted imports arena.domain.battles",
    ),
    "errors importing the store": (
        "arena/errors.py",
        "\nfrom arena.store import db\n",
        "arena.errors imports arena.store.db",
    ),
    "leaderboards importing generators": (
        "leaderboards/planted.py",
        "from generators import errors\n",
        "leaderboards.planted imports generators.errors",
    ),
    "leaderboards importing metrics": (
        "leaderboards/planted.py",
        "import metrics.base\n",
        "leaderboards.planted imports metrics.base",
    ),
    "generators importing leaderboards": (
        "generators/planted.py",
        "def f():\n    from leaderboards import counts\n",
        "generators.planted imports leaderboards.counts",
    ),
    "generators importing metrics": (
        "generators/pony/planted.py",
        "from ...metrics import base\n",
        "generators.pony.planted imports metrics.base",
    ),
    "metrics importing arena": (
        "metrics/planted.py",
        "from arena.errors import PaddockError\n",
        "metrics.planted imports arena.errors",
    ),
    "a cycle inside a room": (
        "leaderboards/counts.py",
        "\ndef _late():\n    import leaderboards.planted\n",
        "leaderboards.counts <-> leaderboards.planted",
    ),
    "a room outside the order": ("arena/serving/__init__.py", '"""x"""\n', "arena/serving, a room"),
}
# the cycle needs its other half
EXTRA = {"a cycle inside a room": ("leaderboards/planted.py", "import leaderboards.counts\n")}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_planted_violation_is_caught(tree: Path, plant: str):
    # the real tree keeps every rule (the first test), so what is found comes from the plant
    for where, text in [PLANTS[plant][:2], *([EXTRA[plant]] if plant in EXTRA else [])]:
        path = tree / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((path.read_text() if path.exists() else "") + text)
    found = rule_violations(tree)
    expected = PLANTS[plant][2]
    assert any(expected in line for line in found), f"{expected!r} not in {found}"
