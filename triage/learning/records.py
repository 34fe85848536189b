"""Learning outcomes in the store: record, read, implement, drop, and link them to cases.

A learning outcome is what a complaint taught the landlord: what went wrong, the action (a
policy, process or procedure change, training, a contractor discussion, ...), the owning service
area, a risk rating (red / amber / green: the risk of a repeat complaint or an Ombudsman finding
if it is not done), a target date and a status (open, implemented, or dropped with a reason).

Every function takes an open SQLAlchemy connection (``Store.transaction()``), or a ``Store``.
Values are checked here, once, for the CLI, the import and the review app alike.
"""

from __future__ import annotations

import contextlib
import functools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from triage.errors import InputError
from triage.labels import ACTION_TYPES, OUTCOME_STATUSES, RISKS, THEMES
from triage.store.schema import case_refs, cases, learning_outcome_cases, learning_outcomes

EDITABLE = (
    "description",
    "action",
    "action_type",
    "service_area",
    "theme",
    "risk",
    "identified",
    "target_date",
    "status",
    "implemented",
    "dropped_on",
    "dropped_reason",
)


@dataclass
class CaseLink:
    ref: str  # as given: a case id ("12") or the landlord's reference ("CMP-10417")
    case_pk: int | None = None  # the case it matched, if any


@dataclass
class Outcome:
    description: str
    risk: str
    identified: date
    reference: str = ""  # blank: LO-<id> is given when it is recorded
    action: str = ""
    action_type: str = "other"
    service_area: str = ""
    theme: str = ""
    target_date: date | None = None
    status: str = "open"
    implemented: date | None = None
    dropped_on: date | None = None
    dropped_reason: str = ""
    cases: list[CaseLink] = field(default_factory=list)
    source: str = "recorded"
    source_detail: str = ""
    id: int | None = None

    def status_on(self, day: date) -> str:
        """The status as it stood at the end of ``day``. An implemented or dropped outcome
        with no date counts as implemented or dropped on every day."""
        if self.status == "implemented" and (self.implemented is None or self.implemented <= day):
            return "implemented"
        if self.status == "dropped" and (self.dropped_on is None or self.dropped_on <= day):
            return "dropped"
        return "open"

    def past_target(self, day: date) -> bool:
        return self.status_on(day) == "open" and self.target_date is not None and self.target_date < day

    def as_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("id", "reference", *EDITABLE, "source", "source_detail")}
        data = {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}
        data["cases"] = [{"ref": c.ref, "case": c.case_pk} for c in self.cases]
        return data


# -- checking values -----------------------------------------------------------------------
def _key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower().replace("&", " and ").replace(" and ", " "))


_THEME_KEYS = {_key(t): t for t in THEMES}


def normalise_theme(text: str) -> str | None:
    """A theme from THEMES however it is written ("Damp & mould", "damp_mould"), "" for blank,
    None when it is not one."""
    text = text.strip()
    return "" if not text else _THEME_KEYS.get(_key(text))


def normalise_choice(text: str, allowed: tuple[str, ...]) -> str | None:
    value = text.strip().lower().replace(" ", "_").replace("-", "_")
    return value if value in allowed else None


@functools.cache
def _queues() -> dict[str, str]:
    from triage.route.routing import load_table

    table = load_table()
    names = {table.default_queue, table.complaints_register, *(r.queue for r in table.rules)}
    return {n.lower(): n for n in names}


def normalise_area(text: str) -> str:
    """A service area as the routing table spells it when it names one; otherwise as given."""
    text = " ".join(text.split())
    return _queues().get(text.lower(), text)


def problems(o: Outcome) -> list[str]:
    """What is wrong with an outcome, as phrases a person can act on ([] when it can be stored)."""
    found = []
    if not o.description.strip():
        found.append("no description of what went wrong")
    if not o.risk:
        found.append("no risk rating (red, amber or green)")
    elif o.risk not in RISKS:
        found.append(f"risk {o.risk!r} is not one of {', '.join(RISKS)}")
    if o.action_type not in ACTION_TYPES:
        found.append(f"action type {o.action_type!r} is not one of {', '.join(ACTION_TYPES)}")
    if o.theme and o.theme not in THEMES:
        found.append(f"theme {o.theme!r} is not one of triage's themes ({', '.join(THEMES)})")
    if o.status not in OUTCOME_STATUSES:
        found.append(f"status {o.status!r} is not one of {', '.join(OUTCOME_STATUSES)}")
    if o.status == "dropped" and not o.dropped_reason.strip():
        found.append("dropped with no reason")
    if o.dropped_on and o.status != "dropped":
        found.append(f"a dropped date but status {o.status!r}")
    if o.implemented and o.status != "implemented":
        found.append(f"an implemented date but status {o.status!r}")
    if o.target_date and o.target_date < o.identified:
        found.append("target date before the date identified")
    if o.implemented and o.implemented < o.identified:
        found.append("implemented before the date identified")
    return found


