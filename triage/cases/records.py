"""Cases in the store: link messages to cases, record events, split and merge.

Every link says why it was made (``rule`` and ``reason``). A message is linked, in order, by
its thread (In-Reply-To / References), by a case reference in its subject or text, or by the
same resident writing about an overlapping theme within the window; otherwise it opens a case.
Which messages open a case is in the annotation guide (training_data/GUIDE.md, section 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from triage.cases.history import Contact, Event, breaches, check_event, clock, contact_flags, stage_of
from triage.cases.rules import CaseRules
from triage.errors import InputError
from triage.message import UK
from triage.route.flags import Flag
from triage.store.db import Store, as_utc
from triage.store.schema import (
    case_events,
    case_messages,
    case_refs,
    cases,
    classifications,
    commitments,
    learning_outcome_cases,
    messages,
)

OPENS_CASE = ("complaint", "service_request", "mp_enquiry")  # 'other', compliments and automated mail join only
RESIDENT_LINK_KINDS = ("complaint", "service_request", "compliment")  # an MP writes for many constituents


@dataclass(slots=True)
class Link:
    case_pk: int
    rule: str  # thread | reference | resident | new
    reason: str
    flags: list[Flag] = field(default_factory=list)


def label(case_pk: int) -> str:
    return f"case #{case_pk}"


def _now() -> datetime:
    return datetime.now(UTC)


# Statements on the linking path are built once: linking runs for every message, and building a
# statement costs more than SQLite takes to run it.
_MERGED_INTO = select(cases.c.merged_into).where(cases.c.id == bindparam("pk"))
_THREAD = (
    select(messages.c.message_id, messages.c.id, case_messages.c.case_pk)
    .join(case_messages, case_messages.c.message_pk == messages.c.id)
    .where(messages.c.message_id.in_(bindparam("ids", expanding=True)))
)
_REFERENCE = (
    select(case_refs.c.ref, case_refs.c.case_pk)
    .where(case_refs.c.ref.in_(bindparam("refs", expanding=True)))
    .order_by(case_refs.c.case_pk.desc())
)
_CONTACTS = (
    select(
        messages.c.id,
        messages.c.received_at,
        messages.c.subject,
        classifications.c.kind,
        classifications.c.dissatisfied,
        classifications.c.themes,
    )
    .join(case_messages, case_messages.c.message_pk == messages.c.id)
    .outerjoin(classifications, classifications.c.message_pk == messages.c.id)
    .where(case_messages.c.case_pk == bindparam("pk"), messages.c.automated.is_(None), case_messages.c.from_landlord.is_(False))
    .order_by(messages.c.received_at, messages.c.id, classifications.c.id)
)
_EVENTS = select(case_events).where(case_events.c.case_pk == bindparam("pk")).order_by(case_events.c.id)
_CASE_REFS = select(case_refs.c.ref).where(case_refs.c.case_pk == bindparam("pk"))
_UPDATE_CASE = update(cases).where(cases.c.id == bindparam("pk"))
_CASE_OF_MESSAGE = select(case_messages.c.case_pk).where(case_messages.c.message_pk == bindparam("pk"))
_INSERT = {t.name: insert(t) for t in (cases, case_events, case_messages, case_refs)}


def resident_key(msg: dict[str, Any]) -> str:
    """Who wrote: the sender address, or the survey respondent's reference."""
    if msg.get("channel") == "survey":
        return f"respondent:{msg['respondent_ref'].strip().upper()}" if msg.get("respondent_ref", "").strip() else ""
    return (msg.get("sender_addr") or "").strip().lower()


def live_case(conn: Connection, case_pk: int) -> int:
    """Follow merges to the case a merged case now lives in."""
    seen = set()
    while case_pk not in seen:
        seen.add(case_pk)
        into = conn.scalar(_MERGED_INTO, {"pk": case_pk})
        if into is None:
            return case_pk
        case_pk = into
    return case_pk


QUOTED_CHARS = 3000  # of the quoted thread, the latest reply or two: where a reference we sent would be


def _references(msg: dict[str, Any], rules: CaseRules) -> list[tuple[str, str]]:
    quoted = (msg.get("body_quoted") or "")[:QUOTED_CHARS]
    text = "\n".join([msg.get("subject") or "", msg.get("body_new") or "", quoted])
    return rules.references(text)


