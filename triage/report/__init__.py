"""Theme-trend and complaints performance reports for the learning review and the governing
body (Code 8.1, 9.6, 9.7).

    inputs.py    the store and/or a register -> Inputs (counts and complaint stages)
    figures.py   Inputs -> Report: sections of tables with definitions, computed once
    trends.py    the rising/falling test          charts.py  inline SVG
    html.py      report.html   xlsx.py  report.xlsx   json_out.py  report.json

``make_report`` is the one library call behind ``triage report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from triage.report.figures import Report, compute
from triage.report.inputs import Inputs, from_register, from_store, make_periods

__all__ = ["Report", "ReportFiles", "compute", "make_report", "write_report"]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    report: Report
    html: Path
    xlsx: Path
    json: Path


def make_report(
    start: date,
    end: date,
    *,
    by: str = "month",
    store: str | None = None,
    register: Path | None = None,
    map_file: Path | None = None,
    homes: int | None = None,
    nation: str = "england",
    basis: str = "responded",
    as_at: date | None = None,
) -> Report:
    """Compute the report over the store, a register, or both (their counts add up)."""
    from triage.errors import InputError

    periods = make_periods(start, end, by)
    parts: list[Inputs] = []
    if register is not None:
        from triage.route.audit import load_map

        parts.append(from_register(register, load_map(map_file), periods))
    if store is not None:
        from triage.store.db import Store

        if "://" not in store and not Path(store).exists():
            raise InputError(
                f"{store}: no such store. Give the store triage run filled (--store or --pipeline), or report on a register."
            )

        with Store(store) as db:
            parts.append(from_store(db, periods))
    if not parts:
        raise InputError("Nothing to report on: give --store, --register, or both.")
    inputs = parts[0]
    for more in parts[1:]:
        inputs = inputs + more
    return compute(inputs, by=by, homes=homes, nation=nation, basis=basis, as_at=as_at)


def write_report(report: Report, out_dir: Path) -> ReportFiles:
    """report.html, report.xlsx and report.json in ``out_dir``, all from ``report``."""
    from triage.report.html import write_html
    from triage.report.json_out import write_json
    from triage.report.xlsx import write_xlsx

    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(report, out_dir / "report.html", out_dir / "report.xlsx", out_dir / "report.json")
    write_html(report, files.html)
    write_xlsx(report, files.xlsx)
    write_json(report, files.json)
    return files