# -- cases ---------------------------------------------------------------------------------
_CASE_LABEL = re.compile(r"(?i)^\s*(?:case\s*)?#\s*(\d+)\s*$|^\s*case\s+(\d+)\s*$")


def resolve_case(conn: Connection, text: str) -> int | None:
    """The case a cell names. "#12", "case #12" or "case 12" (how triage labels cases) is case
    12; anything else is a case reference first (matched as ``triage.cases`` stores them, so
    "[#1234]" is a helpdesk tag), then a plain case id ("12"). A merged case resolves to the
    case it was merged into. None when nothing matches."""
    from triage.cases.records import live_case
    from triage.cases.rules import normalise_reference

    pk = None
    if m := _CASE_LABEL.match(text):
        pk = conn.scalar(select(cases.c.id).where(cases.c.id == int(m.group(1) or m.group(2))))
    ref = normalise_reference(text.strip().strip("[]"))
    if not ref:
        return None
    if pk is None:
        pk = conn.scalar(select(case_refs.c.case_pk).where(case_refs.c.ref == ref).order_by(case_refs.c.case_pk).limit(1))
    if pk is None and ref.isdigit():
        pk = conn.scalar(select(cases.c.id).where(cases.c.id == int(ref)))
    return None if pk is None else live_case(conn, pk)


# -- writing -------------------------------------------------------------------------------
@contextlib.contextmanager
def connect(conn_or_store: Any) -> Iterator[Connection]:
    """Use a caller's connection as it is, or open a transaction on a Store."""
    if isinstance(conn_or_store, Connection):
        yield conn_or_store
    else:
        with conn_or_store.transaction() as conn:
            yield conn


def _now() -> datetime:
    return datetime.now(UTC)


def _row(o: Outcome) -> dict[str, Any]:
    return {k: getattr(o, k) for k in EDITABLE}


def _check(o: Outcome) -> None:
    if found := problems(o):
        where = f"learning outcome {o.reference}" if o.reference else "the learning outcome"
        raise InputError(f"{where}: {'; '.join(found)}. Correct it and try again.")


def _link_cases(conn: Connection, outcome_pk: int, refs: list[str]) -> list[CaseLink]:
    conn.execute(delete(learning_outcome_cases).where(learning_outcome_cases.c.outcome_pk == outcome_pk))
    links, seen = [], set()
    for ref in refs:
        ref = ref.strip()
        if ref and ref not in seen:
            seen.add(ref)
            links.append(CaseLink(ref, resolve_case(conn, ref)))
    if links:
        conn.execute(
            insert(learning_outcome_cases),
            [{"outcome_pk": outcome_pk, "case_pk": c.case_pk, "case_ref": c.ref} for c in links],
        )
    return links


def add_outcome(conn_or_store: Any, outcome: Outcome, by: str, *, known_cases_only: bool = True) -> Outcome:
    """Record a new outcome; a blank reference becomes LO-<id>. Returns it as stored. Every case
    must exist unless ``known_cases_only`` is False (an imported log: unknown references are
    kept as text)."""
    _check(outcome)
    now = _now()
    with connect(conn_or_store) as conn:
        if outcome.reference and _find(conn, outcome.reference, by_number=False) is not None:
            raise InputError(
                f"there is already a learning outcome {outcome.reference}; choose another --reference or change the existing one."
            )
        pk = conn.execute(
            insert(learning_outcomes).values(
                reference=outcome.reference or f"pending-{uuid.uuid4().hex}",  # LO-<id> once the id is known
                source=outcome.source,
                source_detail=outcome.source_detail,
                created_at=now,
                created_by=by,
                updated_at=now,
                updated_by=by,
                **_row(outcome),
            )
        ).inserted_primary_key[0]
        reference = outcome.reference
        if not reference:
            reference, n = f"LO-{pk:04d}", 1
            while _find(conn, reference, by_number=False) is not None:  # an imported log may use LO- too
                reference, n = f"LO-{pk:04d}-{n}", n + 1
            conn.execute(update(learning_outcomes).where(learning_outcomes.c.id == pk).values(reference=reference))
        links = _link_cases(conn, pk, [c.ref for c in outcome.cases])
        unknown = [c.ref for c in links if c.case_pk is None]
        if known_cases_only and unknown:
            raise InputError(
                f"there is no case {', '.join(unknown)} (by id or case reference); `triage case list` shows them. "
                "Nothing was recorded."
            )
    return replace(outcome, id=pk, reference=reference, cases=links)


