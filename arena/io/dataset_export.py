"""`paddock export dataset`: the store as publishable Parquet tables with a data card."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from arena.io.battle_files import EXPORT_COLUMNS
from arena.store import Store
from generators.errors import InputError
from leaderboards.provisional import (
    DEFAULT_MAX_VARIANTS,
    DEFAULT_PROVISIONAL_VOTES,
    mark_provisional,
)

TABLES = ("battles", "clips", "prompts", "models", "raters", "metric_results")
CARD = "README.md"
DEFAULT_LICENSE = "CC-BY-4.0"

#: Field descriptions of every table, in column order; the data card is written from these.
FIELDS: dict[str, dict[str, str]] = {
    "battles": {
        "model_a": "model of the clip shown on the left (side A)",
        "model_b": "model of the clip shown on the right (side B)",
        "winner": "`model_a`, `model_b`, `tie` or `tie (bothbad)` (Chatbot Arena labels)",
        "prompt_id": "prompt both clips were made for (see prompts)",
        "prompt": "prompt text",
        "category": "`t2v` (text-to-video) or `i2v` (image-to-video)",
        "clip_a": "clip shown on the left (see clips)",
        "clip_b": "clip shown on the right (see clips)",
        "rater": "pseudonymous rater id (`rater-0001`, ...; not the id the rater voted with)",
        "tstamp": "time of the vote, seconds since 1970-01-01 UTC",
        "sampling_prob": "probability with which the scheduler served this battle "
        "(weight votes by its inverse to undo active sampling)",
        "aspect": "what was judged: `overall` (the battle's vote), or a follow-up answered after "
        "it (`picture`, `sound`, `prompt`, `consistency`; A, B or tie)",
        "time_to_vote_s": "seconds from showing the battle to the vote, as the page measured it",
        "source": "`arena` (voted on this server) or how imported votes came in",
        "battle_kind": "`normal`, `gold` (a gold check: pony against a degraded twin) or "
        "`imported`",
        "rater_excluded": "true when the rater is flagged (e.g. failed gold checks) or banned; "
        "the arena's leaderboard leaves these votes out",
    },
    "clips": {
        "clip_id": "opaque clip id (random or a content hash, never derived from the model)",
        "model": "model that made the clip",
        "prompt_id": "prompt the clip was made for",
        "seed": "generation seed",
        "file": "clip file inside this folder (`clips/<clip_id>.mp4`) when exported with "
        "`--with-clips`, else empty",
        "sha256": "SHA-256 of the clip file",
        "duration": "seconds",
        "fps": "frames per second",
        "width": "pixels",
        "height": "pixels",
        "has_audio": "whether the clip has a sound track",
        "generation_s": "seconds the model took to make the clip",
        "created_at": "when the clip was added (UTC)",
        "queue_s": "seconds the provider kept the request queued, where it said (else null)",
        "price_usd": "price of the clip in US dollars (null: not known; never 0 for unknown)",
        "price_source": "where the price came from: `reported` (the provider's answer), "
        "`table:<date>` (the preset's price table), `config` (paddock.toml), `compute` (local "
        "compute time at a configured hourly price), `local` (local, time only), `unknown`",
    },
    "prompts": {
        "prompt_id": "prompt id",
        "text": "prompt text",
        "category": "`t2v` or `i2v`",
        "image": "input image of an image-to-video prompt (a reference such as "
        "`skimage:astronaut`, or a file name)",
        "audio": "whether sound is expected",
        "suite": "prompt suite",
        "tags": "tags",
        "seed": "seed every model used for this prompt",
    },
    "models": {
        "model": "model name",
        "display_name": "name shown after a vote",
        "kind": "`builtin`, `baseline`, `diffusers`, `http`, `imported` or `checkpoint`",
        "generator": "generator spec (e.g. `builtin:pony`)",
        "parent": "parent model of a checkpoint",
        "active": "whether the arena still serves it",
        "created_at": "when it was registered (UTC)",
        "family": "the family its variants share (its parent's for a checkpoint, else its own "
        "name, unless paddock.toml names one)",
        "changed_at": "when it was registered or its generator last replaced (UTC)",
        "votes_since_change": "votes it took part in since `changed_at` (flagged left out)",
        "provisional": "fewer than the arena's provisional_votes since `changed_at`: a rating "
        "fitted from these votes is not settled for it",
    },
    "raters": {
        "rater": "pseudonymous rater id, as in battles",
        "votes": "votes cast",
        "gold_seen": "gold checks answered",
        "gold_correct": "gold checks answered correctly (tie and both-bad count as wrong)",
        "excluded": "flagged or banned (votes left out of the leaderboard)",
    },
    "metric_results": {
        "clip_id": "scored clip",
        "model": "model of the clip",
        "prompt_id": "prompt of the clip",
        "category": "`t2v` or `i2v`",
        "seed": "generation seed",
        "metric": "metric family (e.g. `lipsync`, `temporal`)",
        "version": "metric version (results of other versions are other rows)",
        "key": "value within the family (e.g. `abs_offset_ms`)",
        "value": "the number",
    },
}


@dataclass
class ExportReport:
    """What an export wrote: rows per table and the files."""

    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    clip_files: int = 0


def check_target(out: Path, force: bool) -> None:
    """Refuse a target that is a file, or a non-empty folder without ``force``."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file; give a folder to export the dataset into")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"{out} is not empty; choose an empty folder or pass --force to overwrite")


