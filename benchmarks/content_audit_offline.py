"""The offline content audit's figures: how well a clip's look and sound (no downloaded weights)
name its model, on fixture models that differ only by look, on fixture models that differ only
by format, and on a data dir's clips (the demo's first set: benchmarks/demo_first_set.py).

    python benchmarks/content_audit_offline.py [--prompts 16] [--data DIR]

Each clip is described once from its file and fitted with the audits' classifier (folds grouped
by prompt, 3 shuffles, Wilson 95% interval). Progress on stderr; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from content_audit_support import LOOKS, look_clip, styled_clips  # noqa: E402
from fair_serving_support import MAKERS, make_clip  # noqa: E402

from arena.jobs.audit_classifier import fit_grouped  # noqa: E402
from arena.jobs.content_audit import ContentProbe, audit_files  # noqa: E402
from arena.jobs.fingerprint_audit import AuditReport  # noqa: E402


def figures(report: AuditReport, seconds: float) -> dict:
    low, high = report.content_ci or (None, None)
    return {
        "clips": report.clips,
        "models": len(report.content_models or report.models),
        "accuracy": None if report.content_accuracy is None else round(report.content_accuracy, 4),
        "ci": [round(low, 4), round(high, 4)] if low is not None else None,
        "chance": round(report.chance, 4),
        "chance_in_ci": low is not None and low <= report.chance <= high,
        "recall": report.content_recall,
        "confusion": report.content_confusion,
        "models_order": report.content_models,
        "top_features": report.content_features[:5],
        "seconds": round(seconds, 1),
    }


def prompt_centred(probe: ContentProbe, clips: list[tuple[str, str, Path]]) -> dict:
    """The same classifier on each signature minus the mean of its prompt's clips: what a rater
    who has seen a prompt's other clips (unlabelled: a battle shows two at a time) can tell."""
    keys = list(probe.embeddings)
    x = np.stack([probe.embeddings[k] for k in keys])
    groups = np.array([probe.prompts[k] for k in keys])
    labels = {f"{m}/{p}/{Path(path).name}": m for m, p, path in clips}
    for prompt in set(groups.tolist()):
        x[groups == prompt] -= x[groups == prompt].mean(axis=0)
    fit = fit_grouped(x, np.array([labels[k] for k in keys]), groups)
    return {
        "accuracy": round(fit.accuracy, 4),
        "ci": [round(fit.ci_low, 4), round(fit.ci_high, 4)],
        "chance_in_ci": fit.ci_low <= fit.chance <= fit.ci_high,
        "recall": fit.recall,
    }


def run(name: str, clips: list[tuple[str, str, Path]]) -> dict:
    print(f"{name}: {len(clips)} clips", file=sys.stderr)
    started = time.perf_counter()
    probe = ContentProbe.offline()
    report = audit_files(clips, probe)
    out = figures(report, time.perf_counter() - started)
    out["prompt_centred"] = prompt_centred(probe, clips)
    print(
        f"{name}: {out['accuracy']} {out['ci']} chance {out['chance']}; prompt-centred "
        f"{out['prompt_centred']['accuracy']} {out['prompt_centred']['ci']}",
        file=sys.stderr,
    )
    return out


def data_dir_clips(data: Path) -> list[tuple[str, str, Path]]:
    from arena.store import Store

    with Store.open(data, create=False) as store:
        names = {m.id: m.name for m in store.models()}
        return [(names[c.model_id], c.prompt_id, store.clip_path(c.id)) for c in store.clips()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=16, help="prompts per fixture")
    parser.add_argument("--data", type=Path, help="a data dir whose clips to audit (originals)")
    args = parser.parse_args()
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="paddock-content-bench-") as tmp:
        folder = Path(tmp)
        n = range(args.prompts)
        looks = [
            (m, f"p{p}", look_clip(folder / f"look-{m}-{p}.mp4", m, p)) for m in LOOKS for p in n
        ]
        out["look_only"] = run("look only (colour cast, blur, pan)", looks)
        makers = [
            (m.name, f"p{p}", make_clip(folder / f"maker-{m.name}-{p}.mp4", m, p))
            for m in MAKERS
            for p in n
        ]
        out["format_only"] = run("format only (encoders, sizes, rates, audio codecs)", makers)
        tiny = [
            (m, f"p{p}", path) for m, p, path in styled_clips(folder / "tiny", len(n), "format")
        ]
        out["format_only_tiny"] = run("format only, 48-96 px at crf 18-35", tiny)
    if args.data is not None:
        out["data_dir"] = run(str(args.data), data_dir_clips(args.data))
    # the headline figures first: accuracy by look, by format, on the data dir
    headline = {f"{name}_accuracy": part["accuracy"] for name, part in out.items()}
    print(json.dumps({**headline, **out}))


if __name__ == "__main__":
    main()
