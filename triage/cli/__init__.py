"""The ``triage`` command: a thin layer that parses options, calls one library function and
turns triage's errors into a clear message and a non-zero exit code.

The root group lives here; each module beside it holds the commands of one pipeline stage and
is registered below: ingest (ingest, run, watch), quarantine, classifier (train, evaluate,
classify), model (model versions), routing (deadlines, audit, queue), cases (case), learning (learning), commitments
(commitment), report, review (serve, user, export-reviews), store (store copy), operations (purge,
backup, restore, health). Shared options and the error
wrapper are in common.
"""

from __future__ import annotations

import click

from triage import __version__
from triage.cli import (
    cases,
    classifier,
    commitments,
    ingest,
    learning,
    model,
    operations,
    quarantine,
    report,
    review,
    routing,
    store,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="triage")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="TRIAGE_LOG_FORMAT",
    show_default=True,
    help="Log lines of watch and serve as text or as JSON objects (also TRIAGE_LOG_FORMAT).",
)
def cli(log_format: str) -> None:
    """triage: sort a social landlord's inbound mail and surveys into complaints, service
    requests, MP enquiries, compliments and other, under the Housing Ombudsman's Code.

    Example:

        triage run pipelines/sample.toml
    """


for _command in (
    ingest.ingest,
    ingest.run,
    ingest.watch,
    quarantine.quarantine,
    classifier.train,
    classifier.evaluate,
    classifier.classify,
    model.model,
    routing.deadlines,
    routing.audit,
    routing.queue,
    cases.case,
    learning.learning,
    commitments.commitment,
    report.report,
    review.serve,
    review.user,
    review.export_reviews,
    store.store,
    operations.purge,
    operations.backup,
    operations.restore,
    operations.health,
):
    cli.add_command(_command)


def main() -> None:  # console-script entry point
    cli()
