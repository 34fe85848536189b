"""Model versions: a retrained model is a challenger until it has shown it is no worse.

    models/<name>/                      the live model, what every command loads
    models/versions/<name>/<version>/   every model trained as a challenger or ever live, kept whole
    models/versions/<name>/history.jsonl  promotions and rollbacks, one JSON line each

A version's id is ``<created, UTC>-<first 12 hex of its artefact's SHA-256>``, so the live folder
and its archived copy are recognisably the same model. Comparison scores both models on the dev
and test splits and on the held-back share of staff reviews (never trained on), and a challenger
is promoted only when no headline figure on any of them drops by more than the tolerance.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.classify import artefact
from triage.classify.data import Example, load_split, read_examples
from triage.errors import InputError, ModelError

VERSIONS = "versions"
HISTORY = "history.jsonl"
REVIEW_HOLDOUT_PERCENT = 25  # share of staff reviews kept back to judge a challenger
TOLERANCE = 0.005  # a challenger may lose this much on a figure and still count as no worse
HEADLINE = ("kind_macro_f1", "complaint_recall", "dissatisfied_f1", "theme_micro_f1")


def held_back(review_id: str) -> bool:
    """Whether a staff review is kept back for comparing models (the same answer every run)."""
    return int(hashlib.sha256(review_id.encode()).hexdigest(), 16) % 100 < REVIEW_HOLDOUT_PERCENT


def split_reviews(files: list[Path]) -> tuple[list[Example], list[Example]]:
    """Staff reviews as (for training, held back for comparison)."""
    reviews = sorted((e for path in files for e in read_examples(path)), key=lambda e: e.input.id)
    return [e for e in reviews if not held_back(e.input.id)], [e for e in reviews if held_back(e.input.id)]


def version_id(meta: dict[str, Any]) -> str:
    created = str(meta.get("created", "")).replace("-", "").replace(":", "").rstrip("Z")
    return f"{created}-{str(meta.get('sha256', ''))[:12]}"


def versions_dir(live: Path) -> Path:
    return live.parent / VERSIONS / live.name


@dataclass
class Version:
    id: str
    folder: Path
    meta: dict[str, Any]
    live: bool


def list_versions(live: Path) -> list[Version]:
    """Every kept version, oldest first, and the live model (archived or not) marked live."""
    live_id = version_id(artefact.read_sidecar(live)) if (live / artefact.SIDECAR).exists() else None
    found: dict[str, Version] = {}
    root = versions_dir(live)
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            meta = artefact.read_sidecar(folder)
            found[folder.name] = Version(folder.name, folder, meta, folder.name == live_id)
    if live_id and live_id not in found:
        found[live_id] = Version(live_id, live, artefact.read_sidecar(live), True)
    return sorted(found.values(), key=lambda v: v.id)


def find_version(live: Path, version: str) -> Version:
    matches = [v for v in list_versions(live) if v.id == version or v.id.startswith(version) or v.id.endswith(version)]
    if len(matches) != 1:
        known = ", ".join(v.id for v in list_versions(live)) or "none"
        what = "matches several versions" if matches else "is not a kept version"
        raise InputError(f"{version!r} {what} of {live}. Kept versions: {known}. See `triage model list`.")
    return matches[0]


def store_challenger(staging: Path, live: Path) -> Version:
    """Move a freshly trained model folder into the versions folder under its id."""
    meta = artefact.read_sidecar(staging)
    vid = version_id(meta)
    target = versions_dir(live) / vid
    if target.exists():
        shutil.rmtree(staging)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)
    return Version(vid, target, meta, False)


def staging_folder(live: Path) -> Path:
    folder = versions_dir(live) / f".training-{os.getpid()}-{time.time_ns()}"
    folder.mkdir(parents=True)
    return folder


# -- comparison -------------------------------------------------------------------------------------


def headline(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        "kind_macro_f1": metrics["kind_macro_f1"],
        "complaint_recall": metrics["kind"]["complaint"]["recall"],
        "dissatisfied_f1": metrics["dissatisfied_f1"],
        "theme_micro_f1": metrics["theme_micro_f1"],
    }


def eval_sets(data_root: Path, review_files: list[Path]) -> dict[str, list[Example]]:
    sets = {split: load_split(data_root, split) for split in ("dev", "test")}
    if review_files:
        _, kept_back = split_reviews(review_files)
        if kept_back:
            sets["reviews (held back)"] = kept_back
    return sets


@dataclass
class Comparison:
    champion: str
    challenger: str
    figures: dict[str, dict[str, tuple[float, float]]]  # set -> figure -> (champion, challenger)
    tolerance: float

    @property
    def worse(self) -> list[str]:
        return [
            f"{name} {figure} {old:.3f} -> {new:.3f}"
            for name, rows in self.figures.items()
            for figure, (old, new) in rows.items()
            if new < old - self.tolerance
        ]

    @property
    def no_worse(self) -> bool:
        return not self.worse

    def as_dict(self) -> dict[str, Any]:
        return {
            "champion": self.champion,
            "challenger": self.challenger,
            "tolerance": self.tolerance,
            "figures": {
                name: {f: {"champion": old, "challenger": new, "change": round(new - old, 4)} for f, (old, new) in rows.items()}
                for name, rows in self.figures.items()
            },
            "no_worse": self.no_worse,
            "worse": self.worse,
        }


def compare(champion: Version, challenger: Version, sets: dict[str, list[Example]], tolerance: float = TOLERANCE) -> Comparison:
    from triage.classify.evaluate import label_metrics
    from triage.classify.service import load_model

    figures: dict[str, dict[str, tuple[float, float]]] = {}
    models = [load_model(v.folder)[0] for v in (champion, challenger)]
    for name, examples in sets.items():
        scored = []
        for model in models:
            predictions = model.predict([e.input for e in examples])
            metrics = label_metrics(
                examples, [p.kind for p in predictions], [p.dissatisfied for p in predictions], [p.themes for p in predictions]
            )
            scored.append(headline(metrics))
        figures[name] = {f: (scored[0][f], scored[1][f]) for f in HEADLINE}
    return Comparison(champion.id, challenger.id, figures, tolerance)


def format_comparison(c: Comparison) -> str:
    lines = [f"champion (live) {c.champion}  vs  challenger {c.challenger}", ""]
    lines.append(f"{'set':<22} {'figure':<18} {'live':>7} {'new':>7} {'change':>7}")
    for name, rows in c.figures.items():
        for figure, (old, new) in rows.items():
            mark = "  worse" if new < old - c.tolerance else ""
            lines.append(f"{name:<22} {figure:<18} {old:7.3f} {new:7.3f} {new - old:+7.3f}{mark}")
    lines.append("")
    lines.append(
        f"No worse on every figure (tolerance {c.tolerance:.3f}): it may be promoted."
        if c.no_worse
        else "Worse on: " + "; ".join(c.worse) + ". Not promoted unless forced."
    )
    return "\n".join(lines)


# -- promotion and rollback -------------------------------------------------------------------------


def _archive_live(live: Path) -> str | None:
    """Keep a copy of the live model among the versions (once) and return its id."""
    if not (live / artefact.SIDECAR).exists():
        return None
    vid = version_id(artefact.read_sidecar(live))
    target = versions_dir(live) / vid
    if not target.exists():
        tmp = versions_dir(live) / f".archiving-{os.getpid()}-{time.time_ns()}"
        shutil.copytree(live, tmp)
        os.replace(tmp, target)
    return vid


def _make_live(version: Version, live: Path) -> None:
    """Replace the live folder's contents by a version's, swapping whole folders so a reader
    never sees half of each."""
    artefact.load(version.folder)  # refuse a version that no longer verifies
    tmp = live.parent / f".{live.name}.incoming-{os.getpid()}"
    old = live.parent / f".{live.name}.outgoing-{os.getpid()}"
    shutil.copytree(version.folder, tmp)
    if live.exists():
        os.replace(live, old)
    os.replace(tmp, live)
    if old.exists():
        shutil.rmtree(old)


def _log(live: Path, entry: dict[str, Any]) -> None:
    path = versions_dir(live) / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **entry}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def history(live: Path) -> list[dict[str, Any]]:
    path = versions_dir(live) / HISTORY
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def promote(live: Path, version: Version, comparison: Comparison | None, force: bool = False) -> dict[str, Any]:
    if version.live:
        raise InputError(f"{version.id} is already the live model of {live}.")
    if comparison is not None and not comparison.no_worse and not force:
        raise ModelError(
            f"{version.id} is worse than the live model on: {'; '.join(comparison.worse)}. "
            "It stays a challenger. Retrain with more reviews, or pass --force to promote it anyway (recorded in the history)."
        )
    previous = _archive_live(live)
    _make_live(version, live)
    entry = {
        "action": "promote",
        "version": version.id,
        "previous": previous,
        "forced": bool(force and comparison is not None and not comparison.no_worse),
        "comparison": comparison.as_dict() if comparison else None,
    }
    _log(live, entry)
    return entry


def rollback(live: Path, to: str | None = None) -> dict[str, Any]:
    """Make an earlier version live again: the one before the last promotion, or ``to``."""
    if to is None:
        promotions = [h for h in history(live) if h["action"] in ("promote", "rollback") and h.get("previous")]
        if not promotions:
            raise InputError(f"{live}: nothing to roll back to (no promotion recorded). See `triage model list`.")
        to = promotions[-1]["previous"]
    target = find_version(live, to)
    if target.live:
        raise InputError(f"{target.id} is already the live model of {live}.")
    previous = _archive_live(live)
    _make_live(target, live)
    entry = {"action": "rollback", "version": target.id, "previous": previous}
    _log(live, entry)
    return entry