def _contacts_and_themes(conn: Connection, case_pk: int) -> tuple[list[Contact], set[str]]:
    """The case's resident contacts (not automatic mail, not the landlord's own), with whether
    each one's latest classification reads as a complaint, and the themes they carry. One query."""
    return _contacts_from(conn.execute(_CONTACTS, {"pk": case_pk}).all())


def _contacts_from(rows: list[Any]) -> tuple[list[Contact], set[str]]:
    """``_contacts_and_themes`` from the rows of ``_CONTACTS``."""
    latest = {r.id: r for r in rows}  # ordered by classification id: the last one wins
    themes: set[str] = set()
    people = []
    for r in latest.values():
        themes.update(r.themes or [])
        people.append(Contact(r.id, as_utc(r.received_at), r.kind == "complaint" or bool(r.dissatisfied), r.subject))
    return people, themes


def contacts(conn: Connection, case_pk: int) -> list[Contact]:
    return _contacts_and_themes(conn, case_pk)[0]


def events(conn: Connection, case_pk: int) -> list[Event]:
    return _events_of(conn.execute(_EVENTS, {"pk": case_pk}).mappings())


def _events_of(rows: Any) -> list[Event]:
    """Events from the rows (as mappings) of ``_EVENTS``."""
    return [
        Event(
            r["event"],
            r["stage"],
            r["on"],
            r["extended_to"],
            r["reason"],
            r["outcome"],
            r["message_pk"],
            r["recorded_by"],
            r["id"],
        )
        for r in rows
    ]


def _event_row(case_pk: int, e: Event) -> dict[str, Any]:
    return dict(
        case_pk=case_pk,
        event=e.event,
        stage=e.stage,
        on=e.on,
        extended_to=e.extended_to,
        reason=e.reason,
        outcome=e.outcome,
        message_pk=e.message_pk,
        recorded_at=_now(),
        recorded_by=e.recorded_by,
    )


def _insert_event(conn: Connection, case_pk: int, e: Event) -> int:
    return conn.execute(_INSERT["case_events"], _event_row(case_pk, e)).inserted_primary_key[0]


def refresh(conn: Connection, case_pk: int, nation: str = "england") -> None:
    """Recompute what is cached on the case (stage, themes, next clock, breaches, dates)."""
    people, themes = _contacts_and_themes(conn, case_pk)
    _write_case(conn, case_pk, events(conn, case_pk), people, themes, nation)


def _case_state(evs: list[Event], people: list[Contact], themes: set[str], nation: str) -> dict[str, Any]:
    """What is cached on a case (stage, themes, next clock, breaches, dates), from its events and contacts."""
    due_date, due_what = clock(evs, people, nation)
    dates = [c.received for c in people if c.received]
    return dict(
        stage=stage_of(evs),
        themes=sorted(themes),
        due_date=due_date,
        due_what=due_what,
        flags=[f.as_dict() for f in breaches(evs, people, None, nation)],
        opened_at=min(dates) if dates else None,
        last_contact_at=max(dates) if dates else None,
        updated_at=_now(),
    )


def _write_case(conn: Connection, case_pk: int, evs: list[Event], people: list[Contact], themes: set[str], nation: str) -> None:
    conn.execute(_UPDATE_CASE, dict(pk=case_pk, **_case_state(evs, people, themes, nation)))


def _opening_stage(msg: dict[str, Any], kind: str, on_register: bool) -> str | None:
    """The stage triage records when a message opens a case (GUIDE.md section 9)."""
    if msg.get("channel") == "survey":
        return None  # a survey answer is not logged as a complaint (Code 1.6)
    if on_register:
        return "stage_1"
    return "service_request" if kind == "service_request" else None


def cases_of_messages(conn: Connection, message_pks: list[int]) -> dict[int, int]:
    """The case each of these messages is on (those on none are left out): one query for a batch."""
    if not message_pks:
        return {}
    query = select(case_messages.c.message_pk, case_messages.c.case_pk).where(case_messages.c.message_pk.in_(message_pks))
    return {r.message_pk: r.case_pk for r in conn.execute(query)}


