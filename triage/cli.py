"""The ``triage`` command: a thin layer that parses options, calls one library function and
turns triage's errors into a clear message and a non-zero exit code."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from triage import __version__
from triage.errors import TriageError
from triage.labels import ACTION_TYPES, COMMITMENT_KINDS, COMMITMENT_STATUSES, OUTCOME_STATUSES, RISKS

DEFAULT_STORE = "triage.db"
store_option = click.option("--store", default=DEFAULT_STORE, show_default=True, help="SQLite file or postgresql:// URL.")


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TriageError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="triage")
def cli() -> None:
    """triage: sort a social landlord's inbound mail and surveys into complaints, service
    requests, MP enquiries, compliments and other, under the Housing Ombudsman's Code.

    Example:

        triage run pipelines/sample.toml
    """


# -- ingest and run ------------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@friendly_errors
def ingest(paths: tuple[Path, ...], store: str, as_json: bool) -> None:
    """Ingest mail files and folders (.eml, .mbox, Maildir, Outlook .msg) into the store.

    Folders are walked recursively. Each message is stored once however often it is ingested;
    what cannot be read is quarantined with its reason. The summary counts messages seen,
    stored, duplicates and quarantined (seen = the sum of the other three).

    Example:

        triage ingest ~/exports/complaints.mbox saved-mail/ --store triage.db --json
    """
    from triage.jobs import ingest_paths, summary_json
    from triage.store.db import Store

    with Store(store) as db:
        result = ingest_paths(db, list(paths))
    _report(result, as_json, summary_json)


@cli.command()
@click.argument("pipeline_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@friendly_errors
def run(pipeline_file: Path, as_json: bool) -> None:
    """Run a pipeline file: read its sources into its store and print a summary table.

    Example:

        triage run pipelines/sample.toml
    """
    from triage.jobs import run_pipeline, summary_json
    from triage.pipeline import load
    from triage.store.db import Store

    pipeline = load(pipeline_file)
    with Store(pipeline.store_url()) as db:
        result = run_pipeline(pipeline, db)
        if not as_json:
            click.echo(f"Pipeline {pipeline.pipeline.name!r} -> {pipeline.store_url()}")
    _report(result, as_json, summary_json)


def _report(result: Any, as_json: bool, summary_json: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(summary_json(result))
    else:
        from triage.summary import print_summary

        print_summary(result)
    for error in result.errors:
        click.echo(f"Error: {error}", err=True)
    if result.errors:
        sys.exit(1)


# -- watch (IMAP) --------------------------------------------------------------------------
@cli.command()
@click.argument("pipeline_file", type=click.Path(path_type=Path))
@click.option("--once", is_flag=True, help="Read the mailboxes' backlog, then exit instead of waiting for new mail.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what would be stored and done, for the backlog only; change neither the mailbox nor the store.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--quiet", is_flag=True, help="Log warnings only (no progress lines).")
@friendly_errors
def watch(pipeline_file: Path, once: bool, dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Keep the pipeline's IMAP mailboxes triaged: store, classify, then keyword or move each
    message; wait for new mail with IDLE (or poll). Stops cleanly on Ctrl-C or SIGTERM.

    Never deletes or expunges mail and never marks it read unless on_stored.mark_seen is set.
    The password or OAuth2 token comes from the environment variable or command the pipeline
    file names.

    Example:

        TRIAGE_IMAP_PASSWORD=... triage watch pipelines/mailbox.toml --dry-run --once
    """
    import logging

    from triage.ingest.imap.progress import make_reporter
    from triage.ingest.imap.watcher import stop_on_signals
    from triage.jobs import watch_pipeline
    from triage.pipeline import load
    from triage.store.db import Store

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    pipeline = load(pipeline_file)
    stop = stop_on_signals()
    with Store(pipeline.store_url(), upgrade=not dry_run) as db:
        result = watch_pipeline(
            pipeline, db, stop, once=once, dry_run=dry_run, reporter=None if quiet else make_reporter(sys.stderr.isatty())
        )
    for line in result.plans:
        click.echo(line)
    summary = {**result.counts.as_dict(), **result.actions.as_dict(), "classified": result.classified, "dry_run": dry_run}
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(
        ("Dry run, nothing changed: would have read " if dry_run else "Read ")
        + f"{summary['seen']} message(s): {summary['stored']} stored, {summary['duplicates']} already stored, "
        f"{summary['quarantined']} quarantined; keywords on {summary['keywords']}, moved {summary['moved']}, "
        f"copied {summary['copied']}, marked seen {summary['marked_seen']}, drafts {summary['drafts']}."
    )


# -- quarantine ----------------------------------------------------------------------------
@cli.group()
def quarantine() -> None:
    """Items that could not be read as messages, kept whole with the reason.

    Example:

        triage quarantine list --store triage.db
    """


