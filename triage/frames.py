"""Tidy pandas DataFrames for analysts, with the report's own definitions.

    messages(store, start, end)    one row per message received in the range, with its newest
                                   classification (what the report's volumes and themes count)
    cases(start, end, store=..., register=...)
                                   one row per complaint per stage (what CH01, CH02 and the
                                   outcomes count), with the Code's deadlines and whether each
                                   was met, on the same rules as the report
    learning(store, start, end)    one row per learning outcome identified in the range, with its
                                   status at the period end and to date

``store`` is a SQLite path, a ``postgresql://`` URL or an open :class:`~triage.store.db.Store`.
Dates are ``datetime.date`` (UK local days); ``received_at`` is a UTC timestamp. pandas is imported
here only, so the pipeline does not pay for it.

Example::

    from datetime import date
    from triage import frames

    c = frames.cases(date(2025, 4, 1), date(2026, 3, 31), store="triage.db")
    answered = c[c.responded_in_range]
    answered.groupby("stage").within_with_extension.mean() * 100   # CH02, the TSM basis
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from triage.store.db import Store
from triage.store.schema import classifications
from triage.store.schema import messages as messages_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["cases", "learning", "messages"]

MESSAGE_COLUMNS = [
    "message_pk",
    "received_at",
    "received_on",
    "channel",
    "kind",
    "dissatisfied",
    "dissatisfied_score",
    "themes",
    "queue",
    "needs_review",
    "flag_types",
]
CASE_COLUMNS = [
    "reference",
    "stage",
    "received",
    "acknowledged",
    "responded",
    "extension_agreed",
    "extended_to",
    "outcome",
    "service_area",
    "themes",
    "reopenings",
    "received_in_range",
    "responded_in_range",
    "acknowledge_by",
    "respond_by",
    "acknowledged_within",
    "within",
    "within_with_extension",
]
LEARNING_COLUMNS = [
    "reference",
    "risk",
    "theme",
    "service_area",
    "identified",
    "target_date",
    "status",
    "implemented",
    "status_at_period_end",
    "status_as_at",
    "past_target_at_period_end",
]


@contextlib.contextmanager
def _opened(store: str | Path | Store) -> Iterator[Store]:
    if isinstance(store, Store):
        yield store
        return
    from triage.errors import InputError

    if "://" not in str(store) and not Path(store).exists():
        raise InputError(f"{store}: no such store. Give the store triage run filled.")
    with Store(str(store)) as opened:
        yield opened


def messages(store: str | Path | Store, start: date, end: date) -> pd.DataFrame:
    """Messages received from ``start`` to ``end`` (UK days, inclusive) with their newest
    classification; a message re-classified by a newer model appears once, as in the report."""
    import pandas as pd

    from triage.report.inputs import Period, _latest_classification

    lo, hi = Period("", start, end).utc_bounds()
    m, c = messages_table, classifications
    query = (
        select(m.c.id, m.c.received_at, m.c.channel, c.c.kind, c.c.dissatisfied, c.c.dissatisfied_score, c.c.themes)
        .add_columns(c.c.queue, c.c.needs_review, c.c.flags)
        .select_from(m.join(c, c.c.message_pk == m.c.id))
        .order_by(m.c.received_at, m.c.id)
    )
    with _opened(store) as db, db.engine.connect() as conn:
        query = query.where(and_(m.c.received_at >= lo, m.c.received_at < hi, _latest_classification(conn)))
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=[col for col in MESSAGE_COLUMNS if col not in ("received_on", "flag_types")] + ["flags"])
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    frame["received_on"] = frame["received_at"].dt.tz_convert("Europe/London").dt.date
    frame["themes"] = frame["themes"].map(lambda t: list(t or []))
    frame["flag_types"] = frame.pop("flags").map(lambda fs: sorted({f["type"] for f in fs or []}))
    return frame[MESSAGE_COLUMNS]


def cases(
    start: date,
    end: date,
    *,
    store: str | Path | Store | None = None,
    register: Path | None = None,
    map_file: Path | None = None,
    nation: str = "england",
) -> pd.DataFrame:
    """Complaint stages behind CH01, CH02 and the outcomes: from the store's case events, a
    register, or both. ``received_in_range`` rows are what CH01 counts; ``responded_in_range``
    rows the TSM CH02 basis; ``within_with_extension`` is the report's CH02 test."""
    import pandas as pd

    from triage.report.figures import timeliness
    from triage.report.inputs import _latest_classification, _store_complaints, from_register, make_periods
    from triage.route.deadlines import stage_deadlines

    periods = make_periods(start, end, "month")
    stages = []
    if register is not None:
        from triage.route.audit import load_map

        stages += from_register(register, load_map(map_file), periods).complaints
    if store is not None:
        with _opened(store) as db, db.engine.connect() as conn:
            stages += _store_complaints(conn, periods, _latest_classification(conn))
    rows: list[list[Any]] = []
    for c in stages:
        d = stage_deadlines(c.stage, c.received, c.acknowledged, nation)
        strict, extended = timeliness(c, nation) if c.responded else (False, False)
        rows.append(
            [
                c.reference,
                c.stage,
                c.received,
                c.acknowledged,
                c.responded,
                c.extension_agreed,
                c.extended_to,
                c.outcome,
                c.service_area,
                list(c.themes),
                c.reopenings,
                start <= c.received <= end,
                c.responded is not None and start <= c.responded <= end,
                d.acknowledge_by,
                d.respond_by,
                c.acknowledged is not None and c.acknowledged <= d.acknowledge_by,
                strict,
                extended,
            ]
        )
    return pd.DataFrame(rows, columns=CASE_COLUMNS)


def learning(store: str | Path | Store, start: date, end: date, *, as_at: date | None = None) -> pd.DataFrame:
    """Learning outcomes identified from ``start`` to ``end``, with their status at the period end
    and as at ``as_at`` (default today), as the report's learning tables count them."""
    import pandas as pd

    from triage.learning.figures import load_records

    as_at = as_at or date.today()
    with _opened(store) as db:
        records = load_records(db)
    rows = [
        [
            o.reference,
            o.risk,
            o.theme,
            o.service_area,
            o.identified,
            o.target_date,
            o.status,
            o.implemented,
            o.status_on(end),
            o.status_on(as_at),
            o.past_target(end),
        ]
        for o in records.outcomes
        if start <= o.identified <= end
    ]
    return pd.DataFrame(rows, columns=LEARNING_COLUMNS)