def link_message(
    conn: Connection,
    msg: dict[str, Any],
    kind: str,
    dissatisfied: bool,
    themes: list[str],
    on_register: bool,
    rules: CaseRules,
    nation: str = "england",
    on_case: dict[int, int] | None = None,
) -> Link | None:
    """Put a classified message on its case (opening one when it should) and return the link
    with the ghost-stage flags the case's history raises. None: the message stays off cases.
    ``on_case``: the cases of a batch's messages read beforehand (``cases_of_messages``, in this
    transaction), instead of one query per message. A batch is linked with ``BatchLinker``."""
    linker = BatchLinker(conn, rules, nation, [msg], on_case)
    link = linker.link(msg, kind, dissatisfied, themes, on_register)
    linker.flush()
    return link


@dataclass(slots=True)
class _Candidate:
    """What resident linking reads of a case (``_RESIDENT``), kept as the batch writes it."""

    id: int
    themes: list[str]
    last_contact_at: datetime | None


_RESIDENTS = select(cases.c.id, cases.c.resident, cases.c.themes, cases.c.last_contact_at).where(
    cases.c.resident.in_(bindparam("residents", expanding=True)), cases.c.merged_into.is_(None)
)
_RESIDENT_CASES = (
    select(cases.c.resident, func.count())
    .where(cases.c.resident.in_(bindparam("residents", expanding=True)), cases.c.merged_into.is_(None))
    .group_by(cases.c.resident)
)
_RESIDENT = (
    select(cases.c.id, cases.c.themes, cases.c.last_contact_at)
    .where(
        cases.c.resident == bindparam("resident"), cases.c.merged_into.is_(None), cases.c.last_contact_at >= bindparam("since")
    )
    .order_by(cases.c.last_contact_at.desc(), cases.c.id.desc())
)
MANY_CASES = 500  # a resident with more cases (a shared address) is looked up in the store per message
_OPEN_CASES = insert(cases).returning(cases.c.id, sort_by_parameter_order=True)
_FLUSH = {  # what a batch holds back, in the order it is written (after the cases it opened)
    "case_events": _INSERT["case_events"],
    "case_messages": _INSERT["case_messages"],
    "case_refs": _INSERT["case_refs"],
}