def save_outcome(conn: Connection, outcome: Outcome, by: str) -> str:
    """Add an outcome, or bring the one with the same reference up to date (an imported log
    imported again). Returns "added", "updated" or "unchanged"."""
    _check(outcome)
    existing = _find(conn, outcome.reference, by_number=False) if outcome.reference else None
    if existing is None:
        add_outcome(conn, outcome, by, known_cases_only=False)
        return "added"
    assert existing.id is not None
    same = _row(existing) == _row(outcome) and [c.ref for c in existing.cases] == [c.ref for c in outcome.cases]
    if same:
        if any(c.case_pk is None for c in existing.cases):  # a case may have been given that reference since
            _link_cases(conn, existing.id, [c.ref for c in outcome.cases])
        return "unchanged"
    conn.execute(
        update(learning_outcomes)
        .where(learning_outcomes.c.id == existing.id)
        .values(updated_at=_now(), updated_by=by, source_detail=outcome.source_detail, **_row(outcome))
    )
    _link_cases(conn, existing.id, [c.ref for c in outcome.cases])
    return "updated"


def mark_implemented(conn_or_store: Any, key: str, on: date, by: str) -> Outcome:
    with connect(conn_or_store) as conn:
        outcome = get_outcome(conn, key)
        if outcome.status == "dropped":
            raise InputError(
                f"learning outcome {outcome.reference} was dropped ({outcome.dropped_reason}); it cannot be implemented."
            )
        done = replace(outcome, status="implemented", implemented=on)
        _check(done)
        _update(conn, done, by)
    return done


def drop_outcome(conn_or_store: Any, key: str, reason: str, on: date, by: str) -> Outcome:
    with connect(conn_or_store) as conn:
        outcome = get_outcome(conn, key)
        if outcome.status == "implemented":
            raise InputError(f"learning outcome {outcome.reference} is already implemented; it cannot be dropped.")
        dropped = replace(outcome, status="dropped", dropped_on=on, dropped_reason=reason.strip())
        _check(dropped)
        _update(conn, dropped, by)
    return dropped


def _update(conn: Connection, o: Outcome, by: str) -> None:
    conn.execute(
        update(learning_outcomes).where(learning_outcomes.c.id == o.id).values(updated_at=_now(), updated_by=by, **_row(o))
    )


# -- reading -------------------------------------------------------------------------------
def _outcomes(conn: Connection, query: Any) -> list[Outcome]:
    rows = [dict(r) for r in conn.execute(query.order_by(learning_outcomes.c.identified, learning_outcomes.c.id)).mappings()]
    if not rows:
        return []
    links: dict[int, list[CaseLink]] = {}
    pks = [r["id"] for r in rows]
    for link in conn.execute(
        select(learning_outcome_cases).where(learning_outcome_cases.c.outcome_pk.in_(pks)).order_by(learning_outcome_cases.c.id)
    ).mappings():
        links.setdefault(link["outcome_pk"], []).append(CaseLink(link["case_ref"], link["case_pk"]))
    fields = ("id", "reference", *EDITABLE, "source", "source_detail")
    return [Outcome(**{k: r[k] for k in fields}, cases=links.get(r["id"], [])) for r in rows]


def _find(conn: Connection, key: str, *, by_number: bool = True) -> Outcome | None:
    """By reference; then, when ``by_number`` and no reference matches, by number."""
    key = key.strip()
    query = select(learning_outcomes).where(learning_outcomes.c.reference == key)
    found = _outcomes(conn, query)
    if not found and by_number and key.isdigit():
        found = _outcomes(conn, select(learning_outcomes).where(learning_outcomes.c.id == int(key)))
    return found[0] if found else None


def get_outcome(conn_or_store: Any, key: str) -> Outcome:
    """An outcome by its reference (LO-0003, or the landlord's) or its number."""
    with connect(conn_or_store) as conn:
        found = _find(conn, str(key))
    if found is None:
        raise InputError(f"there is no learning outcome {key}; `triage learning list` shows them.")
    return found


def list_outcomes(
    conn_or_store: Any,
    *,
    status: str | None = None,
    risk: str | None = None,
    area: str | None = None,
    case_pk: int | None = None,
    past_target_on: date | None = None,
) -> list[Outcome]:
    """Outcomes, oldest identified first, filtered by status, risk, service area, case, or
    open and past their target date on a given day."""
    query = select(learning_outcomes)
    if status:
        query = query.where(learning_outcomes.c.status == status)
    if risk:
        query = query.where(learning_outcomes.c.risk == risk)
    if area:
        query = query.where(learning_outcomes.c.service_area == normalise_area(area))
    if case_pk is not None:
        linked = select(learning_outcome_cases.c.outcome_pk).where(learning_outcome_cases.c.case_pk == case_pk)
        query = query.where(learning_outcomes.c.id.in_(linked))
    with connect(conn_or_store) as conn:
        found = _outcomes(conn, query)
    if past_target_on is not None:
        found = [o for o in found if o.past_target(past_target_on)]
    return found
