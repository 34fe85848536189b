"""The classifier: ``triage train``, ``triage evaluate`` and ``triage classify``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from triage.cli.common import friendly_errors
from triage.errors import TriageError


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=Path("pipelines/train.toml"),
    show_default=True,
    help="Training config (data, model name, parameters).",
)
@click.option(
    "--with-reviews",
    is_flag=True,
    help="Add staff reviews exported by `triage export-reviews` (<data root>/reviews/*.jsonl) to the training split.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Write over the live model instead of adding a challenger beside it (for building the shipped model).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the dev metrics as JSON.")
@friendly_errors
def train(config_file: Path, with_reviews: bool, replace: bool, as_json: bool) -> None:
    """Train the classifier on training_data/train and report it on training_data/dev.

    Deterministic: the same data and config give the same model and metrics. Writes
    models/<name>/model.joblib, its sidecar model.json (checksum, versions, data hash, config,
    metrics) and the model card MODEL.md.

    With --with-reviews, staff decisions exported by `triage export-reviews` are added to the
    training split (never to dev or test), each counting as several invented examples
    ([params] review_weight); a quarter of them, chosen by id, is held back to judge the result.

    When a live model already exists, the new one is a challenger: it is kept as a new version
    beside the live one, and `triage model compare` / `triage model promote` decide whether it
    replaces it. --replace writes over the live model directly.

    Example:

        triage train --with-reviews && triage model compare
    """
    from triage.classify.evaluate import format_report
    from triage.classify.train import load_config
    from triage.classify.train import train as run_training

    config = load_config(config_file)
    live = config.path(config.model.output) / config.model.name
    challenger = (live / "model.json").exists() and not replace
    folder, metrics = run_training(config, with_reviews=with_reviews, challenger=challenger)
    if as_json:
        click.echo(json.dumps(metrics))
    else:
        click.echo(format_report(metrics, "dev"))
        if challenger:
            click.echo(
                f"\nChallenger written to {folder} (the live model {live} is unchanged).\n"
                f"Compare it: triage model compare {folder.name} --config {config_file}\n"
                f"Promote it if no worse: triage model promote {folder.name} --config {config_file}"
            )
        else:
            click.echo(f"\nModel written to {folder}")


@click.command()
@click.option("--split", type=click.Choice(["dev", "test"]), default="dev", show_default=True)
@click.option(
    "--model", "model_dir", type=click.Path(path_type=Path), default=None, help="Model folder (default models/default)."
)
@click.option("--data", "data_root", type=click.Path(path_type=Path), default=None, help="Corpus folder (default training_data).")
@click.option("--json", "as_json", is_flag=True, help="Print all figures as JSON.")
@friendly_errors
def evaluate(split: str, model_dir: Path | None, data_root: Path | None, as_json: bool) -> None:
    """Evaluate a model on the dev or test split, beside a keyword baseline.

    Prints per-class precision/recall/F1, the confusion matrix, macro-F1, dissatisfied F1, theme
    micro/macro-F1, expected calibration error, the coverage/accuracy trade-off and the worst errors.

    Example:

        triage evaluate --split test
    """
    from triage.classify.data import load_split
    from triage.classify.evaluate import evaluate as run_evaluation
    from triage.classify.evaluate import format_report
    from triage.classify.service import DEFAULT_MODEL, load_model

    model, _ = load_model(model_dir)
    root = data_root or (model_dir or DEFAULT_MODEL).resolve().parents[1] / "training_data"
    examples = load_split(Path(root), split)
    metrics = run_evaluation(examples, model.predict([e.input for e in examples]))
    click.echo(json.dumps(metrics) if as_json else format_report(metrics, split))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--model", "model_dir", type=click.Path(path_type=Path), default=None, help="Model folder (default models/default)."
)
@friendly_errors
def classify(files: tuple[Path, ...], model_dir: Path | None) -> None:
    """Classify mail files (.eml, .mbox, .msg) or JSONL records; write JSONL to stdout.

    JSONL input has one object per line with subject and body (optional id, channel, from_name,
    from_addr). Each output line has id, kind, kind_scores, dissatisfied, dissatisfied_score,
    themes, theme_scores, needs_review (with review_reasons) and evidence [{rule, text}].

    Example:

        triage classify triage/sample/mailbox/08-faint-gas-smell.eml
    """
    from triage.classify.service import BATCH, inputs_from_files, load_model, prediction_json

    model, _ = load_model(model_dir)
    for path in files:
        if not path.exists():
            raise TriageError(f"{path}: no such file or folder.")
    for batch in inputs_from_files(files, BATCH):  # batches across files: one .eml each is one batch of many
        click.echo("\n".join(json.dumps(prediction_json(p), ensure_ascii=False) for p in model.predict(batch)))
