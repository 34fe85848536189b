"""Model versions: ``triage model list|compare|promote|rollback`` (triage.classify.registry)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from triage.cli.common import friendly_errors

CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=Path("pipelines/train.toml"),
    show_default=True,
    help="Training config: where the models and the corpus are.",
)


def _context(config_file: Path) -> tuple[Path, Path, list[Path]]:
    """The live model folder, the corpus root, and any exported staff reviews."""
    from triage.classify.train import REVIEWS, load_config

    config = load_config(config_file)
    root = config.path(config.data.root)
    return config.path(config.model.output) / config.model.name, root, sorted((root / REVIEWS).glob("*.jsonl"))


@click.group()
def model() -> None:
    """Model versions: list them, compare a challenger with the live model, promote, roll back.

    `triage train` adds a challenger when a live model exists; it replaces the live model only
    through `triage model promote`, which refuses one that is worse on the dev or test split or on
    the held-back staff reviews. Every version is kept with its metrics.

    Example:

        triage train --with-reviews && triage model compare && triage model promote
    """


@model.command("list")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
@friendly_errors
def list_command(config_file: Path, as_json: bool) -> None:
    """List the kept versions, oldest first, with their dev figures; the live one is marked.

    Example:

        triage model list
    """
    from triage.classify.registry import list_versions

    live, _, _ = _context(config_file)
    rows = []
    for v in list_versions(live):
        dev = v.meta.get("metrics", {}).get("dev", {})
        reviews = (v.meta.get("training_data") or {}).get("reviews") or {}
        rows.append(
            {
                "version": v.id,
                "live": v.live,
                "created": v.meta.get("created"),
                "reviews": reviews.get("examples", 0),
                "kind_macro_f1": dev.get("kind_macro_f1"),
                "theme_micro_f1": dev.get("theme_micro_f1"),
                "folder": str(v.folder),
            }
        )
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo(f"No models at {live}. Train one with `triage train`.")
        return
    click.echo(f"{'':2}{'version':<30} {'created':<21} {'reviews':>7} {'dev kind F1':>11} {'dev theme F1':>12}")
    for r in rows:
        click.echo(
            f"{'*' if r['live'] else ' ':2}{r['version']:<30} {r['created']:<21} {r['reviews']:>7} "
            f"{r['kind_macro_f1'] or 0:>11.3f} {r['theme_micro_f1'] or 0:>12.3f}"
        )
    click.echo("\n* live: the model every command loads.")


def _comparison(config_file: Path, version: str | None, tolerance: float):
    from triage.classify.registry import compare, eval_sets, find_version, list_versions

    live, root, reviews = _context(config_file)
    versions = list_versions(live)
    champion = next((v for v in versions if v.live), None)
    if champion is None:
        from triage.errors import InputError

        raise InputError(f"{live}: no live model to compare with. Train one with `triage train`.")
    challenger = find_version(live, version) if version else next((v for v in reversed(versions) if not v.live), None)
    if challenger is None:
        from triage.errors import InputError

        raise InputError("No challenger: train one with `triage train` (it is kept beside the live model).")
    return live, challenger, compare(champion, challenger, eval_sets(root, reviews), tolerance)


TOLERANCE_OPTION = click.option(
    "--tolerance", type=float, default=0.005, show_default=True, help="How much a figure may drop and still count as no worse."
)


@model.command("compare")
@click.argument("version", required=False)
@CONFIG_OPTION
@TOLERANCE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@friendly_errors
def compare_command(version: str | None, config_file: Path, tolerance: float, as_json: bool) -> None:
    """Score a challenger (default: the newest version that is not live) beside the live model.

    Both are scored on the dev and test splits and on the held-back quarter of the staff reviews:
    kind macro-F1, complaint recall, dissatisfied F1 and theme micro-F1. Exits 1 when the
    challenger is worse on any of them by more than the tolerance.

    Example:

        triage model compare 20261207T140000-1a2b3c4d5e6f
    """
    from triage.classify.registry import format_comparison

    _, _, comparison = _comparison(config_file, version, tolerance)
    click.echo(json.dumps(comparison.as_dict()) if as_json else format_comparison(comparison))
    if not comparison.no_worse:
        raise SystemExit(1)


@model.command("promote")
@click.argument("version", required=False)
@CONFIG_OPTION
@TOLERANCE_OPTION
@click.option("--force", is_flag=True, help="Promote even when it is worse (recorded in the history).")
@friendly_errors
def promote_command(version: str | None, config_file: Path, tolerance: float, force: bool) -> None:
    """Make a challenger the live model, if it is no worse than the live one.

    The live model is kept as a version first, so `triage model rollback` can bring it back.
    Messages keep the model they were classified by (its SHA-256 is stored with each
    classification).

    Example:

        triage model promote 20261207T140000-1a2b3c4d5e6f
    """
    from triage.classify.registry import format_comparison, promote

    live, challenger, comparison = _comparison(config_file, version, tolerance)
    click.echo(format_comparison(comparison))
    entry = promote(live, challenger, comparison, force=force)
    click.echo(f"\n{challenger.id} is now live at {live} (previous: {entry['previous']}).")


@model.command("rollback")
@click.argument("version", required=False)
@CONFIG_OPTION
@friendly_errors
def rollback_command(version: str | None, config_file: Path) -> None:
    """Make the model that was live before the last promotion live again (or VERSION).

    Example:

        triage model rollback
    """
    from triage.classify.registry import rollback

    live, _, _ = _context(config_file)
    entry = rollback(live, version)
    click.echo(f"{entry['version']} is live again at {live} (was {entry['previous']}).")