@quarantine.command("list")
@store_option
@click.option("--all", "show_all", is_flag=True, help="Include items already released into the store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@friendly_errors
def quarantine_list(store: str, show_all: bool, as_json: bool) -> None:
    """List quarantined items: id, where it came from and why it was held.

    Example:

        triage quarantine list --store triage.db
    """
    from triage.store.db import Store

    with Store(store) as db:
        rows = db.quarantined(None if show_all else "held")
    if as_json:
        for row in rows:
            click.echo(json.dumps({**row, "created_at": row["created_at"].isoformat()}, default=str))
        return
    if not rows:
        click.echo("Nothing is in quarantine.")
        return
    from triage.summary import format_quarantine

    click.echo(format_quarantine(rows))


@quarantine.command("show")
@click.argument("item_id", type=int)
@store_option
@click.option("--raw", is_flag=True, help="Write the item's raw bytes to standard output.")
@friendly_errors
def quarantine_show(item_id: int, store: str, raw: bool) -> None:
    """Show one quarantined item: source, reason and the start of its raw bytes.

    Example:

        triage quarantine show 3 --raw > held-message.eml
    """
    from triage.store.db import Store

    with Store(store) as db:
        row = db.quarantine_item(item_id)
    if row is None:
        raise TriageError(f"there is no quarantined item {item_id}; `triage quarantine list` shows them.")
    if raw:
        sys.stdout.buffer.write(row["raw"])
        return
    click.echo(f"Item:     {row['id']} ({row['status']})")
    click.echo(f"Source:   {row['source']}")
    click.echo(f"Reason:   {row['reason']}")
    click.echo(f"Held at:  {row['created_at']:%Y-%m-%d %H:%M} UTC")
    click.echo(f"Size:     {len(row['raw'])} bytes")
    preview = row["raw"][:600].decode("utf-8", "replace")
    click.echo("--- first bytes ---")
    click.echo(preview)


@quarantine.command("retry")
@click.argument("item_ids", nargs=-1, type=int, required=True)
@store_option
@friendly_errors
def quarantine_retry(item_ids: tuple[int, ...], store: str) -> None:
    """Try to read quarantined items again; those that now parse move into the store.

    Example:

        triage quarantine retry 3 4
    """
    from triage.jobs import retry_quarantined
    from triage.store.db import Store

    failed = 0
    with Store(store) as db:
        for qid in item_ids:
            ok, detail = retry_quarantined(db, qid)
            click.echo(("Released: " if ok else "Held: ") + detail)
            failed += not ok
    if failed:
        sys.exit(1)


# -- classifier ---------------------------------------------------------------------------
@cli.command()
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
@click.option("--json", "as_json", is_flag=True, help="Print the dev metrics as JSON.")
@friendly_errors
def train(config_file: Path, with_reviews: bool, as_json: bool) -> None:
    """Train the classifier on training_data/train and report it on training_data/dev.

    Deterministic: the same data and config give the same model and metrics. Writes
    models/<name>/model.joblib, its sidecar model.json (checksum, versions, data hash, config,
    metrics) and the model card MODEL.md.

    With --with-reviews, staff decisions exported by `triage export-reviews` are added to the
    training split (never to dev or test).

    Example:

        triage train --config pipelines/train.toml --with-reviews
    """
    from triage.classify.evaluate import format_report
    from triage.classify.train import load_config
    from triage.classify.train import train as run_training

    folder, metrics = run_training(load_config(config_file), with_reviews=with_reviews)
    if as_json:
        click.echo(json.dumps(metrics))
    else:
        click.echo(format_report(metrics, "dev"))
        click.echo(f"\nModel written to {folder}")


@cli.command()
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


@cli.command()
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
    from triage.classify.service import inputs_from_file, load_model, prediction_json

    model, _ = load_model(model_dir)
    for path in files:
        if not path.exists():
            raise TriageError(f"{path}: no such file or folder.")
        batch = list(inputs_from_file(path))
        for prediction in model.predict(batch):
            click.echo(json.dumps(prediction_json(prediction), ensure_ascii=False))


# -- deadlines ----------------------------------------------------------------------------
@cli.command()
@click.option(
    "--received", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Date received (stage 2: the escalation request)."
)
@click.option("--acknowledged", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date acknowledged, if it has been.")
@click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern-ireland"]),
    default="england",
    show_default=True,
    help="Whose bank holidays count.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the dates as JSON.")
def deadlines(received: Any, acknowledged: Any, nation: str, as_json: bool) -> None:
    """Complaint Handling Code deadlines in working days, for stage 1 and stage 2.

    Acknowledge-by is 5 working days after receipt (6.2) or the escalation request (6.11);
    respond-by is 10 (stage 1, 6.3) or 20 (stage 2, 6.14) working days after the acknowledgement
    (or after the acknowledge-by date when --acknowledged is not given); the extended date adds the
    longest extension the Code allows without good reason (6.4, 6.15).

    Example:

        triage deadlines --received 2026-12-24 --nation wales --json
    """
    from triage.route.deadlines import RULES, stage_deadlines

    ack = acknowledged.date() if acknowledged else None
    result = {f"stage{n}": stage_deadlines(n, received.date(), ack, nation) for n in (1, 2)}
    if as_json:
        click.echo(json.dumps({k: v.as_dict() for k, v in result.items()}))
        return
    click.echo(f"Received {received:%a %d %b %Y}, working days in {nation.replace('-', ' ').title()}:")
    for n, d in ((1, result["stage1"]), (2, result["stage2"])):
        ack_rule, resp_rule = RULES[f"stage{n}_acknowledge"], RULES[f"stage{n}_respond"]
        click.echo(
            f"  stage {n}: acknowledge by {d.acknowledge_by:%a %d %b %Y} ({ack_rule.working_days} working days, Code {ack_rule.code})"
        )
        click.echo(
            f"           respond by     {d.respond_by:%a %d %b %Y} ({resp_rule.working_days} working days, Code {resp_rule.code})"
        )
        click.echo(f"           extended, at most {d.extended_respond_by:%a %d %b %Y} (+{resp_rule.extension_working_days})")


@cli.command()
@click.argument("register", type=click.Path(path_type=Path))
@click.option(
    "--map",
    "map_file",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML column map; without it the columns reference, received, category, text, service_area are used.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("audit"),
    show_default=True,
    help="Folder for audit.csv (the flagged contacts) and audit.html.",
)
@click.option(
    "--model", "model_dir", type=click.Path(path_type=Path), default=None, help="Model folder (default models/default)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the flagged references with their rule and evidence as JSON.")
@friendly_errors
def audit(register: Path, map_file: Path | None, out_dir: Path, model_dir: Path | None, as_json: bool) -> None:
    """Audit a landlord's register (CSV or XLSX) for ghost stages.

    Classifies each contact's text and reports those recorded outside the complaints process
    ("service request", "informal resolution", "stage 0", "MP enquiry", ...) whose text reads as
    a complaint, with counts by recorded category and service area, and the list with evidence.
    Rows with no date or no text are listed, not dropped.

    Example:

        triage audit register-2025.xlsx --map pipelines/register-map.toml --out audit/
    """
    from triage.classify.service import load_model
    from triage.route.audit import audit as run_audit
    from triage.route.audit import load_map, write_csv, write_html

    if not register.exists():
        raise TriageError(f"{register}: no such register file.")
    model, _ = load_model(model_dir)
    result = run_audit(register, load_map(map_file), model)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(result, out_dir / "audit.csv")
    write_html(result, out_dir / "audit.html")
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    click.echo(
        f"{len(result.entries)} contacts; {len(result.flagged)} flagged as possible ghost stages; "
        f"{len(result.bad_rows)} rows could not be read."
    )
    for category, c in result.counts("category").items():
        click.echo(f"  {category:24} {c['contacts']:>5} contacts  {c['flagged']:>4} flagged")
    for bad in result.bad_rows:
        click.echo(f"  row {bad['row']} ({bad['reference'] or 'no reference'}): {bad['reason']}")
    click.echo(f"Written: {out_dir / 'audit.csv'}, {out_dir / 'audit.html'}")


@cli.command()
@store_option
@click.option("--area", default=None, help="Service-area queue, e.g. 'Repairs and Maintenance'.")
@click.option("--kind", type=click.Choice(["complaint", "service_request", "mp_enquiry", "compliment", "other"]), default=None)
@click.option("--flag", default=None, help="A flag type (ghost_stage, hazard, vulnerability, survey_dissatisfaction) or rule.")
@click.option("--due-within", type=int, default=None, help="Due within N days from today (overdue included).")
@click.option("--overdue", is_flag=True, help="Only items whose due date has passed.")
@click.option(
    "--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Treat this date as today (for reports and tests)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def queue(
    store: str,
    area: str | None,
    kind: str | None,
    flag: str | None,
    due_within: int | None,
    overdue: bool,
    today: Any,
    as_json: bool,
) -> None:
    """List a work queue, soonest due first: what to do, by when, and why it was flagged.

    Example:

        triage queue --store triage.db --area "Repairs and Maintenance" --flag hazard --due-within 5
    """
    from datetime import date, timedelta

    from triage.message import UK
    from triage.store.db import Store

    day = today.date() if today else date.today()
    due_before = day - timedelta(days=1) if overdue else (day + timedelta(days=due_within) if due_within is not None else None)
    with Store(store) as db:
        rows = db.queue(area, kind, due_before)
    if flag:
        rows = [r for r in rows if any(flag in (f["type"], f["rule"]) for f in r["flags"] + r["case_flags"])]
    for r in rows:
        flags = ",".join(sorted({f["rule"] for f in r["flags"] + r["case_flags"]}))
        if as_json:
            click.echo(
                json.dumps(
                    {
                        **r,
                        "received_at": r["received_at"].isoformat() if r["received_at"] else None,
                        "due_date": r["due_date"].isoformat() if r["due_date"] else None,
                    },
                    default=str,
                )
            )
            continue
        due = f"{r['due_date']:%d %b}" + (" OVERDUE" if r["due_date"] < day else "") if r["due_date"] else "-"
        received = f"{r['received_at'].astimezone(UK):%d %b %H:%M}" if r["received_at"] else "-"
        on_case = f"case #{r['case_pk']} ({r['case_stage']})" if r["case_pk"] else "no case"
        click.echo(f"#{r['id']:<6} due {due:<14} {r['kind']:<16} {r['queue']:<24} rcvd {received}  {r['subject'][:50]}")
        click.echo(f"        {on_case}")
        if r["due_what"] or flags:
            click.echo(f"        {r['due_what']}" + (f"  [{flags}]" if flags else ""))
    if not rows and not as_json:
        click.echo("Nothing in this queue.")


# -- cases -------------------------------------------------------------------------------
nation_option = click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern-ireland"]),
    default="england",
    show_default=True,
    help="Whose bank holidays count.",
)
date_type = click.DateTime(["%Y-%m-%d"])