class BatchLinker:
    """Links a batch's messages to cases, in order, in one transaction that holds the cases lock
    (``CASES_LOCK``), with the links and reasons ``link_message`` gives one message at a time.

    Two things make a batch cheaper than its messages one by one. The cases of the batch's
    residents are read once and kept as the batch writes them, so resident linking asks the
    store nothing per message (but for a resident with more than ``MANY_CASES``, a shared
    address, whose cases are looked up per message as before, after writing what the batch holds). The cases it opens, their events, links and references are held
    back and each table written with one executemany, and each case's cached state once, when
    the batch ends (``flush``); a read that would see held-back rows writes them first, so every
    read sees what it would have seen had each row been written at once. A case opened and not
    yet written has a provisional id (negative), replaced by its own wherever it was given
    (its ``Link``, the rows held back) when it is written, and before any id of it is shown or
    compared."""

    def __init__(
        self,
        conn: Connection,
        rules: CaseRules,
        nation: str,
        msgs: list[dict[str, Any]],
        on_case: dict[int, int] | None = None,
    ) -> None:
        self.conn, self.rules, self.nation, self.on_case = conn, rules, nation, on_case
        self._held: dict[str, list[dict[str, Any]]] = {name: [] for name in _FLUSH}
        self._opened: dict[int, dict[str, Any]] = {}  # provisional id -> the new case's row, in order
        self._opened_links: list[Link] = []
        self._ids: dict[int, int] = {}  # provisional id -> the case's id once written
        self._states: dict[int, dict[str, Any]] = {}  # case -> what _write_case would write, the latest
        self._of_resident: dict[str, list[_Candidate]] = {}
        self._looked_up: set[str] = set()  # residents with MANY_CASES: _RESIDENT per message, as before
        self._candidates: dict[int, _Candidate] = {}
        self._load_residents([resident_key(m) for m in msgs])

    def _load_residents(self, residents: list[str]) -> None:
        """Read every case not merged of these residents, whatever its last contact (one the batch
        writes may come into the window): a case the batch writes is kept here if its resident is."""
        todo = sorted({r for r in residents if r and r not in self._of_resident and r not in self._looked_up})
        if not todo:
            return
        self._write_opened()  # the query must see the cases this batch opened
        counts = dict(self.conn.execute(_RESIDENT_CASES, {"residents": todo}).all())
        many = {r for r in todo if counts.get(r, 0) > MANY_CASES}
        self._looked_up |= many
        todo = [r for r in todo if r not in many]
        if not todo:
            return
        for resident in todo:
            self._of_resident[resident] = []
        for row in self.conn.execute(_RESIDENTS, {"residents": todo}):
            held = self._states.get(row.id)  # written by this batch, not yet in the store
            themes, last = (held["themes"], held["last_contact_at"]) if held else (row.themes or [], as_utc(row.last_contact_at))
            self._add_candidate(row.resident, row.id, themes, last)

    def _add_candidate(self, resident: str, case_pk: int, themes: list[str], last: datetime | None) -> None:
        if resident in self._of_resident:
            candidate = _Candidate(case_pk, themes, last)
            self._of_resident[resident].append(candidate)
            self._candidates[case_pk] = candidate

    def _read(self, tables: tuple[str, ...], stmt: Any, params: dict[str, Any]) -> Any:
        """Run a read after writing what the batch holds back of ``tables``."""
        for name in tables:
            self._write_held(name)
        return self.conn.execute(stmt, params)

    def _write_opened(self) -> None:
        """Write the cases opened since the last write, and give each its own id."""
        if not self._opened:
            return
        ids = list(self.conn.scalars(_OPEN_CASES, list(self._opened.values())))
        for provisional, case_pk in zip(self._opened, ids, strict=True):
            self._ids[provisional] = case_pk
            if (candidate := self._candidates.pop(provisional, None)) is not None:
                candidate.id = case_pk
                self._candidates[case_pk] = candidate
        for link in self._opened_links:
            link.case_pk = self._ids[link.case_pk]
        self._opened, self._opened_links = {}, []

    def _write_held(self, name: str) -> None:
        if rows := self._held[name]:
            self._write_opened()
            for row in rows:
                row["case_pk"] = self._ids.get(row["case_pk"], row["case_pk"])
            self.conn.execute(_FLUSH[name], rows)
            self._held[name] = []

    def flush(self) -> None:
        """Write what the batch holds back (call before the transaction commits)."""
        self._write_opened()
        for name in _FLUSH:
            self._write_held(name)
        self._write_states()

    def _write_states(self) -> None:
        if self._states:
            self.conn.execute(_UPDATE_CASE, [{"pk": pk, **state} for pk, state in self._states.items()])
            self._states = {}

    def _write_case(self, case_pk: int, evs: list[Event], people: list[Contact], themes: set[str]) -> None:
        state = _case_state(evs, people, themes, self.nation)
        if case_pk in self._opened:  # not written yet: it is written with this state
            self._opened[case_pk].update(state)
        else:
            self._states[case_pk] = state
        if (candidate := self._candidates.get(case_pk)) is not None:
            candidate.themes, candidate.last_contact_at = state["themes"], state["last_contact_at"]

    def _events(self, case_pk: int) -> list[Event]:
        return _events_of(self._read(("case_events",), _EVENTS, {"pk": case_pk}).mappings())

    def _contacts_and_themes(self, case_pk: int) -> tuple[list[Contact], set[str]]:
        return _contacts_from(self._read(("case_messages",), _CONTACTS, {"pk": case_pk}).all())

    def link(self, msg: dict[str, Any], kind: str, dissatisfied: bool, themes: list[str], on_register: bool) -> Link | None:
        """``link_message`` for the batch's next message."""
        conn, rules, nation = self.conn, self.rules, self.nation
        refs = _references(msg, rules)
        from_landlord = rules.from_landlord(msg.get("sender_addr") or "")
        is_contact = not from_landlord and not msg.get("automated")
        received = as_utc(msg.get("received_at"))
        new = Contact(msg["id"], received, kind == "complaint" or dissatisfied, msg.get("subject") or "")
        already = conn.scalar(_CASE_OF_MESSAGE, {"pk": msg["id"]}) if self.on_case is None else self.on_case.get(msg["id"])
        if already is not None:  # classified again (a new model): read the case as it was when it came
            return self._relink(already, new, is_contact)
        link = self._by_thread(msg) or self._by_reference(refs) or (self._by_resident(msg, kind, themes) if is_contact else None)
        evs: list[Event] = []
        people: list[Contact] = []
        case_themes: set[str] = set()
        written = False  # the case row already holds what _write_case would write
        if link is None:
            if kind not in OPENS_CASE or not is_contact:
                return None
            stage = _opening_stage(msg, kind, on_register)
            if stage is not None:
                why = "on the complaints register" if on_register else "classified a service request"
                evs.append(
                    Event(
                        "received",
                        stage,
                        (received or _now()).astimezone(UK).date(),  # the UK date: working days are UK days
                        reason=f"{why} (triage)",
                        message_pk=msg["id"],
                        recorded_by="triage",
                    )
                )
            # A new case is written whole at once (its first event and contact are known here).
            state = _case_state(evs, [new], set(themes), nation)
            resident = "" if kind == "mp_enquiry" else resident_key(msg)
            title = (msg.get("subject") or "")[:200]
            case_pk = -1 - len(self._ids) - len(self._opened)  # provisional until written
            self._opened[case_pk] = dict(resident=resident, title=title, **state)
            self._add_candidate(resident, case_pk, state["themes"], state["last_contact_at"])
            written = True
            link = Link(case_pk, "new", "no earlier message of its thread, reference or resident and theme")
            self._opened_links.append(link)
            self._held["case_events"] += [_event_row(case_pk, opened) for opened in evs]
        else:
            evs = self._events(link.case_pk)
            people, case_themes = self._contacts_and_themes(link.case_pk)
            if is_contact:
                link.flags = contact_flags(evs, people, new, rules, label(link.case_pk), nation)
        self._held["case_messages"].append(
            dict(
                message_pk=msg["id"],
                case_pk=link.case_pk,
                rule=link.rule,
                reason=link.reason,
                from_landlord=from_landlord,
                linked_at=_now(),
                linked_by="triage",
            )
        )
        if refs:
            known = set() if written else {r for (r,) in self._read(("case_refs",), _CASE_REFS, {"pk": link.case_pk})}
            self._held["case_refs"] += [{"case_pk": link.case_pk, "ref": ref} for ref, _ in refs if ref not in known]
        if is_contact:
            people.append(new)
            case_themes.update(themes)
        if not written:
            self._write_case(link.case_pk, evs, people, case_themes)
        return link

    def _relink(self, case_pk: int, new: Contact, is_contact: bool) -> Link:
        """A message already on a case, classified again: its history flags are worked out against
        the contacts before it, and the case is refreshed with its new classification."""
        evs = self._events(case_pk)
        people, themes = self._contacts_and_themes(case_pk)
        earlier = [c for c in people if c.pk != new.pk and (c.received, c.pk) < (new.received, new.pk)] if new.received else []
        flags = contact_flags(evs, earlier, new, self.rules, label(case_pk), self.nation) if is_contact else []
        self._write_case(case_pk, evs, people, themes)
        return Link(case_pk, "already", f"already on {label(case_pk)}", flags)

    def _by_thread(self, msg: dict[str, Any]) -> Link | None:
        ids = [i for i in [msg.get("in_reply_to"), *reversed(msg.get("references") or [])] if i]
        if not ids:
            return None
        rows = self._read(("case_messages",), _THREAD, {"ids": ids}).all()
        found = {r.message_id: r for r in rows}
        for i in ids:
            if i in found:
                case_pk = live_case(self.conn, found[i].case_pk)
                return Link(case_pk, "thread", f"replies to message #{found[i].id} ({i}) on {label(case_pk)}")
        return None

    def _by_reference(self, refs: list[tuple[str, str]]) -> Link | None:
        if not refs:
            return None
        rows = self._read(("case_refs",), _REFERENCE, {"refs": [r for r, _ in refs]}).all()
        by_ref = {}
        for r in rows:
            by_ref.setdefault(r.ref, r.case_pk)
        for ref, written in refs:
            if ref in by_ref:
                case_pk = live_case(self.conn, by_ref[ref])
                return Link(case_pk, "reference", f"case reference {written!r} matches {label(case_pk)}")
        return None

    def _by_resident(self, msg: dict[str, Any], kind: str, themes: list[str]) -> Link | None:
        """``_RESIDENT`` on the cases kept for the batch: not merged, last contact within the
        window, latest first."""
        resident = resident_key(msg)
        received = as_utc(msg.get("received_at"))
        if not resident or not themes or kind not in RESIDENT_LINK_KINDS or msg.get("automated") or received is None:
            return None
        since = received - timedelta(days=self.rules.window_days)
        self._load_residents([resident])
        if resident in self._looked_up:
            self._write_opened()
            self._write_states()
            found = self.conn.execute(_RESIDENT, {"resident": resident, "since": since})
            rows = [_Candidate(r.id, r.themes or [], as_utc(r.last_contact_at)) for r in found]
        else:
            within = [c for c in self._of_resident[resident] if c.last_contact_at is not None and c.last_contact_at >= since]
            if any(c.id < 0 for c in within):
                self._write_opened()  # their ids order them, and name the case linked to
            rows = sorted(within, key=lambda c: (c.last_contact_at, c.id), reverse=True)
        for r in rows:
            shared = sorted(set(themes) & set(r.themes or []))
            if shared:
                last = r.last_contact_at
                days = (received - last).days if last else 0
                return Link(
                    r.id,
                    "resident",
                    f"same resident ({resident}) about {', '.join(shared)}, {days} days after the last contact on {label(r.id)}",
                )
        return None


