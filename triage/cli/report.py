"""``triage report``: the complaints report (HTML, XLSX, JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from triage.cli.common import DEFAULT_STORE, date_type, friendly_errors, store_opt


class _Homes(click.ParamType):
    """A whole number of homes, with or without thousands separators."""

    name = "N"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        from triage.ingest.register import ValueProblem, count_value

        try:
            homes = count_value(value)
        except ValueProblem:
            homes = None
        if not homes:
            self.fail(f"{value!r} is not a number of homes: give a whole number such as 5035 or 5,035.", param, ctx)
        return homes


homes_type = _Homes()


@click.command()
@click.option("--from", "start", type=date_type, required=True, help="First day of the report (YYYY-MM-DD).")
@click.option("--to", "end", type=date_type, required=True, help="Last day of the report (YYYY-MM-DD).")
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
@click.option(
    "--homes",
    type=homes_type,
    default=None,
    help="Homes owned, for complaints per 1,000 homes (CH01); 5035 or 5,035.",
)
@click.option(
    "--basis",
    type=click.Choice(["responded", "received"]),
    default="responded",
    show_default=True,
    help="Headline CH02 and outcomes over complaints responded to in the range (the TSM CH02 basis) or received in it; "
    "the other is shown beside it, labelled.",
)
@click.option(
    "--as-at",
    "as_at",
    type=date_type,
    default=None,
    help="Count learning outcomes implemented to this day (YYYY-MM-DD; default today), beside those implemented by the "
    "period end.",
)
@click.option(
    "--annual",
    is_flag=True,
    help="Also write annual.html/.xlsx/.json: the Code 8.1 annual complaints performance and service improvement report "
    "(self-assessment pre-filled from the data; what triage cannot know from the files below, else marked to be written).",
)
@click.option(
    "--ombudsman-findings",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="--annual (c): a text file of the Ombudsman's findings of non-compliance.",
)
@click.option(
    "--ombudsman-reports",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="--annual (e): a text file on the Ombudsman's reports about the landlord.",
)
@click.option(
    "--governing-body-response",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="--annual (f): a text file of the governing body's response.",
)
@store_opt(
    None, "SQLite file or postgresql:// URL. Default: triage.db, or the pipeline's store, unless only --register is given."
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
    basis: str,
    as_at: Any,
    annual: bool,
    ombudsman_findings: Path | None,
    ombudsman_reports: Path | None,
    governing_body_response: Path | None,
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
        triage report --from 2023-04-01 --to 2024-03-31 --register register.xlsx --map map.toml --basis received
        triage report --from 2025-04-01 --to 2026-03-31 --annual --governing-body-response board.txt --homes 4200
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
        start.date(),
        end.date(),
        by=by,
        store=store,
        register=register,
        map_file=map_file,
        homes=homes,
        nation=nation,
        basis=basis,
        as_at=as_at.date() if as_at else None,
    )
    files = write_report(result, out_dir)
    figures = {f.id: f.value for f in result.figures}
    other = "received" if basis == "responded" else "responded"
    ch02 = [
        f"stage {s} {_shown(figures[f'ch02_stage{s}'])}% ({basis} basis; {other} basis {_shown(figures[f'ch02_stage{s}_{other}'])}%)"
        for s in (1, 2)
    ]
    click.echo(
        f"{figures['contacts']} contacts; {figures['stage1']} stage 1 and {figures['stage2']} stage 2 complaints; "
        f"CH02 {ch02[0]}, {ch02[1]}."
    )
    problems = result.table("register_problems").rows
    if problems:
        click.echo(f"{len(problems)} register rows have problems (listed in the report):", err=True)
        for row_number, reference, column, value, reason in problems:
            where = f"column {column!r}, value {value!r}" if value else f"column {column!r}"
            click.echo(f"  row {row_number} ({reference or 'no reference'}), {where}: {reason}", err=True)
    click.echo(f"Written: {files.html}, {files.xlsx}, {files.json}")
    if annual:
        from triage.report.annual import AnnualTexts, write_annual

        texts = AnnualTexts(ombudsman_findings, ombudsman_reports, governing_body_response)
        _, paths = write_annual(result, out_dir, texts)
        click.echo(f"Annual report (Code 8.1): {', '.join(str(p) for p in paths)}")


def _shown(value: object) -> str:
    return "–" if value is None else str(value)