def dataset_tables(
    store: Store, provisional_votes: int = DEFAULT_PROVISIONAL_VOTES
) -> dict[str, pd.DataFrame]:
    """The tables of the dataset, rater ids replaced by pseudonyms; a model with fewer than
    ``provisional_votes`` votes since its last change is marked provisional."""
    battles = store.battles_frame(aspect=None)  # follow-up answers too, each with its aspect
    kinds = store.vote_battle_kinds()
    raters = store.raters_frame()
    excluded = set(raters.loc[raters["banned"] | (raters["flags"].map(len) > 0), "rater"])
    # Rater ids are the bearer cookies raters vote with: publishing them would let anyone vote
    # as them. Pseudonyms in order of first vote keep "same rater" without the secret.
    order = list(dict.fromkeys(battles["rater"]))
    pseudonym = {r: f"rater-{i:04d}" for i, r in enumerate(order, 1)}
    battles = battles.assign(
        rater_excluded=battles["rater"].isin(excluded), rater=battles["rater"].map(pseudonym)
    )
    battles["battle_kind"] = kinds
    extra = [c for c in battles.columns if c not in EXPORT_COLUMNS]
    battles = battles[list(EXPORT_COLUMNS) + extra]
    raters = raters[raters["rater"].isin(pseudonym)]
    raters = pd.DataFrame(
        {
            "rater": raters["rater"].map(pseudonym),
            "votes": raters["votes"],
            "gold_seen": raters["gold_seen"],
            "gold_correct": raters["gold_correct"],
            "excluded": raters["rater"].isin(excluded),
        }
    ).sort_values("rater", ignore_index=True)
    clips = store.clips_frame().rename(columns={"path": "file"})
    clips["file"] = ""
    return {
        "battles": battles,
        "clips": clips[list(FIELDS["clips"])],
        "prompts": store.prompts_frame(),
        "models": _models(store, provisional_votes),
        "raters": raters,
        "metric_results": _metric_results(store),
    }


def _models(store: Store, provisional_votes: int) -> pd.DataFrame:
    """Every model with its family, its last change and whether its rating is provisional."""
    from arena.domain.families import model_families

    models = store.models()
    families = model_families(models)
    changed = {m.name: m.changed_at for m in models}
    frame = store.models_frame()
    frame = frame.assign(
        family=frame["model"].map(families), changed_at=frame["model"].map(changed)
    )
    return mark_provisional(frame, store.votes_since_change(), provisional_votes)


def _metric_results(store: Store) -> pd.DataFrame:
    frame = store.metric_table()
    if frame.empty:
        return pd.DataFrame(
            {
                "clip_id": pd.Series(dtype=str),
                "model": pd.Series(dtype=str),
                "prompt_id": pd.Series(dtype=str),
                "category": pd.Series(dtype=str),
                "seed": pd.Series(dtype="int32"),
                "metric": pd.Series(dtype=str),
                "version": pd.Series(dtype=str),
                "key": pd.Series(dtype=str),
                "value": pd.Series(dtype=float),
            }
        )
    return frame[list(FIELDS["metric_results"])]