@cli.group()
def case() -> None:
    """Cases: the messages about one issue, its stage and its history of events.

    Example:

        triage case list --store triage.db --stage service_request
    """


@case.command("list")
@store_option
@click.option("--stage", type=click.Choice(["none", "service_request", "stage_1", "stage_2", "closed"]), default=None)
@click.option("--resident", default=None, help="Sender address (or respondent:REF for survey answers).")
@click.option("--overdue", is_flag=True, help="Only cases whose next Code deadline has passed.")
@click.option("--flagged", is_flag=True, help="Only cases with a recorded breach (late, or an extension beyond the Code).")
@click.option("--today", type=date_type, default=None, help="Treat this date as today.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def case_list(
    store: str, stage: str | None, resident: str | None, overdue: bool, flagged: bool, today: Any, as_json: bool
) -> None:
    """List cases, most recent contact first, with their stage and next deadline.

    Example:

        triage case list --store triage.db --overdue
    """
    from datetime import date

    from triage.cases import list_cases
    from triage.store.db import Store

    day = today.date() if today else date.today()
    with Store(store) as db:
        rows = list_cases(db, stage, resident, day if overdue else None, flagged)
    for r in rows:
        if as_json:
            click.echo(json.dumps(r, default=str))
            continue
        due = f"due {r['due_date']:%d %b %Y}" + (" OVERDUE" if r["due_date"] < day else "") if r["due_date"] else "nothing due"
        click.echo(f"case #{r['id']:<5} {r['stage']:<16} {r['messages']:>3} msg  {due:<24} {r['title'][:60]}")
        if r["due_what"]:
            click.echo(f"             {r['due_what']}")
    if not rows and not as_json:
        click.echo("No cases match.")


