"""The Leaderboard tab's style-controlled board and robustness sentence, cached by their inputs.

Both are refits of the pool's votes, so they are computed when the tab is refreshed and kept
while the votes (and, for style control, the clips' features) stay the same: a refresh with no
new vote costs two small queries and a hash.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arena.store import OVERALL, Store, VoteFilter

#: Below this many votes in a pool the tab says so instead of fitting covariates or searching.
MIN_VOTES = 100
_CACHE_SIZE = 32


@dataclass(frozen=True)
class StyleView:
    """What the tab shows under the board.

    Attributes:
        robustness: one sentence on how many votes the top of the board rests on ("" if none).
        summary: markdown: features controlled for, those skipped and why, votes left out;
            or one line saying why there is no controlled board.
        table: model, raw rating, raw rank, controlled rating and interval, controlled rank,
            change (▲ moves up when controlled, ▼ down); None when there is none.
    """

    robustness: str
    summary: str
    table: pd.DataFrame | None


class _Cache:
    """A small least-recently-used map; a key is a digest of everything the result depends on."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, object] = OrderedDict()

    def get(self, key: str, compute):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = compute()
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


_cache = _Cache(_CACHE_SIZE)


def _digest(*frames: pd.DataFrame | str) -> str:
    h = hashlib.sha256()
    for frame in frames:
        if isinstance(frame, str):
            h.update(frame.encode())
        else:
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
            h.update(",".join(map(str, frame.columns)).encode())
    return h.hexdigest()


def change_label(change: int) -> str:
    """Rank change as shown: "▲2" (moves up two when controlled), "▼1", "=" (no change)."""
    if change > 0:
        return f"▲{change}"
    if change < 0:
        return f"▼{-change}"
    return "="


def robustness_sentence(board) -> str:
    """The sentence "A leads B unless N of M votes are removed" for the top two models."""
    from leaderboards.robustness import fragility

    order = list(board.table["model"])
    if len(order) < 2:
        return ""
    f = fragility(board.counts, order[0], order[1])
    flipped = f"{f.flipped:,}" if f.flipped_exact else f"≥ {f.flipped:,}"
    return f"**Robustness.** {f.sentence()} (or {flipped} flipped)."


def _style_parts(battles: pd.DataFrame) -> tuple[str, pd.DataFrame | None]:
    from leaderboards.board import BoardOptions, VotePool, build_board
    from leaderboards.columns import added_display
    from leaderboards.errors import RatingInputError
    from leaderboards.leaderboard import RatingSettings
    from leaderboards.style_control import FEATURES, choose_features

    used, skipped = choose_features(battles, list(FEATURES))
    by_reason: dict[str, list[str]] = {}
    for name, reason in skipped.items():
        by_reason.setdefault(reason, []).append(name)
    why = "; ".join(f"{', '.join(names)} ({reason})" for reason, names in by_reason.items())
    if not used:
        return f"No style control: no feature varies across these clips ({why}).", None
    options = BoardOptions(RatingSettings(intervals="sandwich", n_bootstrap=200), control=used)
    try:
        built = build_board(VotePool(battles=battles), options)
    except RatingInputError as exc:
        return f"No style control on these votes: {exc}", None
    board = built.style
    coef = board.coefficients.set_index("feature")["elo_per_sd"]
    lines = [
        f"**Style-controlled board** on {board.n_votes:,} of {len(battles):,} votes: ratings "
        "with the effect of each clip's format taken out (Bradley-Terry with the left-minus-right "
        "feature differences as covariates, 95% sandwich intervals). Controlled for "
        + ", ".join(f"{name} ({coef[name]:+.0f} Elo per SD)" for name in used)
        + "."
    ]
    if skipped:
        lines.append(f"Not controlled for: {why}.")
    lacking = {name: n for name, n in board.left_out.items() if n}
    if lacking:
        lines.append(
            "Votes left out because a clip lacked a value: "
            + ", ".join(f"{name} {n:,}" for name, n in lacking.items())
            + "."
        )
    t = built.table
    table = pd.DataFrame(
        {
            "model": t["model"],
            "raw rating": t["raw_rating"].round(1),
            "raw rank": t["raw_rank"],
            "controlled": t["rating"].round(1),
            "controlled 95% CI": [f"{lo:.1f} – {hi:.1f}" for lo, hi in zip(t["ci_low"],
                                                                          t["ci_high"],
                                                                          strict=True)],
            "controlled rank": t["rank"],
            "change": [change_label(int(c)) for c in t["rank_change"]],
        }
    )  # fmt: skip
    rows = t.to_dict(orient="records")
    for column in added_display():
        table[column.header] = [column.cell(row) for row in rows]
    return " ".join(lines), table


def style_view(store: Store, board, pool: str, filters: VoteFilter) -> StyleView:
    """The robustness sentence and the style-controlled board of one fitted pool."""
    from arena.io.board_votes import read_pool
    from leaderboards.board import BoardOptions
    from leaderboards.style_control import FEATURES

    n = int(board.n_votes)
    if n < MIN_VOTES:
        line = (
            f"Style control and robustness need at least {MIN_VOTES} votes in pool *{pool}*; "
            f"it has {n}."
        )
        return StyleView("", line, None)
    counts_key = _counts_key(board.counts)
    robustness = _cache.get("robust:" + counts_key, lambda: robustness_sentence(board))
    options = BoardOptions(control=FEATURES)
    battles = read_pool(options, store=store, filters=filters, asked=(OVERALL,)).battles
    keep = ["model_a", "model_b", "winner"] + [f"{f}_{s}" for f in FEATURES for s in "ab"]
    battles = battles[[c for c in keep if c in battles.columns]]
    summary, table = _cache.get("style:" + _digest(pool, battles), lambda: _style_parts(battles))
    shown = board.table["model"]
    if table is not None and not table["model"].isin(shown).all():  # the raw board hides some
        table = table[table["model"].isin(shown)].reset_index(drop=True)
    return StyleView(robustness, summary, table)


def _counts_key(counts) -> str:
    """A digest of the fitted count table (models, pairs, counts per outcome)."""
    h = hashlib.sha256(",".join(counts.models).encode())
    for array in (counts.left, counts.right, counts.counts):
        h.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
    return h.hexdigest()