def export_dataset(
    store: Store,
    out: str | Path,
    force: bool = False,
    with_clips: bool = False,
    license: str = DEFAULT_LICENSE,
    created_at: str | None = None,
) -> ExportReport:
    """Write every table as Parquet, plus the data card README.md, into ``out``.

    Args:
        store: the store (read-only is enough).
        out: target folder; created if missing; must be empty unless ``force``.
        force: overwrite the dataset files of a non-empty folder (other files are left alone).
        with_clips: also copy the clip files into ``out/clips/``.
        license: licence of the votes and metric values, an SPDX id for the card.
        created_at: timestamp for the card (now, UTC, by default).

    Raises:
        InputError: ``out`` is a file, or a non-empty folder without ``force``.
    """
    from arena.io.board_file import load_board_settings

    out = Path(out)
    check_target(out, force)
    settings = load_board_settings()
    tables = dataset_tables(store, settings.provisional_votes)
    report = ExportReport(out)
    out.mkdir(parents=True, exist_ok=True)
    if with_clips:
        report.clip_files = _copy_clips(store, tables["clips"], out)
    for name, frame in tables.items():
        path = out / f"{name}.parquet"
        tmp = path.with_name(path.name + ".part")
        frame.to_parquet(tmp, index=False)
        tmp.replace(path)
        report.rows[name] = len(frame)
        report.files.append(path)
    created_at = created_at or datetime.now(UTC).isoformat(timespec="seconds")
    card = out / CARD
    card.write_text(
        data_card(tables, license, created_at, settings.provisional_votes, settings.max_variants),
        encoding="utf-8",
    )
    report.files.append(card)
    return report


def _copy_clips(store: Store, clips: pd.DataFrame, out: Path) -> int:
    target = out / "clips"
    target.mkdir(exist_ok=True)
    source = store.clips_frame().set_index("clip_id")["path"]
    copied = 0
    for i, clip_id in enumerate(clips["clip_id"]):
        rel = source.get(clip_id) or ""
        src = store.data_dir / rel
        if not rel or not src.is_file():
            continue  # imported votes may name clips that were never files
        shutil.copyfile(src, target / f"{clip_id}{src.suffix or '.mp4'}")
        clips.iat[i, clips.columns.get_loc("file")] = f"clips/{clip_id}{src.suffix or '.mp4'}"
        copied += 1
    return copied


def _unsettled(
    models: pd.DataFrame, battles: pd.DataFrame, provisional_votes: int, max_variants: int
) -> list[str]:
    """The card's lines on provisional ratings and on families with many variants rated."""
    from leaderboards.provisional import variant_notes

    voted = set(battles["model_a"]) | set(battles["model_b"])
    marked = models[models["provisional"] & models["model"].isin(voted)]
    lines = ["## Provisional ratings", ""]
    if marked.empty:
        lines += [
            f"Every model with votes has at least {provisional_votes} votes since it was "
            "registered or last changed.",
            "",
        ]
    else:
        named = ", ".join(
            f"`{row.model}` ({row.votes_since_change} since {row.changed_at:%Y-%m-%d})"
            for row in marked.itertuples()
        )
        lines += [
            f"A rating is **provisional** until its model has {provisional_votes} votes cast "
            "after it was registered or its generator last replaced (`provisional` in "
            f"`models`). Provisional here: {named}.",
            "",
        ]
    rated = [m for m in models["model"] if m in voted]
    active = set(models.loc[models["active"], "model"])
    families = dict(zip(models["model"], models["family"], strict=True))
    notes = variant_notes(rated, [m for m in rated if m in active], families, max_variants)
    for note in notes:
        lines += [f"{note.sentence()} (still served by the arena).", ""]
    return lines


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M" if n < 1_000_000 else "n>1M"


