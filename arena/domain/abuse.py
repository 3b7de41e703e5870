"""Abuse rules for the rater's actions: rate limits per rater and per IP, and the too-fast rule."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime

from arena.errors import RateLimited, VoteRefused
from arena.store import VoteTiming
from generators.errors import InputError

TOO_FAST_FLAG = "too fast"
TOO_FAST_ACTIONS = ("flag", "refuse")
# Idle buckets are dropped once this many exist, so a flood of new rater ids cannot grow memory.
MAX_BUCKETS = 50_000
RECENT_REFUSALS = 500
# Follow-up questions (aspect votes) one battle may carry after its vote.
MAX_FOLLOWUPS = 4


@dataclass(frozen=True)
class AbuseConfig:
    """How the arena guards its rater actions. A limit of 0 turns that limit off.

    Attributes:
        window_s: the window every limit is counted over (a token bucket refilled evenly).
        votes_per_rater: votes one rater may cast per window (a person watching two clips side
            by side cannot honestly vote more than a few times in 10 s).
        votes_per_ip: votes per window from one client address (several people may share one).
        battles_per_rater: battle requests per window from one rater.
        battles_per_ip: battle requests per window from one client address.
        min_watch_fraction: a vote sooner after its battle was served than this share of the
            shorter clip's duration is "too fast" (0 turns the rule off).
        too_fast: "flag" stores the vote with a flag (left out of the leaderboard by default),
            "refuse" refuses it and writes nothing.
    """

    window_s: float = 10.0
    votes_per_rater: int = 5
    votes_per_ip: int = 60
    battles_per_rater: int = 10
    battles_per_ip: int = 120
    min_watch_fraction: float = 0.5
    too_fast: str = "flag"

    def __post_init__(self) -> None:
        if not self.window_s > 0:
            raise InputError(f"the rate-limit window must be positive, not {self.window_s}")
        for f in fields(self):
            if f.name.endswith(("_rater", "_ip")):
                value = getattr(self, f.name)
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise InputError(f"{f.name} must be a whole number >= 0, not {value!r}")
        if not 0 <= self.min_watch_fraction <= 1:
            raise InputError(
                f"min_watch_fraction must be between 0 and 1, not {self.min_watch_fraction}"
            )
        if self.too_fast not in TOO_FAST_ACTIONS:
            raise InputError(
                f"too_fast must be one of {', '.join(TOO_FAST_ACTIONS)}, not {self.too_fast!r}"
            )

    @classmethod
    def unlimited(cls, **changes) -> AbuseConfig:
        """No rate limits (e.g. a load test from one address); the too-fast rule still flags."""
        limits = {f.name: 0 for f in fields(cls) if f.name.endswith(("_rater", "_ip"))}
        return cls(**{**limits, **changes})

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Refusal:
    """One refused rater action, kept in memory for the admin view (nothing is written)."""

    at: datetime
    action: str  # "vote" or "battle"
    rater_id: str
    client_ip: str | None
    reason: str


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class AbuseGuard:
    """The running server's abuse rules: token buckets in memory, one lock, O(1) per request.

    One guard serves every route of one server (the page, gr.api endpoints, JSON routes), so its
    limits count a rater's requests wherever they come from. Its config may be replaced while the
    server runs (the admin view does that).
    """

    def __init__(self, config: AbuseConfig | None = None, clock=time.monotonic) -> None:
        self._config = config or AbuseConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._refused: Counter[tuple[str, str]] = Counter()  # (rater, action) -> count
        self._recent: deque[Refusal] = deque(maxlen=RECENT_REFUSALS)

    @property
    def config(self) -> AbuseConfig:
        return self._config

    def update(self, config: AbuseConfig) -> None:
        """Apply new settings now; buckets are kept, with their new capacity."""
        with self._lock:
            self._config = config

    # ---------------------------------------------------------------- rate limits
    def check_battle(self, rater_id: str, client_ip: str | None) -> None:
        """Count a battle request; RateLimited (nothing counted) when a limit is reached."""
        c = self._config
        self._take(
            "battle",
            rater_id,
            client_ip,
            (
                ("battle-rater", rater_id, c.battles_per_rater),
                ("battle-ip", client_ip, c.battles_per_ip),
            ),
        )

    def check_vote(self, rater_id: str, client_ip: str | None) -> None:
        """Count a vote; RateLimited (nothing counted) when a limit is reached."""
        c = self._config
        self._take(
            "vote",
            rater_id,
            client_ip,
            (("vote-rater", rater_id, c.votes_per_rater), ("vote-ip", client_ip, c.votes_per_ip)),
        )

    def check_aspect_vote(self, rater_id: str, client_ip: str | None) -> None:
        """Count a follow-up answer: buckets of their own, each as deep as the vote limits times
        the follow-ups one vote may carry, so an honest rater can answer them all and a flood of
        answers is stopped like a flood of votes (RateLimited, nothing counted)."""
        c = self._config
        self._take(
            "vote",
            rater_id,
            client_ip,
            (
                ("aspect-rater", rater_id, c.votes_per_rater * MAX_FOLLOWUPS),
                ("aspect-ip", client_ip, c.votes_per_ip * MAX_FOLLOWUPS),
            ),
        )

    def _take(
        self,
        action: str,
        rater_id: str,
        client_ip: str | None,
        limits: Sequence[tuple[str, str | None, int]],
    ) -> None:
        window = self._config.window_s
        now = self._clock()
        with self._lock:
            buckets = []
            for kind, key, limit in limits:
                if not limit or key is None:
                    continue
                bucket = self._buckets.get((kind, key))
                if bucket is None:
                    if len(self._buckets) >= MAX_BUCKETS:
                        self._drop_idle(now, window)
                    bucket = self._buckets[(kind, key)] = _Bucket(float(limit), now)
                rate = limit / window
                bucket.tokens = min(float(limit), bucket.tokens + (now - bucket.stamp) * rate)
                bucket.stamp = now
                if bucket.tokens < 1.0:
                    wait = (1.0 - bucket.tokens) / rate
                    who = "this rater" if kind.endswith("rater") else "this address"
                    what = "votes" if action == "vote" else "battle requests"
                    message = f"too many {what} from {who}; wait {math.ceil(wait)} s"
                    self._note(action, rater_id, client_ip, message)
                    raise RateLimited(message)
                buckets.append(bucket)
            # Only when every limit allows it is a token taken from each.
            for bucket in buckets:
                bucket.tokens -= 1.0

    def _drop_idle(self, now: float, window: float) -> None:
        idle = [k for k, b in self._buckets.items() if now - b.stamp > window]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:  # all busy: forget the oldest half
            for key, _ in sorted(self._buckets.items(), key=lambda kv: kv[1].stamp)[
                : MAX_BUCKETS // 2
            ]:
                del self._buckets[key]

    # ---------------------------------------------------------------- the too-fast rule
    def judge_vote(self, timing: VoteTiming) -> list[str]:
        """Flags for a vote by its timing (from the database, not the page's claim).

        A vote cast sooner after the battle was served than `min_watch_fraction` of the shorter
        clip is flagged "too fast", or refused when the config says so.
        """
        c = self._config
        durations = [d for d in (timing.left_duration, timing.right_duration) if d]
        if not c.min_watch_fraction or not durations:
            return []
        needed = c.min_watch_fraction * min(durations)
        elapsed = (timing.voted_at - timing.served_at).total_seconds()
        if elapsed >= needed:
            return []
        if c.too_fast == "refuse":
            raise VoteRefused(
                f"vote cast {elapsed:.1f} s after the clips were served; watch them first "
                f"(at least {needed:.1f} s)"
            )
        return [TOO_FAST_FLAG]

    # ---------------------------------------------------------------- what the admin sees
    def note_refusal(self, action: str, rater_id: str, client_ip: str | None, reason: str) -> None:
        """Remember a refused action (a bad token, a ban, a too-fast refusal) for the admin."""
        with self._lock:
            self._note(action, rater_id, client_ip, reason)

    def _note(self, action: str, rater_id: str, client_ip: str | None, reason: str) -> None:
        self._refused[(rater_id, action)] += 1
        self._recent.append(
            Refusal(datetime.now(UTC).replace(tzinfo=None), action, rater_id, client_ip, reason)
        )

    def refused_counts(self) -> dict[str, dict[str, int]]:
        """Refused actions per rater since the server started: {rater: {"vote": n, "battle": n}}."""
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for (rater, action), n in self._refused.items():
                out.setdefault(rater, {"vote": 0, "battle": 0})[action] = n
            return out

    def recent_refusals(self, limit: int = 100) -> list[Refusal]:
        """The latest refused actions, newest first."""
        with self._lock:
            return list(reversed(self._recent))[:limit]


def config_with(config: AbuseConfig, **changes) -> AbuseConfig:
    """`config` with some settings changed, validated like a new one."""
    return replace(config, **changes)


__all__ = [
    "TOO_FAST_FLAG",
    "AbuseConfig",
    "AbuseGuard",
    "Refusal",
    "config_with",
]
