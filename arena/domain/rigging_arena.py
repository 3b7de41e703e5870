"""The arena the rigging attack runs in, in memory: every random choice from one seed.

The same rules as a serving arena, without its files and database: the scheduler's pair
distribution (`active_mix` on the scheduler's own fit, refitted every `REFIT_SECONDS` of
simulated time), gold checks with the screening of new raters and the gold-check policy (a
rater under 70% after 8 gold answers leaves the board), the board's Bradley-Terry fit, and,
with the detector on, the targeted-voter test run before every board refit. Rater ids are
numbered in the order raters arrive, so a seed fixes every figure. The attack's rules are in
`arena.domain.rigging`; the run (with the detector wired in) in `arena.jobs.simulation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from arena.domain.gold import GOLD_REFERENCE, GOLD_TWINS, GoldPolicy
from arena.domain.rigging import (
    REFIT_SECONDS,
    RiggingConfig,
    RiggingRun,
    flagged_raters,
)
from arena.domain.sampling import SchedulerConfig, active_mix, fit_counts
from arena.domain.sim_raters import OUTCOMES, WINNER, SimRater, SimRaters, true_ratings
from generators.errors import InputError
from leaderboards import RatingSettings, compute_leaderboard
from leaderboards.errors import RatingInputError

#: detect(votes) -> flagged rows (rater_id, model, direction, ..., q_value); votes has the
#: columns rater_id, left_model, right_model, outcome (left / right / tie / both_bad).
Detector = Callable[[pd.DataFrame], pd.DataFrame]
_FIT = RatingSettings(n_bootstrap=0)


@dataclass
class _Log:
    """Every vote cast, as parallel integer columns (grown in place)."""

    rater: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    right: list[int] = field(default_factory=list)
    outcome: list[int] = field(default_factory=list)
    gold: list[bool] = field(default_factory=list)

    def add(self, rater: int, left: int, right: int, outcome: int, gold: bool) -> None:
        self.rater.append(rater)
        self.left.append(left)
        self.right.append(right)
        self.outcome.append(outcome)
        self.gold.append(gold)


class RiggingArena:
    """Models, raters and their votes; `serve` plays one battle, `board` fits the board."""

    def __init__(self, cfg: RiggingConfig, seed: int, detect: Detector | None = None) -> None:
        self.cfg = cfg
        self.rng = np.random.default_rng(seed)
        order = self.rng.permutation(cfg.k)  # model names carry no hint of their strength
        self.names = [f"model{order[i]:02d}" for i in range(cfg.k)]
        ratings = 1000.0 + cfg.spread * (true_ratings(cfg.k) - 1000.0)
        self.truth = dict(zip(self.names, ratings, strict=True))
        self.labels = [*self.names, GOLD_REFERENCE, *GOLD_TWINS]
        self.sched = SchedulerConfig(gold_only_models=(GOLD_REFERENCE, *GOLD_TWINS))
        n = len(self.labels)
        self.pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
        self.normal = (self.pairs < cfg.k).all(axis=1)
        ref = cfg.k
        self.gold_pairs = np.flatnonzero((self.pairs[:, 0] == ref) & (self.pairs[:, 1] > ref))
        self.mix = np.where(self.normal, 1.0, 0.0) / self.normal.sum()
        self.honest = SimRaters(cfg.raters, self.rng, self.truth)
        self.policy = GoldPolicy()
        self.detect = detect
        self.log = _Log()
        self.ids: list[str] = []  # rater index -> id
        self.index: dict[str, int] = {}
        self.gold_seen: list[int] = []
        self.gold_right: list[int] = []
        self.out: set[int] = set()  # raters whose votes leave the board (gold or detector)
        self.detected: set[int] = set()  # raters the detector flagged
        self.detector_runs = 0
        # The surge hold (with the detector): rater -> (log length when held, model).
        self.held: dict[int, tuple[int, tuple[str, str]]] = {}
        self.held_spans: dict[int, list[tuple[int, int]]] = {}  # rater -> (from, to) per hold
        self.surging: dict[tuple[str, str], int] = {}  # (model, direction) -> log length fired

    # ------------------------------------------------------------------ raters and battles
    def rater_index(self, rater: SimRater) -> int:
        i = self.index.get(rater.id)
        if i is None:
            i = self.index[rater.id] = len(self.ids)
            self.ids.append(rater.id)
            self.gold_seen.append(0)
            self.gold_right.append(0)
        return i

    def serve(self, rater: SimRater, decide: Callable[[str, str, bool], str]) -> None:
        """One battle for ``rater``: gold check or a pair drawn from the scheduler's mix."""
        rng, sched = self.rng, self.sched
        r = self.rater_index(rater)
        screening = self.gold_seen[r] < sched.screen_gold_answers
        share = sched.screen_gold_share if screening else sched.gold_share
        gold = bool(rng.random() < share)
        if gold:
            k = int(self.gold_pairs[int(rng.integers(len(self.gold_pairs)))])
        else:
            k = int(np.searchsorted(np.cumsum(self.mix), rng.random() * self.mix.sum()))
            k = min(k, len(self.mix) - 1)
        i, j = (int(x) for x in self.pairs[k])
        if rng.random() < 0.5:
            i, j = j, i
        outcome = decide(self.labels[i], self.labels[j], gold)
        code = OUTCOMES.index(outcome)
        if gold:
            ref = self.labels.index(GOLD_REFERENCE)
            right = (code == 0 and i == ref) or (code == 1 and j == ref)
            self.gold_seen[r] += 1
            self.gold_right[r] += int(right)
            if (
                self.gold_seen[r] >= self.policy.min_seen
                and self.gold_right[r] / self.gold_seen[r] < self.policy.min_accuracy
            ):
                self.out.add(r)
        self.log.add(r, i, j, code, gold)

    def honest_vote(self) -> None:
        rater = self.honest.rater()
        self.serve(rater, lambda left, right, gold: self.honest.vote(rater, left, right, gold))
        self.honest.done(rater)

    # ------------------------------------------------------------------ fits
    def _columns(self) -> dict[str, np.ndarray]:
        log = self.log
        return {
            "rater": np.asarray(log.rater, dtype=np.int64),
            "left": np.asarray(log.left, dtype=np.int64),
            "right": np.asarray(log.right, dtype=np.int64),
            "outcome": np.asarray(log.outcome, dtype=np.int64),
        }

    def _counts(self, keep: np.ndarray, cols: dict[str, np.ndarray]) -> pd.DataFrame:
        """The vote-count table (model_a, model_b, winner, count) of the rows in ``keep``."""
        n = len(self.labels)
        key = (cols["left"][keep] * n + cols["right"][keep]) * 4 + cols["outcome"][keep]
        count = np.bincount(key, minlength=n * n * 4)
        uniq = np.flatnonzero(count)
        winners = [WINNER[o] for o in OUTCOMES]
        return pd.DataFrame(
            {
                "model_a": [self.labels[int(u // 4 // n)] for u in uniq],
                "model_b": [self.labels[int(u // 4 % n)] for u in uniq],
                "winner": [winners[int(u % 4)] for u in uniq],
                "count": count[uniq],
            }
        )

    def _kept(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        out = np.zeros(len(self.ids) + 1, dtype=bool)
        out[list(self.out | set(self.held))] = True
        return ~out[cols["rater"]]

    def refit_scheduler(self) -> None:
        """The scheduler's pair distribution from the votes on the board (gold checks included,
        as the store's vote counts include them)."""
        cols = self._columns()
        counts = self._counts(self._kept(cols), cols)
        theta, cov, votes = fit_counts(self.labels, counts, self.sched.ridge)
        self.mix = active_mix(self.sched, self.pairs, self.normal, theta, cov, votes)

    def board(self) -> pd.Series | None:
        """Fitted ratings of the rated models, best first (None while they are not connected)."""
        cols = self._columns()
        keep = self._kept(cols) & (cols["left"] < self.cfg.k) & (cols["right"] < self.cfg.k)
        try:
            fitted = compute_leaderboard(self._counts(keep, cols), _FIT)
        except RatingInputError:
            return None
        return fitted.ratings()

    def run_detector(self) -> set[int]:
        """Run the detector as the arena does before it builds a board: on the normal battles
        of every rater (flagged ones stay in, as `Store.targeted_votes` keeps them, unless
        ``cfg.detector_sees_flagged`` is off), against the board it fits to them. The raters it
        flags leave the board. Returns the newly flagged."""
        if self.detect is None:
            return set()
        cols = self._columns()
        keep = ~np.asarray(self.log.gold, dtype=bool)
        if not self.cfg.detector_sees_flagged:
            keep &= self._kept(cols)
        labels = np.array(self.labels, dtype=object)
        votes = pd.DataFrame(
            {
                "rater_id": np.array(self.ids, dtype=object)[cols["rater"][keep]],
                "left_model": labels[cols["left"][keep]],
                "right_model": labels[cols["right"][keep]],
                "outcome": np.array(OUTCOMES, dtype=object)[cols["outcome"][keep]],
            }
        )
        self.detector_runs += 1
        flags = self.detect(votes)
        flagged = {self.index[r] for r in flagged_raters(flags, self.cfg.alpha)}
        new = flagged - self.out
        self.detected |= new
        self.out |= new
        if self.cfg.surge_hold and "board" in flags.attrs:
            self._surge_hold(votes, flags.attrs)
        return new

    def _surge_hold(self, votes: pd.DataFrame, attrs: dict) -> None:
        """Release held raters now established and not flagged; hold the young raters who push
        a surging model (`leaderboards.surge`)."""
        from leaderboards.leaderboard import ELO_PER_NAT
        from leaderboards.surge import released, surge_holds
        from leaderboards.targeted import fitted_ratings

        now = len(self.log.rater)
        logged = np.asarray(self.log.rater, dtype=np.int64)
        per_rater = np.bincount(logged, minlength=len(self.ids))
        recent = set(np.unique(logged[-self.cfg.young_recent :]).tolist())
        ready = {
            self.ids[r]: why
            for r, (_, why) in self.held.items()
            if per_rater[r] >= self.cfg.young_votes and r not in self.out
        }
        passed: set[str] = set()
        if ready:
            gone = {self.ids[r] for r in self.out | set(self.held)}
            clean = votes[~votes["rater_id"].isin(gone)]
            elo = fitted_ratings(clean)
            if set(elo) >= set(attrs["board"]):
                board = {m: (v - 1000.0) / ELO_PER_NAT for m, v in elo.items()}
                passed = released(votes, ready, board)
        for r in list(self.held):
            if r in self.out or (per_rater[r] >= self.cfg.young_votes and self.ids[r] in passed):
                start, _ = self.held.pop(r)
                self.held_spans.setdefault(r, []).append((start, now))
        young = {
            self.ids[r]: 1.0 - per_rater[r] / self.cfg.young_votes
            for r in range(len(self.ids))
            if per_rater[r] < self.cfg.young_votes
            and r not in self.out
            and (r in recent or r in self.held)
        }
        surges, hold = surge_holds(
            votes, young, attrs["board"], attrs.get("spread_elo"), alpha=self.cfg.alpha,
            open_surges=[key for key, at in self.surging.items()
                         if now - at < self.cfg.young_recent],
        )  # fmt: skip
        for model, direction in zip(surges["model"], surges["direction"], strict=True):
            self.surging[(str(model), str(direction))] = now
        for rid, why in hold.items():
            r = self.index[rid]
            if r not in self.held:
                self.held[r] = (now, why)

    def held_counts(self, attacker_ids: set[str]) -> tuple[int, int, int, tuple[int, ...]]:
        """Honest votes cast, those cast by a rater before their last hold was lifted (still
        held at the end: all), honest raters ever held and, per held rater, arena votes held."""
        now = len(self.log.rater)
        spans = {r: list(s) for r, s in self.held_spans.items()}
        for r, (start, _) in self.held.items():
            spans.setdefault(r, []).append((start, now))
        rater = np.asarray(self.log.rater, dtype=np.int64)
        position = np.arange(len(rater))
        honest = np.array([rid not in attacker_ids for rid in self.ids] + [False])
        total = int(honest[rater].sum()) if len(rater) else 0
        held_votes = 0
        held_for = []
        for r, s in spans.items():
            if not honest[r]:
                continue
            last = max(end for _, end in s)
            held_votes += int(((rater == r) & (position < last)).sum())
            held_for.append(sum(end - start for start, end in s))
        return total, held_votes, len(held_for), tuple(held_for)

    def checked_board(self) -> pd.Series | None:
        """The board as the arena publishes it: the detector run first, then the board fitted
        without the raters flagged by it or by the gold checks."""
        self.run_detector()
        return self.board()

    def honest_counts(self, attacker_ids: set[str]) -> tuple[int, int, int]:
        """Honest raters who voted, those with enough normal votes for the detector to test
        them (``cfg.min_votes``), and those the detector flagged."""
        cols = self._columns()
        normal = ~np.asarray(self.log.gold, dtype=bool)
        per_rater = np.bincount(cols["rater"][normal], minlength=len(self.ids))
        honest = [i for i, rid in enumerate(self.ids) if rid not in attacker_ids]
        tested = sum(per_rater[i] >= self.cfg.min_votes for i in honest)
        return len(honest), int(tested), sum(i in self.detected for i in honest)


def run_rigging(
    cfg: RiggingConfig,
    skill: float,
    seed: int,
    detect: Detector | None = None,
    on_votes: Callable[[int], None] | None = None,
) -> RiggingRun:
    """One attack by an attacker who recognises a clip's model with probability ``skill``
    (see `arena.domain.rigging` for the rules); ``detect`` set: the detector runs before every
    board refit and flagged accounts are replaced by new ones."""
    if not 0.0 <= skill <= 1.0:
        raise InputError(f"recognition must be between 0 and 1, not {skill}")
    arena = RiggingArena(cfg, seed, detect)
    _honest_phase(arena, cfg.honest_votes)
    before = arena.checked_board()
    if before is None or len(before) < cfg.k:
        why = " left by the detector" if arena.detected else ""
        raise InputError(f"{cfg.honest_votes} honest votes{why} do not rank every model; give more")
    target, above = before.index[cfg.target_rank - 1], before.index[cfg.target_rank - 2]
    gap = float(before[above] - before[target])
    rng, labels = arena.rng, arena.labels
    # The attacker's accounts: attentive raters (they pass gold checks) with an agenda.
    attentive = replace(cfg.raters, careless_share=0.0, taste_sd=0.0, consistency_sd=0.0)
    attacker = SimRaters(attentive, rng, arena.truth)
    made = 0

    def new_account() -> SimRater:
        nonlocal made
        made += 1
        return SimRater(f"attacker-{made - 1:05d}", False, 10**9)

    accounts = [new_account() for _ in range(cfg.accounts)]
    attacker_ids = {a.id for a in accounts}

    def decide(rater: SimRater, left: str, right: str, gold: bool) -> str:
        seen_l, seen_r = (_label(m, labels, skill, rng) for m in (left, right))
        if (seen_l == target) != (seen_r == target):
            return "left" if seen_l == target else "right"
        return attacker.vote(rater, left, right, gold)

    per_window = cfg.attack_per_window()
    honest_per_window = cfg.honest_per_hour * cfg.limits.window_s / 3600.0
    cast = honest = windows = turn = refreshed = 0
    carry = 0.0
    next_check = cfg.check_every
    needed = None
    while cast < cfg.budget:
        windows += 1
        carry += honest_per_window
        n_honest, carry = int(carry), carry - int(carry)
        n_attack = min(per_window, cfg.budget - cast)
        who = np.array([0] * n_honest + [1] * n_attack)
        rng.shuffle(who)
        for kind in who:
            if kind == 0:
                arena.honest_vote()
                continue
            slot = turn % len(accounts)  # the accounts take turns
            turn += 1
            rater = accounts[slot]
            arena.serve(rater, lambda left, right, gold, r=rater: decide(r, left, right, gold))
        cast += n_attack
        honest += n_honest
        if cast < next_check and cast < cfg.budget:
            continue
        next_check = cast + max(cfg.check_every, int(cfg.check_growth * cast))
        if on_votes is not None:
            on_votes(cast)
        if (windows - refreshed) * cfg.limits.window_s >= REFIT_SECONDS:
            # The pair probabilities are refitted as often as the arena does (simulated time),
            # at most once per board refit.
            arena.refit_scheduler()
            refreshed = windows
        now = arena.checked_board()
        # Burnt accounts (flagged by the detector or the gold checks) are replaced.
        for slot, account in enumerate(accounts):
            if arena.index.get(account.id) in arena.out:
                accounts[slot] = new_account()
                attacker_ids.add(accounts[slot].id)
        if now is not None and now[target] > now[above]:
            needed = cast
            break
    hours = windows * cfg.limits.window_s / 3600.0
    n_honest_raters, tested, honest_flagged = arena.honest_counts(attacker_ids)
    burnt = sum(arena.index.get(a) in arena.out for a in attacker_ids)
    votes_total, votes_held, n_held, held_for = arena.held_counts(attacker_ids)
    return RiggingRun(
        needed=needed,
        attacker_votes=cast,
        honest_during=honest,
        hours=hours,
        target=target,
        above=above,
        gap_elo=gap,
        flagged_accounts=burnt,
        accounts_used=made,
        honest_raters=n_honest_raters,
        honest_tested=tested,
        honest_flagged=honest_flagged,
        detector_runs=arena.detector_runs,
        honest_votes_total=votes_total,
        honest_votes_held=votes_held,
        honest_held=n_held,
        honest_held_for=held_for,
    )


def _honest_phase(arena: RiggingArena, votes: int) -> None:
    """Honest votes in batches, refitting the scheduler between them."""
    done = 0
    while done < votes:
        size = min(max(100, int(0.05 * done)), votes - done)
        for _ in range(size):
            arena.honest_vote()
        arena.refit_scheduler()
        done += size


def _label(model: str, labels: list[str], skill: float, rng: np.random.Generator) -> str:
    """The model the attacker takes a clip for: right with ``skill``, else a random guess."""
    if rng.random() < skill:
        return model
    return labels[int(rng.integers(len(labels)))]