@case.command("show")
@click.argument("case_id", type=int)
@store_option
@nation_option
@click.option("--today", type=date_type, default=None, help="Treat this date as today (for breaches).")
@click.option("--json", "as_json", is_flag=True, help="Print the case as one JSON object.")
@friendly_errors
def case_show(case_id: int, store: str, nation: str, today: Any, as_json: bool) -> None:
    """Show a case: its messages and why each is linked, its events, next deadline and flags,
    the commitments its responses made (overdue ones flagged) and its learning outcomes.

    Example:

        triage case show 12 --store triage.db
    """
    from dataclasses import asdict

    from triage.cases import get_case
    from triage.message import UK
    from triage.store.db import Store

    with Store(store) as db:
        data = get_case(db, case_id, today.date() if today else None, nation)
        promised, learnt = _case_learning(db, case_id) if data is not None else ([], [])
    if data is None:
        raise TriageError(f"there is no case #{case_id}. List cases with: triage case list")
    day = _day(today)
    if as_json:
        extra = {"commitments": [c.as_dict(day, nation) for c in promised], "learning_outcomes": [o.as_dict() for o in learnt]}
        click.echo(json.dumps({**data, "events": [asdict(e) for e in data["events"]], **extra}, default=str))
        return
    merged = f" (merged into case #{data['merged_into']})" if data["merged_into"] else ""
    click.echo(f"case #{case_id}{merged}: {data['title']}")
    click.echo(f"  stage {data['stage']}; resident {data['resident'] or '-'}; themes {', '.join(data['themes']) or '-'}")
    if data["references"]:
        click.echo(f"  references: {', '.join(data['references'])}")
    due = f"{data['due_date']:%a %d %b %Y}: {data['due_what']}" if data["due_date"] else "nothing"
    click.echo(f"  next due: {due}")
    click.echo("Messages:")
    for m in data["messages"]:
        when = f"{m['received_at'].astimezone(UK):%d %b %Y %H:%M}" if m["received_at"] else "undated"
        click.echo(f"  #{m['id']:<6} {when}  {m['sender_addr']:<32} {m['subject'][:50]}")
        click.echo(f"          linked by {m['rule']}: {m['reason']}")
    click.echo("Events:")
    for e in data["events"]:
        extra = f" to {e.extended_to}" if e.extended_to else ""
        extra += f", outcome {e.outcome}" if e.outcome else ""
        extra += f": {e.reason}" if e.reason else ""
        click.echo(f"  {e.on}  {e.event:<17} {e.stage:<16} by {e.recorded_by}{extra}")
    if not data["events"]:
        click.echo("  none recorded")
    for f in data["flags"]:
        click.echo(f"Flag {f['rule']} (Code {f['code']}): {f['reason']}")
        for line in f["evidence"]:
            click.echo(f"    {line}")
    _echo_case_learning(promised, learnt, day, nation)


@case.command("event")
@click.argument("case_id", type=int)
@click.argument("event", type=click.Choice(["received", "acknowledged", "responded", "escalated", "extension_agreed", "closed"]))
@click.option("--on", "on", type=date_type, required=True, help="The date it happened.")
@click.option(
    "--stage",
    type=click.Choice(["service_request", "stage_1", "stage_2"]),
    default=None,
    help="The stage it concerns (default: the case's current formal stage; 'escalated' is stage 2).",
)
@click.option("--extended-to", type=date_type, default=None, help="extension_agreed: the new respond-by date.")
@click.option("--reason", default="", help="Why (required for an extension), or a note.")
@click.option("--outcome", type=click.Choice(["upheld", "partly_upheld", "not_upheld"]), default=None, help="On 'responded'.")
@click.option("--by", "by", required=True, help="Who is recording it.")
@store_option
@nation_option
@friendly_errors
def case_event(
    case_id: int,
    event: str,
    on: Any,
    stage: str | None,
    extended_to: Any,
    reason: str,
    outcome: str | None,
    by: str,
    store: str,
    nation: str,
) -> None:
    """Record what happened on a case: received (at a stage), acknowledged, responded,
    escalated, extension_agreed (with --extended-to and --reason), closed.

    The case's stage and next deadline follow from its events. Logging a service request as
    a stage 1 complaint is 'received --stage stage_1'.

    Example:

        triage case event 12 acknowledged --on 2026-11-24 --by "J Okafor" --store triage.db
    """
    from triage.cases import Event, get_case, record_event
    from triage.store.db import Store

    with Store(store) as db:
        current = get_case(db, case_id, nation=nation)
        if current is None:
            raise TriageError(f"there is no case #{case_id}. List cases with: triage case list")
        if stage is None:
            stage = "stage_2" if event == "escalated" or current["stage"] == "stage_2" else "stage_1"
        record_event(
            db,
            case_id,
            Event(
                event,
                stage,
                on.date(),
                extended_to.date() if extended_to else None,
                reason,
                outcome,
                recorded_by=by,
            ),
            nation,
        )
        after = get_case(db, case_id, nation=nation)
    assert after is not None
    due = f"next due {after['due_date']}: {after['due_what']}" if after["due_date"] else "nothing due"
    click.echo(f"case #{case_id}: {event} recorded; stage {after['stage']}; {due}.")
    for f in after["flags"]:
        click.echo(f"Flag {f['rule']} (Code {f['code']}): {'; '.join(f['evidence'])}")


@case.command("split")
@click.argument("case_id", type=int)
@click.argument("message_ids", type=int, nargs=-1, required=True)
@click.option("--by", "by", required=True, help="Who is splitting it.")
@store_option
@nation_option
@friendly_errors
def case_split(case_id: int, message_ids: tuple[int, ...], by: str, store: str, nation: str) -> None:
    """Move messages that are about another issue from a case to a new case.

    Example:

        triage case split 12 40 41 --by "J Okafor" --store triage.db
    """
    from triage.cases import split_case
    from triage.store.db import Store

    with Store(store) as db:
        new = split_case(db, case_id, list(message_ids), by, nation)
    click.echo(f"{len(message_ids)} message(s) moved from case #{case_id} to the new case #{new}.")