# -- staff actions ---------------------------------------------------------------------------
def _require_case(conn: Connection, case_pk: int) -> None:
    row = conn.execute(select(cases.c.merged_into).where(cases.c.id == case_pk)).first()
    if row is None:
        raise InputError(f"there is no case #{case_pk}. List cases with: triage case list")
    if row.merged_into is not None:
        raise InputError(f"case #{case_pk} was merged into case #{row.merged_into}: work on that case instead.")


def record_event(store: Store, case_pk: int, event: Event, nation: str = "england") -> int:
    """Record what happened on a case (validated against its current stage); returns the event id."""
    if event.event == "escalated" and event.stage != "stage_2":
        event = replace(event, stage="stage_2")  # an escalation starts stage 2, whatever a form defaulted to
    with store.transaction() as conn:
        _require_case(conn, case_pk)
        evs = events(conn, case_pk)
        check_event(event, stage_of(evs))
        event_id = _insert_event(conn, case_pk, event)
        refresh(conn, case_pk, nation)
    return event_id


def case_of_message(store: Store, message_pk: int) -> int | None:
    with store.engine.connect() as conn:
        return conn.scalar(select(case_messages.c.case_pk).where(case_messages.c.message_pk == message_pk))


def get_case(store: Store, case_pk: int, today: date | None = None, nation: str = "england") -> dict[str, Any] | None:
    """The case with its messages (and why each is linked), events, next clock and flags
    (breaches as of ``today``)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == case_pk)).mappings().first()
        if row is None:
            return None
        data = dict(row)
        evs, people = events(conn, case_pk), contacts(conn, case_pk)
        data["events"] = evs
        data["messages"] = [
            dict(r)
            for r in conn.execute(
                select(
                    messages.c.id,
                    messages.c.received_at,
                    messages.c.sender_addr,
                    messages.c.subject,
                    case_messages.c.rule,
                    case_messages.c.reason,
                    case_messages.c.linked_by,
                )
                .join(case_messages, case_messages.c.message_pk == messages.c.id)
                .where(case_messages.c.case_pk == case_pk)
                .order_by(messages.c.received_at, messages.c.id)
            ).mappings()
        ]
        data["references"] = [r for (r,) in conn.execute(select(case_refs.c.ref).where(case_refs.c.case_pk == case_pk))]
    for m in data["messages"]:
        m["received_at"] = as_utc(m["received_at"])
    for key in ("opened_at", "last_contact_at", "updated_at"):
        data[key] = as_utc(data[key])
    data["flags"] = [f.as_dict() for f in breaches(evs, people, today or date.today(), nation)]
    return data


def list_cases(
    store: Store,
    stage: str | None = None,
    resident: str | None = None,
    overdue_on: date | None = None,
    flagged: bool = False,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Cases (merged ones left out), most recent contact first; ``overdue_on`` keeps those whose
    next clock has passed on that day."""
    query = (
        select(cases, func.count(case_messages.c.message_pk).label("messages"))
        .outerjoin(case_messages, case_messages.c.case_pk == cases.c.id)
        .where(cases.c.merged_into.is_(None))
        .group_by(cases.c.id)
        .order_by(cases.c.last_contact_at.desc(), cases.c.id.desc())
        .limit(limit)
    )
    if stage:
        query = query.where(cases.c.stage == stage)
    if resident:
        query = query.where(cases.c.resident == resident.strip().lower())
    if overdue_on:
        query = query.where(cases.c.due_date < overdue_on)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    if flagged:
        rows = [r for r in rows if r["flags"]]
    for r in rows:
        r["last_contact_at"] = as_utc(r["last_contact_at"])
    return rows


