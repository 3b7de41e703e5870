"""What generating a suite would cost and take, before anything is asked of a provider.

Per model: the clips still missing, their expected price (paddock.toml's price, the shipped
price table, or compute time at an hourly rate from the model's past clips) and the expected wall
time at the number of clips it makes at once (a provider's max_concurrent, within --workers),
from the median generation time of its clips so far. Reads only: no request, no write.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arena.store import Model, Prompt, Store
from generators.errors import InputError, PaddockError
from generators.pricing import LOCAL_KINDS, PriceOverride, expected_price
from generators.providers import PROVIDER_KINDS, provider_protocol
from generators.registry import parse_spec


@dataclass(frozen=True)
class ModelEstimate:
    """One model's share of a run: clips to make, their expected price and time."""

    model: str
    clips: int
    price_usd: float | None  # the clips whose price is known, summed (None: none known)
    sources: tuple[str, ...]  # where those prices come from (table:<date>, config, ...)
    unpriced: int  # clips with no expected price (local: time only; unknown: no figure)
    local: bool  # runs here: its price is compute time, not a provider's bill
    median_generation_s: float | None  # of its clips so far (None: no clip yet)
    parallel: int  # clips it makes at once
    time_s: float | None  # expected wall time for its clips (None: unknown)


def _fitted(spec: str, settings: Any, prompt: Prompt, cache: dict):
    """(resolution, seconds) the provider will be asked for (its rounding), else the settings'."""
    from generators.base import GenerationRequest
    from generators.registry import build_generator

    if spec not in cache:
        try:
            cache[spec] = build_generator(spec)
        except PaddockError:
            cache[spec] = None  # credentials missing here: the settings stand
    fitted = getattr(cache[spec], "fitted", None)
    if fitted is None:
        return settings.resolution, settings.duration_s
    request = GenerationRequest(
        prompt=prompt.text,
        seed=prompt.seed,
        duration_s=settings.duration_s,
        resolution=settings.resolution,
        aspect=settings.aspect,
        fps=settings.fps,
        audio=prompt.audio,
    )
    try:
        values, adjusted = fitted(request)
    except PaddockError:
        return settings.resolution, settings.duration_s
    resolution = adjusted.get("resolution", [None, settings.resolution])[1]
    return resolution, float(values["_duration"])


def _parallel(spec: str, cache: dict, workers: int) -> int:
    slots = max(1, workers)
    options = getattr(cache.get(spec), "options", None) or {}
    limit = options.get("max_concurrent")
    kind, _, params = parse_spec(spec)
    if limit is None and kind in PROVIDER_KINDS:  # not built here (no credentials): as written
        try:
            limit = int(params.get("max_concurrent") or provider_protocol(kind).max_concurrent)
        except ValueError:
            limit = None
    return min(slots, int(limit)) if limit else slots


def estimate_generation(
    store: Store,
    models: Sequence[Model],
    pairs: Sequence[tuple[Model, Prompt]],
    settings: Any,
    workers: int = 2,
    prices: dict[str, PriceOverride] | None = None,
) -> list[ModelEstimate]:
    """Per model with a generator: what making its clips still missing (pairs, from
    arena/jobs/generation.py `missing_pairs`) would cost and take, rendered with settings
    (a GenerationSettings)."""
    prices = prices or {}
    cache: dict = {}
    rows = []
    for model in models:
        if not model.generator:
            continue
        mine = [p for m, p in pairs if m.name == model.name]
        past = [c.generation_s for c in store.clips(model.name) if c.generation_s is not None]
        median = statistics.median(past) if past else None
        total, sources, unpriced = 0.0, [], 0
        for prompt in mine:
            resolution, seconds = _fitted(model.generator, settings, prompt, cache)
            price = expected_price(
                model.generator,
                resolution,
                prompt.audio,
                seconds,
                prices.get(model.name),
                generation_s=median,
            )
            if price.usd is None:
                unpriced += 1
            else:
                total += price.usd
                sources.append(price.source)
        parallel = _parallel(model.generator, cache, workers)
        rows.append(
            ModelEstimate(
                model=model.name,
                clips=len(mine),
                price_usd=round(total, 6) if sources else None,
                sources=tuple(dict.fromkeys(sources)),
                unpriced=unpriced,
                local=parse_spec(model.generator)[0] in LOCAL_KINDS,
                median_generation_s=median,
                parallel=parallel,
                time_s=(None if median is None else round(median * -(-len(mine) // parallel), 1)),
            )
        )
    return rows


def estimate_lines(rows: Sequence[ModelEstimate]) -> list[str]:
    """The estimate as `paddock generate --dry-run` prints it: one line per model, a total."""
    lines = []
    for row in rows:
        if row.clips == 0:
            lines.append(f"{row.model}: nothing to make")
            continue
        if row.price_usd is None:
            price = "price local (time only)" if row.local else "price unknown"
        else:
            price = f"${row.price_usd:.2f} ({', '.join(row.sources)})"
            if row.unpriced:
                price += f", {row.unpriced} clip(s) without a price"
        if row.time_s is None:
            time = "time unknown (no clip made yet)"
        else:
            time = (
                f"about {_duration(row.time_s)} at {row.parallel} at a time "
                f"(median {row.median_generation_s:.1f} s a clip)"
            )
        lines.append(f"{row.model}: {row.clips} clip(s), {price}, {time}")
    known = sum(r.price_usd or 0.0 for r in rows)
    unknown = [r.model for r in rows if r.clips and not r.local and r.unpriced]
    lines.append(
        f"total: {sum(r.clips for r in rows)} clip(s), ${known:.2f}"
        + (f" plus clips without a price ({', '.join(unknown)})" if unknown else "")
    )
    return lines


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_budget(rows: Sequence[ModelEstimate], max_cost: float) -> None:
    """InputError (one line) when the estimate passes max_cost, or a hosted model's clips have no
    expected price (the budget could not be kept); local models without a rate cost nothing."""
    if max_cost < 0:
        raise InputError(f"--max-cost {max_cost:g}: give zero or more US dollars")
    unknown = [r.model for r in rows if r.clips and r.unpriced and not r.local]
    if unknown:
        raise InputError(
            f"--max-cost {max_cost:g}: no expected price for {', '.join(unknown)} (no price "
            "table row: give price_per_s in paddock.toml); nothing was generated"
        )
    total = round(sum(r.price_usd or 0.0 for r in rows), 6)
    if total > max_cost:
        raise InputError(
            f"--max-cost {max_cost:g}: the expected price is ${total:.2f} "
            f"({sum(r.clips for r in rows)} clip(s)); nothing was generated"
        )