@case.command("merge")
@click.argument("into", type=int)
@click.argument("other", type=int)
@click.option("--by", "by", required=True, help="Who is merging them.")
@store_option
@nation_option
@friendly_errors
def case_merge(into: int, other: int, by: str, store: str, nation: str) -> None:
    """Merge case OTHER into case INTO: its messages, references and events move across.

    Example:

        triage case merge 12 15 --by "J Okafor" --store triage.db
    """
    from triage.cases import merge_cases
    from triage.store.db import Store

    with Store(store) as db:
        merge_cases(db, into, other, by, nation)
    click.echo(f"case #{other} merged into case #{into}.")


# -- learning ------------------------------------------------------------------------------
by_option = click.option("--by", "by", required=True, help="Who is recording it.")
today_option = click.option("--today", type=date_type, default=None, help="Treat this date as today (for reports and tests).")


def _day(value: Any) -> Any:
    from datetime import date

    return value.date() if value else date.today()


def _commitment_lines(c: Any, day: Any, nation: str) -> list[str]:
    lines = [
        f"#{c.id:<5} case {c.case_pk:<6} {c.status:<10} due {c.due:%a %d %b %Y}  {c.kind:<10} {c.owner or '-':<24} {c.what[:60]}"
    ]
    if flags := "; ".join(c.flags(day, nation)):
        lines.append(f"       {flags.upper() if c.overdue(day, nation) else flags}")
    if not c.tracked:
        lines.append("       not tracked: no response recorded on the case yet")
    return lines


def _case_learning(db: Any, case_id: int) -> tuple[list[Any], list[Any]]:
    """A case's commitments and learning outcomes, for ``triage case show``."""
    from triage.learning import list_commitments, list_outcomes

    return list_commitments(db, case_pk=case_id), list_outcomes(db, case_pk=case_id)


def _echo_case_learning(promised: list[Any], learnt: list[Any], day: Any, nation: str) -> None:
    if promised:
        click.echo("Commitments:")
        for c in promised:
            for line in _commitment_lines(c, day, nation):
                click.echo(f"  {line}")
    if learnt:
        click.echo("Learning outcomes:")
        for o in learnt:
            click.echo(f"  {o.reference} {o.risk} {o.status}: {o.description[:80]}")


def _outcome_line(o: Any, today: Any) -> str:
    target = f"target {o.target_date:%d %b %Y}" if o.target_date else "no target"
    if o.past_target(today):
        target += " PAST"
    cases = ", ".join(c.ref + ("" if c.case_pk is not None else " (no case)") for c in o.cases) or "-"
    return (
        f"{o.reference:<10} {o.risk:<6} {o.status:<12} {target:<22} {o.service_area or '-':<24} {o.theme or '-':<16} "
        f"cases {cases}\n           {o.description[:90]}"
    )


@cli.group()
def learning() -> None:
    """Learning outcomes: what a complaint taught, the action, its owner, risk and target.

    Example:

        triage learning list --status open --risk red
    """


@learning.command("add")
@click.option("--description", required=True, help="What went wrong.")
@click.option("--action", default="", help="What will change.")
@click.option("--action-type", type=click.Choice(ACTION_TYPES), default="other", show_default=True, help="The kind of change.")
@click.option("--area", default="", help="The service area that owns the action, e.g. 'Repairs and Maintenance'.")
@click.option("--theme", default="", help="One of triage's themes, e.g. damp_mould.")
@click.option(
    "--risk",
    type=click.Choice(RISKS),
    required=True,
    help="Risk of a repeat complaint or an Ombudsman finding if not done.",
)
@click.option("--target", type=date_type, default=None, help="Target date for the action.")
@click.option("--identified", type=date_type, default=None, help="Date the learning was identified (default today).")
@click.option("--case", "case_refs", multiple=True, help="A case id or the landlord's case reference; repeat for more.")
@click.option("--reference", default="", help="Your reference for it (default LO-<number>).")
@store_option
@by_option
@friendly_errors
def learning_add(
    description: str,
    action: str,
    action_type: str,
    area: str,
    theme: str,
    risk: str,
    target: Any,
    identified: Any,
    case_refs: tuple[str, ...],
    reference: str,
    store: str,
    by: str,
) -> None:
    """Record a learning outcome against one or more cases.

    Example:

        triage learning add --case 12 --case CMP-10417 --risk red --area "Repairs and Maintenance" --theme damp_mould --description "Mould reports closed without an inspection" --action "Inspect every mould report within 10 working days" --action-type process --target 2027-01-29 --by "J Okafor"
    """
    from triage.learning.records import CaseLink, Outcome, add_outcome, normalise_area, normalise_theme
    from triage.store.db import Store

    chosen = normalise_theme(theme)
    if chosen is None:
        from triage.labels import THEMES

        raise TriageError(f"--theme {theme!r} is not one of triage's themes: {', '.join(THEMES)}.")
    outcome = Outcome(
        description=description.strip(),
        action=action.strip(),
        action_type=action_type,
        service_area=normalise_area(area),
        theme=chosen,
        risk=risk,
        identified=_day(identified),
        target_date=target.date() if target else None,
        cases=[CaseLink(ref) for ref in case_refs],
        reference=reference.strip(),
    )
    with Store(store) as db:
        stored = add_outcome(db, outcome, by)
    click.echo(f"Recorded learning outcome {stored.reference} ({stored.risk}).")
    for link in stored.cases:
        click.echo(f"  case {link.ref}: case {link.case_pk}")