def split_case(store: Store, case_pk: int, message_pks: list[int], by: str, nation: str = "england") -> int:
    """Move some of a case's messages to a new case; returns the new case's id."""
    with store.transaction() as conn:
        _require_case(conn, case_pk)
        on_case = {pk for (pk,) in conn.execute(select(case_messages.c.message_pk).where(case_messages.c.case_pk == case_pk))}
        stray = sorted(set(message_pks) - on_case)
        if stray:
            raise InputError(
                f"message(s) {', '.join(map(str, stray))} are not on case #{case_pk}: see triage case show {case_pk}"
            )
        if not message_pks or set(message_pks) == on_case:
            raise InputError("split moves some of a case's messages, not none or all of them.")
        first = (
            conn.execute(
                select(messages.c.subject, messages.c.sender_addr, messages.c.channel, messages.c.respondent_ref)
                .where(messages.c.id.in_(message_pks))
                .order_by(messages.c.received_at, messages.c.id)
            )
            .mappings()
            .first()
        )
        assert first is not None
        new_pk = conn.execute(
            insert(cases).values(resident=resident_key(dict(first)), title=first["subject"][:200], updated_at=_now())
        ).inserted_primary_key[0]
        conn.execute(
            update(case_messages)
            .where(case_messages.c.message_pk.in_(message_pks))
            .values(case_pk=new_pk, rule="split", reason=f"split from case #{case_pk} by {by}", linked_at=_now(), linked_by=by)
        )
        refresh(conn, case_pk, nation)
        refresh(conn, new_pk, nation)
    return new_pk