def data_card(
    tables: dict[str, pd.DataFrame],
    license: str,
    created_at: str,
    provisional_votes: int = DEFAULT_PROVISIONAL_VOTES,
    max_variants: int = DEFAULT_MAX_VARIANTS,
) -> str:
    """The dataset's README.md: what is in it, how it was collected, which ratings are not
    settled, the licences."""
    battles = tables["battles"]
    n_votes = len(battles)
    lines = [
        "---",
        f"license: {license.lower()}",
        "pretty_name: Paddock arena votes",
        f"size_categories: [{_size_category(n_votes)}]",
        "tags: [video-generation, human-preference, pairwise-comparison, arena]",
        "configs:",
    ]
    for name in TABLES:
        lines += [f"  - config_name: {name}", f"    data_files: {name}.parquet"]
    lines += ["---", "", "# Paddock arena votes", ""]
    if n_votes == 0:
        lines += [
            "**No votes yet.** The tables below are present with their columns, and the "
            "clips, prompts and metric results that exist so far, but the arena has not "
            "recorded a vote.",
            "",
        ]
    else:
        first = datetime.fromtimestamp(float(battles["tstamp"].min()), UTC).date()
        last = datetime.fromtimestamp(float(battles["tstamp"].max()), UTC).date()
        models = sorted(set(battles["model_a"]) | set(battles["model_b"]))
        sources = battles["source"].value_counts()
        follow = int((battles["aspect"] != "overall").sum())
        answers = f" ({follow} of them follow-up answers, see `aspect`)" if follow else ""
        lines += [
            f"{n_votes} pairwise votes{answers} between {len(models)} video generation models "
            f"({', '.join(models)}), cast by {battles['rater'].nunique()} raters from {first} "
            f"to {last}. By source: "
            + ", ".join(f"{n} `{source}`" for source, n in sources.items())
            + " (`arena`: voted on this arena's page; anything else was imported).",
            "",
        ]
    lines += [
        f"Exported {created_at} by `paddock export dataset`.",
        "",
        "| table | rows |",
        "|---|---:|",
        *(f"| `{name}.parquet` | {len(tables[name])} |" for name in TABLES),
        "",
        "## Collection",
        "",
        "Raters opened the Paddock arena in a browser and were shown two anonymous clips made "
        "by two models for the same prompt, side by side, playing in sync with sound from one "
        "side at a time. They voted A better, B better, tie or both bad; model names were "
        "revealed only after the vote. Which model was shown on the left was random and is "
        "recorded (`model_a` is the left clip).",
        "",
        "The scheduler chose pairs by active sampling with an exploration floor; each battle's "
        "exact sampling probability is in `sampling_prob`, so an analysis can weight votes by "
        "its inverse. A share of battles were gold checks (`battle_kind = gold`): the built-in "
        "model `pony` against one of its deliberately degraded twins, where the right answer is "
        "known. Raters who fell below 70% on gold checks were flagged; their votes are kept "
        "here and marked `rater_excluded`. Rater ids are pseudonyms assigned at export.",
        "",
        "Metric results are automatic scores of each clip (lip-sync offset and confidence, "
        "identity and temporal consistency, audio, sharpness, CLIP scores when configured), "
        "one row per numeric value; only results that ran (`status ok`) are included.",
        "",
        "Ratings in the Chatbot Arena style are computed from `battles` by Bradley-Terry "
        "with ties and both-bad as half a win (`paddock leaderboard --votes battles.parquet`).",
        "",
        *_price_speed_lines(tables["clips"], tables["models"]),
        *_unsettled(tables["models"], battles, provisional_votes, max_variants),
        "## Fields",
        "",
    ]
    for name in TABLES:
        lines += [f"### {name}", "", "| column | type | meaning |", "|---|---|---|"]
        frame = tables[name]
        for column, meaning in FIELDS[name].items():
            kind = str(frame[column].dtype) if column in frame.columns else "-"
            lines.append(f"| `{column}` | {kind} | {meaning} |")
        lines.append("")
    lines += [
        "## Licence",
        "",
        f"- Votes, metric values and this card: {license}.",
        "- Prompt texts of Paddock's default suite: CC0-1.0; the image-to-video input images "
        "are public domain or CC0 (sources in Paddock's `arena/data/prompts/default.meta.json`).",
        "- Clips keep the terms of the models that made them. The built-in `pony` clips show "
        "scikit-image's `astronaut` (a public-domain NASA photograph).",
        "- The face-landmark model behind several metrics (dlib's 68-point model, trained on "
        "iBUG 300-W) is licensed for non-commercial use only; the metric values are numbers "
        "computed with it.",
        "",
    ]
    return "\n".join(lines)


def _price_speed_lines(clips: pd.DataFrame, models: pd.DataFrame) -> list[str]:
    """The card's per-model price and speed: medians over each model's clips, the clips they
    rest on, and "no price" / "local" where no clip has a price (never 0)."""
    from arena.io.board_votes import with_local_flag
    from leaderboards.price_speed import price_speed

    per_model = price_speed(with_local_flag(clips, models))
    if per_model.empty:
        return []

    def cell(value: float, fmt: str, missing: str) -> str:
        return missing if pd.isna(value) else format(value, fmt)

    lines = [
        "## Price and speed per model",
        "",
        "Medians over each model's clips (`clips.generation_s`, `clips.duration`, "
        "`clips.price_usd`): generation seconds per clip and per second of video, US dollars "
        "per clip and per minute of video, with the clips each figure rests on.",
        "",
        "| model | s per clip | s per clip second | clips timed | $ per clip | $ per minute "
        "| clips priced | price from |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in per_model.itertuples(index=False):
        missing = row.price_note if row.clips_priced == 0 else "n/a"
        source = "" if row.clips_priced == 0 else row.price_note
        lines.append(
            f"| {row.model} | {cell(row.gen_s_per_clip, '.1f', 'no time')} "
            f"| {cell(row.gen_s_per_clip_s, '.2f', 'no time')} | {row.clips_timed} "
            f"| {cell(row.price_per_clip, '.3f', missing)} "
            f"| {cell(row.price_per_min, '.2f', missing)} | {row.clips_priced} | {source} |"
        )
    return [*lines, ""]