@learning.command("list")
@store_option
@click.option("--status", type=click.Choice(OUTCOME_STATUSES), default=None)
@click.option("--risk", type=click.Choice(RISKS), default=None)
@click.option("--area", default=None, help="Service area.")
@click.option("--case", "case_pk", type=int, default=None, help="Only outcomes linked to this case id.")
@click.option("--past-target", is_flag=True, help="Only open outcomes past their target date.")
@today_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def learning_list(
    store: str,
    status: str | None,
    risk: str | None,
    area: str | None,
    case_pk: int | None,
    past_target: bool,
    today: Any,
    as_json: bool,
) -> None:
    """List learning outcomes, oldest identified first, with their cases.

    Example:

        triage learning list --past-target --area "Repairs and Maintenance"
    """
    from triage.learning.records import list_outcomes
    from triage.store.db import Store

    day = _day(today)
    with Store(store) as db:
        found = list_outcomes(
            db, status=status, risk=risk, area=area, case_pk=case_pk, past_target_on=day if past_target else None
        )
    for o in found:
        click.echo(json.dumps(o.as_dict()) if as_json else _outcome_line(o, day))
    if not found and not as_json:
        click.echo("No learning outcomes match.")


@learning.command("done")
@click.argument("outcome")
@click.option("--on", "on", type=date_type, default=None, help="Date implemented (default today).")
@store_option
@by_option
@friendly_errors
def learning_done(outcome: str, on: Any, store: str, by: str) -> None:
    """Mark a learning outcome implemented (by its reference or number).

    Example:

        triage learning done LO-0003 --on 2027-01-20 --by "J Okafor"
    """
    from triage.learning.records import mark_implemented
    from triage.store.db import Store

    with Store(store) as db:
        done = mark_implemented(db, outcome, _day(on), by)
    click.echo(f"Learning outcome {done.reference} implemented on {done.implemented:%d %b %Y}.")


@learning.command("drop")
@click.argument("outcome")
@click.option("--reason", required=True, help="Why it will not be done.")
@click.option("--on", "on", type=date_type, default=None, help="Date dropped (default today).")
@store_option
@by_option
@friendly_errors
def learning_drop(outcome: str, reason: str, on: Any, store: str, by: str) -> None:
    """Drop a learning outcome that will not be done, with the reason.

    Example:

        triage learning drop LO-0004 --reason "Superseded by the new repairs policy (LO-0007)" --by "J Okafor"
    """
    from triage.learning.records import drop_outcome
    from triage.store.db import Store

    with Store(store) as db:
        dropped = drop_outcome(db, outcome, reason, _day(on), by)
    click.echo(f"Learning outcome {dropped.reference} dropped: {dropped.dropped_reason}")


@learning.command("import")
@click.argument("log_file", type=click.Path(path_type=Path))
@click.option("--map", "map_file", type=click.Path(path_type=Path), default=None, help="TOML column map for another layout.")
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to keep the rows that could not be imported (default <file>-rejected.csv beside the log).",
)
@store_option
@by_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@friendly_errors
def learning_import(log_file: Path, map_file: Path | None, rejects: Path | None, store: str, by: str, as_json: bool) -> None:
    """Import a landlord's learning log (CSV or XLSX); importing it again updates it.

    Default columns: reference, cases, description, action, action_type, service_area, theme,
    risk, identified, target_date, status, implemented, dropped_on, dropped_reason. Rows that cannot be
    imported are listed with their row numbers and kept in a rejects file to correct.

    Example:

        triage learning import learning-log-2026.xlsx --map pipelines/learning-map.toml --by "J Okafor"
    """
    from triage.learning.io import header_of, import_log, load_map, write_rejects
    from triage.store.db import Store

    if not log_file.exists():
        raise TriageError(f"{log_file}: no such learning log file.")
    learning_map = load_map(map_file)
    with Store(store) as db, db.transaction() as conn:
        result = import_log(conn, log_file, learning_map, by)
    if result.bad_rows:
        rejects = rejects or log_file.with_name(f"{log_file.stem}-rejected.csv")
        write_rejects(result, rejects, header_of(log_file))
    if as_json:
        click.echo(json.dumps({**result.as_json(), "rejects": str(rejects) if result.bad_rows else None}))
        return
    click.echo(
        f"{log_file}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged, {len(result.bad_rows)} not imported."
    )
    for bad in result.bad_rows:
        click.echo(f"  row {bad['row']} ({bad['reference'] or 'no reference'}): {bad['reason']}")
    for u in result.unmatched_cases[:10]:
        click.echo(f"  row {u['row']} ({u['reference']}): case {u['case']!r} matches no case; kept as given")
    if len(result.unmatched_cases) > 10:
        click.echo(
            f"  ... and {len(result.unmatched_cases) - 10} more case references that match no case (--json lists them all)"
        )
    if result.bad_rows:
        click.echo(f"Rows not imported are kept in {rejects}: correct them there and import that file.")


@learning.command("export")
@click.argument("out_file", type=click.Path(path_type=Path))
@click.option("--map", "map_file", type=click.Path(path_type=Path), default=None, help="TOML column map: write that layout.")
@click.option("--status", type=click.Choice(OUTCOME_STATUSES), default=None)
@store_option
@friendly_errors
def learning_export(out_file: Path, map_file: Path | None, status: str | None, store: str) -> None:
    """Export learning outcomes as CSV or XLSX (by the file's extension), ready to import again.

    Example:

        triage learning export learning-log.xlsx --status open
    """
    from triage.learning.io import export_log, load_map
    from triage.learning.records import list_outcomes
    from triage.store.db import Store

    learning_map = load_map(map_file)
    with Store(store) as db:
        found = list_outcomes(db, status=status)
    export_log(found, out_file, learning_map)
    click.echo(f"Written {len(found)} learning outcomes to {out_file}.")


@cli.group()
def commitment() -> None:
    """Commitments a complaint response made: what, owner, due date, tracked to done.

    Example:

        triage commitment list --overdue
    """