def merge_cases(store: Store, into: int, other: int, by: str, nation: str = "england") -> None:
    """Move every message, reference and event of ``other`` onto ``into``; ``other`` is kept,
    marked as merged, so links to it still resolve."""
    if into == other:
        raise InputError("a case cannot be merged into itself.")
    with store.transaction() as conn:
        _require_case(conn, into)
        _require_case(conn, other)
        conn.execute(
            update(case_messages)
            .where(case_messages.c.case_pk == other)
            .values(case_pk=into, rule="merge", reason=f"merged from case #{other} by {by}", linked_at=_now(), linked_by=by)
        )
        conn.execute(update(case_events).where(case_events.c.case_pk == other).values(case_pk=into))
        ours = [r for (r,) in conn.execute(select(case_refs.c.ref).where(case_refs.c.case_pk == into))]
        conn.execute(delete(case_refs).where(case_refs.c.case_pk == other, case_refs.c.ref.in_(ours)))
        conn.execute(update(case_refs).where(case_refs.c.case_pk == other).values(case_pk=into))
        # What the case promised and taught goes with it (triage.learning's tables).
        conn.execute(update(commitments).where(commitments.c.case_pk == other).values(case_pk=into))
        conn.execute(update(learning_outcome_cases).where(learning_outcome_cases.c.case_pk == other).values(case_pk=into))
        conn.execute(update(cases).where(cases.c.id == other).values(merged_into=into, updated_at=_now()))
        refresh(conn, into, nation)
