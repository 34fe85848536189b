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
    models/<name>/model.pkl.zlib, its sidecar model.json (checksum, versions, data hash, config,
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
@click.option(
    "--corpora",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with the real-text corpora tweets-dev/ and ombudsman-dev/ (default ../shared/corpora).",
)
@click.option("--no-real-text", is_flag=True, help="Skip the real-text corpora.")
@click.option("--json", "as_json", is_flag=True, help="Print all figures as JSON.")
@friendly_errors
def evaluate(
    split: str, model_dir: Path | None, data_root: Path | None, corpora: Path | None, no_real_text: bool, as_json: bool
) -> None:
    """Evaluate a model on the dev or test split, beside a keyword baseline, and on real text.

    Prints per-class precision/recall/F1, the confusion matrix, macro-F1, dissatisfied F1, theme
    micro/macro-F1, expected calibration error, the coverage/accuracy trade-off and the worst errors;
    the headline figures per corpus file (the new voices' test files apart); and the real-text
    development figures (tweets-dev: complaint macro-F1, precision and recall on all and brand
    tweets; ombudsman-dev: complaint recall, theme micro-F1, per-theme F1), with a note when the
    corpora are absent. Which messages the cascade's encoder model decided is counted throughout.

    Example:

        triage evaluate --split test
    """
    from triage.classify.data import load_split
    from triage.classify.evaluate import by_file, format_by_file, format_report
    from triage.classify.evaluate import evaluate as run_evaluation
    from triage.classify.realtext import CORPORA, evaluate_real_text, format_real_text
    from triage.classify.service import DEFAULT_MODEL, load_model

    model, _ = load_model(model_dir)
    root = data_root or (model_dir or DEFAULT_MODEL).resolve().parents[1] / "training_data"
    examples = load_split(Path(root), split)
    predictions = model.predict([e.input for e in examples])
    metrics = run_evaluation(examples, predictions)
    metrics["by_file"] = by_file(examples, predictions)
    metrics["real_text"] = {} if no_real_text else evaluate_real_text(model, corpora or CORPORA)
    if as_json:
        click.echo(json.dumps(metrics))
        return
    click.echo(format_report(metrics, split) + "\n\n" + format_by_file(metrics["by_file"]))
    if metrics["real_text"]:
        click.echo("\n" + format_real_text(metrics["real_text"]))


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
    from triage.classify.service import BATCH, inputs_from_files, load_model, predict, prediction_json

    model, _ = load_model(model_dir)
    for path in files:
        if not path.exists():
            raise TriageError(f"{path}: no such file or folder.")
    for batch in inputs_from_files(files, BATCH):  # batches across files: one .eml each is one batch of many
        click.echo("\n".join(json.dumps(prediction_json(p), ensure_ascii=False) for p in predict(model, batch)))