@commitment.command("add")
@click.option("--case", "case_pk", type=int, required=True, help="The case id.")
@click.option("--what", required=True, help="What was promised.")
@click.option("--kind", type=click.Choice(COMMITMENT_KINDS), required=True)
@click.option("--owner", default="", help="Who will do it (a person or team).")
@click.option("--due", type=date_type, default=None, help="Due date.")
@click.option("--within", type=int, default=None, help="Or: due this many working days after the response.")
@click.option(
    "--made-on", type=date_type, default=None, help="Date of the response that promised it (default: the case's latest response)."
)
@nation_option
@store_option
@by_option
@friendly_errors
def commitment_add(
    case_pk: int,
    what: str,
    kind: str,
    owner: str,
    due: Any,
    within: int | None,
    made_on: Any,
    nation: str,
    store: str,
    by: str,
) -> None:
    """Record a commitment made in a complaint response, with its owner and due date.

    Example:

        triage commitment add --case 12 --what "Replace the back door" --kind repair --owner "Repairs and Maintenance" --within 10 --by "J Okafor"
    """
    from triage.learning.commitments import add_commitment
    from triage.store.db import Store

    with Store(store) as db:
        c = add_commitment(
            db,
            case_pk,
            what,
            kind,
            owner=owner,
            due=due.date() if due else None,
            within=within,
            made_on=made_on.date() if made_on else None,
            by=by,
            nation=nation,
        )
    tracked = f"made in the response of {c.made_on:%d %b %Y}" if c.made_on else "not tracked until a response is recorded"
    click.echo(f"Recorded commitment {c.id} on case {c.case_pk}: {c.kind}, due {c.due:%a %d %b %Y}; {tracked}.")


@commitment.command("list")
@store_option
@click.option("--case", "case_pk", type=int, default=None, help="Only this case.")
@click.option("--status", type=click.Choice(COMMITMENT_STATUSES), default=None)
@click.option("--overdue", is_flag=True, help="Only open commitments past their due date.")
@click.option("--no-evidence", is_flag=True, help="Only commitments closed without evidence of completion.")
@nation_option
@today_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def commitment_list(
    store: str, case_pk: int | None, status: str | None, overdue: bool, no_evidence: bool, nation: str, today: Any, as_json: bool
) -> None:
    """List commitments, soonest due first, with what is overdue or closed without evidence.

    Example:

        triage commitment list --overdue --nation wales
    """
    from triage.learning.commitments import list_commitments
    from triage.store.db import Store

    day = _day(today)
    with Store(store) as db:
        found = list_commitments(db, case_pk=case_pk, status=status)
    if overdue:
        found = [c for c in found if c.overdue(day, nation)]
    if no_evidence:
        found = [c for c in found if c.closed_without_evidence]
    for c in found:
        if as_json:
            click.echo(json.dumps(c.as_dict(day, nation)))
            continue
        for line in _commitment_lines(c, day, nation):
            click.echo(line)
    if not found and not as_json:
        click.echo("No commitments match.")


@commitment.command("done")
@click.argument("commitment_id", type=int)
@click.option("--evidence", default="", help="How it is known to be done: job number, report, payment reference, call log.")
@click.option(
    "--no-evidence", is_flag=True, help="Close it with no evidence; it is flagged as closed without evidence of completion."
)
@click.option("--on", "on", type=date_type, default=None, help="Date done (default today).")
@store_option
@by_option
@friendly_errors
def commitment_done(commitment_id: int, evidence: str, no_evidence: bool, on: Any, store: str, by: str) -> None:
    """Mark a commitment done, with evidence of completion (or --no-evidence, which is flagged).

    Example:

        triage commitment done 7 --evidence "Job 44812 completed 14 Jan, photos on file" --by "J Okafor"
    """
    from triage.learning.commitments import close_commitment
    from triage.store.db import Store

    with Store(store) as db:
        c = close_commitment(db, commitment_id, _day(on), evidence=evidence, no_evidence=no_evidence, by=by)
    click.echo(
        f"Commitment {c.id} done on {c.done_on:%d %b %Y}"
        + (f": {c.evidence}" if c.evidence else "; flagged: closed without evidence of completion.")
    )


@commitment.command("cancel")
@click.argument("commitment_id", type=int)
@click.option("--reason", required=True, help="Why it no longer applies.")
@store_option
@by_option
@friendly_errors
def commitment_cancel(commitment_id: int, reason: str, store: str, by: str) -> None:
    """Cancel a commitment that no longer applies, with the reason.

    Example:

        triage commitment cancel 7 --reason "Resident moved out; the new tenancy has its own repair order" --by "J Okafor"
    """
    from triage.learning.commitments import cancel_commitment
    from triage.store.db import Store

    with Store(store) as db:
        c = cancel_commitment(db, commitment_id, reason, by=by)
    click.echo(f"Commitment {c.id} cancelled: {c.cancelled_reason}")


