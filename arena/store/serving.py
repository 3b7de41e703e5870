"""Store queries for serving renditions: which clips have one for the current profile, and each
battle's common cut (frames and padded byte length)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: `import arena.store` stays free of pandas
    import pandas as pd


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Rendition:
    clip_id: str
    profile: str
    path: str | None
    frames: int | None
    bytes: int | None
    status: str  # "ready" or "failed"
    error: str | None


@dataclass(frozen=True)
class BattleCut:
    """Both clips of a battle as served: cut to `frames` and padded to `bytes` each."""

    battle_id: str
    profile: str
    frames: int
    bytes: int
    left_path: str
    right_path: str


@dataclass(frozen=True)
class MediaSide:
    """Which battle and side an opaque media id names."""

    battle_id: str
    side: str  # "left" or "right"
    left_clip: str
    right_clip: str


class RenditionQueries:
    """Mixin of Store: renditions per (clip, profile digest) and battle cuts."""

    #: The current serving profile's digest; None serves originals (stores without serving on).
    serving_profile: str | None = None

    def set_serving_profile(self, digest: str | None) -> None:
        """Serve only clips with a ready rendition for this profile from now on."""
        self.serving_profile = digest
        self.epoch += 1  # the scheduler rebuilds its pools

    def clips_needing_rendition(
        self, digest: str, first_prompts: set[str] | None = None
    ) -> list[tuple[str, str, str]]:
        """(clip id, clip path, prompt id) of clips without a rendition row for this profile,
        clips of `first_prompts` first, then oldest first."""
        rows = self._query(
            """SELECT c.id, c.path, c.prompt_id FROM clips c
               LEFT JOIN renditions r ON r.clip_id = c.id AND r.profile = ?
               WHERE r.clip_id IS NULL ORDER BY c.created_at, c.id""",
            [digest],
        )
        first = first_prompts or set()
        return sorted(rows, key=lambda row: row[2] not in first)

    def record_rendition(
        self,
        clip_id: str,
        digest: str,
        path: str | None,
        frames: int | None,
        size: int | None,
        error: str | None = None,
    ) -> None:
        """A finished rendition (error None) or the one-line reason one cannot be made."""
        status = "failed" if error else "ready"
        with self.transaction() as con:
            con.execute(
                "INSERT OR REPLACE INTO renditions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [clip_id, digest, path, frames, size, status, error, _now()],
            )
        if status == "ready" and digest == self.serving_profile:
            self.epoch += 1

    def rendition(self, clip_id: str, digest: str) -> Rendition | None:
        rows = self._query(
            "SELECT clip_id, profile, path, frames, bytes, status, error FROM renditions "
            "WHERE clip_id = ? AND profile = ?",
            [clip_id, digest],
        )
        return Rendition(*rows[0]) if rows else None

    def renditions_frame(self, digest: str | None = None) -> pd.DataFrame:
        sql = "SELECT * FROM renditions"
        params: list[Any] = []
        if digest:
            sql += " WHERE profile = ?"
            params.append(digest)
        return self._frame(sql + " ORDER BY created_at", params)

    def servable_candidates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The scheduler's candidate clips less those without a ready rendition for the current
        profile (all of them when serving is off)."""
        digest = self.serving_profile
        if digest is None or frame.empty:
            return frame
        ready = {
            row[0]
            for row in self._query(
                "SELECT clip_id FROM renditions WHERE profile = ? AND status = 'ready'", [digest]
            )
        }
        return frame[frame["clip_id"].isin(ready)]

    def pool_renditions(self, prompt_id: str, digest: str) -> list[Rendition]:
        """Ready renditions of a prompt's clips by active models: the pool a battle is cut and
        padded against (every battle of a prompt serves its clips at one length and size)."""
        rows = self._query(
            """SELECT r.clip_id, r.profile, r.path, r.frames, r.bytes, r.status, r.error
               FROM renditions r JOIN clips c ON c.id = r.clip_id
               JOIN models m ON m.id = c.model_id
               WHERE r.profile = ? AND r.status = 'ready' AND m.active AND c.prompt_id = ?
               ORDER BY r.clip_id""",
            [digest, prompt_id],
        )
        return [Rendition(*row) for row in rows]

    def rendition_prompts(self, digest: str) -> list[str]:
        """Prompts with at least one ready rendition of this profile."""
        rows = self._query(
            """SELECT DISTINCT c.prompt_id FROM renditions r JOIN clips c ON c.id = r.clip_id
               WHERE r.profile = ? AND r.status = 'ready' ORDER BY 1""",
            [digest],
        )
        return [row[0] for row in rows]

    def servable_count(self) -> int:
        """Clips with a ready rendition of the current profile."""
        if self.serving_profile is None:
            return 0
        rows = self._query(
            "SELECT count(*) FROM renditions WHERE profile = ? AND status = 'ready'",
            [self.serving_profile],
        )
        return int(rows[0][0])

    def media_side(self, media_id: str) -> MediaSide | None:
        rows = self._query(
            """SELECT id, CASE WHEN left_media = ? THEN 'left' ELSE 'right' END, left_clip,
                      right_clip
               FROM battles WHERE left_media = ? OR right_media = ?""",
            [media_id, media_id, media_id],
        )
        return MediaSide(*rows[0]) if rows else None

    def battle_cut(self, battle_id: str) -> BattleCut | None:
        rows = self._query(
            "SELECT battle_id, profile, frames, bytes, left_path, right_path FROM battle_cuts "
            "WHERE battle_id = ?",
            [battle_id],
        )
        return BattleCut(*rows[0]) if rows else None

    def served_paths_in_use(self) -> set[str]:
        """Served files (relative to the data dir) of battles not yet expired: a rater's page
        may still ask for any byte range of them, voted or not."""
        rows = self._query(
            """SELECT k.left_path, k.right_path FROM battle_cuts k
               JOIN battles b ON b.id = k.battle_id WHERE b.expires_at > ?""",
            [_now()],
        )
        return {str(Path(p)) for row in rows for p in row}

    def record_battle_cut(self, cut: BattleCut) -> BattleCut:
        """Record a battle's cut once; the first one recorded wins and is returned."""
        with self.transaction() as con:
            con.execute(
                "INSERT OR IGNORE INTO battle_cuts VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    cut.battle_id,
                    cut.profile,
                    cut.frames,
                    cut.bytes,
                    str(Path(cut.left_path)),
                    str(Path(cut.right_path)),
                    _now(),
                ],
            )
        recorded = self.battle_cut(cut.battle_id)
        assert recorded is not None
        return recorded