# -- report ---------------------------------------------------------------------------------
@cli.command()
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day of the report (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day of the report (YYYY-MM-DD).")
@click.option(
    "--by", type=click.Choice(["month", "quarter"]), default="month", show_default=True, help="Period of the trend tables."
)
@click.option(
    "--register", type=click.Path(path_type=Path), default=None, help="A landlord's register (CSV or XLSX) to report on."
)
@click.option(
    "--map",
    "map_file",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML column map for the register (as for triage audit); without it the columns are reference, received, "
    "category, stage, service_area, themes, acknowledged, responded, extension_agreed, outcome, text.",
)
@click.option("--homes", type=click.IntRange(min=1), default=None, help="Homes owned, for complaints per 1,000 homes (CH01).")
@click.option(
    "--store",
    default=None,
    help="SQLite file or postgresql:// URL. Default: triage.db, or the pipeline's store, unless only --register is given.",
)
@click.option(
    "--pipeline",
    "pipeline_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Take the store, nation and homes from a pipeline file.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("report"),
    show_default=True,
    help="Folder for the report files.",
)
@friendly_errors
def report(
    start: Any,
    end: Any,
    by: str,
    register: Path | None,
    map_file: Path | None,
    homes: int | None,
    store: str | None,
    pipeline_file: Path | None,
    out_dir: Path,
) -> None:
    """Write report.html, report.xlsx and report.json: complaints, themes and trends.

    Volumes by kind over time; complaints by stage, service area and theme; theme trends with
    significant rises and falls marked; outcomes; responses within Code timescales (CH02);
    complaints per 1,000 homes (CH01); ghost-stage, vulnerability and hazard flags; redacted
    examples. All three files come from one computation. Over the store, a register, or both.

    Example:

        triage report --from 2025-04-01 --to 2026-03-31 --by quarter --homes 4200 --store triage.db --out report/
    """
    from triage.report import make_report, write_report

    nation = "england"
    if pipeline_file is not None:
        from triage.pipeline import load as load_pipeline

        job = load_pipeline(pipeline_file)
        store = store or job.store_url()
        homes = homes or job.pipeline.homes
        nation = job.pipeline.nation
    if store is None and register is None:
        store = DEFAULT_STORE
    result = make_report(
        start.date(), end.date(), by=by, store=store, register=register, map_file=map_file, homes=homes, nation=nation
    )
    files = write_report(result, out_dir)
    figures = {f.id: f.value for f in result.figures}
    click.echo(
        f"{figures['contacts']} contacts; {figures['stage1']} stage 1 and {figures['stage2']} stage 2 complaints; "
        f"CH02 stage 1 {_shown(figures['ch02_stage1'])}%, stage 2 {_shown(figures['ch02_stage2'])}%."
    )
    problems = result.table("register_problems").rows
    if problems:
        click.echo(f"{len(problems)} register rows have problems (listed in the report):", err=True)
        for row_number, reference, reason in problems:
            click.echo(f"  row {row_number} ({reference or 'no reference'}): {reason}", err=True)
    click.echo(f"Written: {files.html}, {files.xlsx}, {files.json}")


def _shown(value: object) -> str:
    return "–" if value is None else str(value)


# -- review app ---------------------------------------------------------------------------
@cli.command()
@click.option("--store", default=None, help="SQLite file or postgresql:// URL (default: the store of pipelines/sample.toml).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on. Keep 127.0.0.1 unless behind TLS.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Send cookies without the Secure flag (plain http on a name other than localhost/127.0.0.1).",
)
@click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern-ireland"]),
    default="england",
    show_default=True,
    help="Whose bank holidays count for the deadlines shown.",
)
@friendly_errors
def serve(store: str | None, host: str, port: int, insecure_cookies: bool, nation: str) -> None:
    """Run the staff review web app (sign in, confirm and correct, agreement, audit trail).

    Example:

        triage user add alex --role admin
        triage serve --port 8000
    """
    from triage.review import Settings, create_app
    from triage.review.server import default_store, make_server, open_store

    url = store or default_store()
    app = create_app(open_store(url), Settings(secure_cookies=not insecure_cookies, nation=nation))
    server = make_server(app, host, port)
    click.echo(f"Review app for {url} on http://{host}:{port}/ (Ctrl+C stops it)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@cli.group()
def user() -> None:
    """Review-app accounts: add, list, disable.

    Example:

        triage user add alex --role admin --store triage.db
    """


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "admin"]), default="reviewer", show_default=True)
@click.option("--password-env", default=None, help="Read the password from this environment variable instead of asking.")
@store_option
@friendly_errors
def user_add(name: str, role: str, password_env: str | None, store: str) -> None:
    """Add an account; the password is asked for (twice) unless --password-env names a variable.

    Example:

        TRIAGE_PW='a long passphrase' triage user add sam --role reviewer --password-env TRIAGE_PW
    """
    import os

    from triage.review.auth import add_user
    from triage.store.db import Store

    if password_env:
        if not os.environ.get(password_env):
            raise TriageError(
                f"the environment variable {password_env} is not set or is empty. Set it, or leave out --password-env."
            )
        password = os.environ[password_env]
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Store(store) as db:
        made = add_user(db, name, password, role)
    click.echo(f"Added {made.name} ({made.role}).")


@user.command("list")
@store_option
@friendly_errors
def user_list(store: str) -> None:
    """List accounts with their role and whether they are disabled.

    Example:

        triage user list --store triage.db
    """
    from triage.review.auth import list_users
    from triage.store.db import Store

    with Store(store) as db:
        people = list_users(db)
    for p in people:
        click.echo(f"{p['name']:<24} {p['role']:<9} {'disabled' if p['disabled'] else 'active'}")
    if not people:
        click.echo("No users yet: triage user add NAME --role admin")


@user.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@store_option
@friendly_errors
def user_disable(name: str, enable: bool, store: str) -> None:
    """Disable an account (its sessions end at once), or enable it again.

    Example:

        triage user disable sam --store triage.db
    """
    from triage.review.auth import list_users, set_disabled
    from triage.store.db import Store

    with Store(store) as db:
        found = [p for p in list_users(db) if p["name"] == name]
        if not found:
            raise TriageError(f"there is no user called {name!r}; `triage user list` shows them.")
        set_disabled(db, found[0]["id"], not enable)
    click.echo(f"{'Enabled' if enable else 'Disabled'} {name}.")


@cli.command("export-reviews")
@store_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("training_data/reviews/reviews.jsonl"),
    show_default=True,
    help="JSONL file to write (training_data/reviews/ is what `triage train --with-reviews` reads).",
)
@friendly_errors
def export_reviews(store: str, out: Path) -> None:
    """Write confirmed and corrected items as training data, with personal data redacted.

    Names, emails, phone numbers, addresses, postcodes and reference numbers become [NAME],
    [EMAIL], [PHONE], [ADDRESS], [POSTCODE] and [REF]. Each message's latest decision is used.

    Example:

        triage export-reviews --store triage.db && triage train --with-reviews
    """
    from triage.review.export import export_reviews as run_export
    from triage.store.db import Store

    with Store(store) as db:
        counts = run_export(db, out)
    click.echo(
        f"Wrote {counts['confirmed'] + counts['corrected']} reviewed items to {out} "
        f"({counts['confirmed']} confirmed, {counts['corrected']} corrected)."
    )


def main() -> None:  # console-script entry point
    cli()


if __name__ == "__main__":
    main()
