"""Cases in a real store (SQLite and PostgreSQL): linking with reasons, events, split, merge,
the queue's due dates, and the `triage case` commands; then the whole pipeline on the sample."""

from __future__ import annotations

import json
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from triage.cases import Event, get_case, link_message, list_cases, merge_cases, record_event, split_case
from triage.cases.rules import CaseRules
from triage.cli import cli
from triage.errors import InputError
from triage.ingest.email_parse import parse_email
from triage.message import UK, Message, Source
from triage.store.db import Store
from triage.store.schema import messages

RULES = CaseRules(own_domains=("northbrook-homes.example",))
DEFAULT_TIME = (10, 0)


def put(store: Store, n: int, day: date, *, rules: CaseRules = RULES, **fields: Any) -> Any:
    """Store message n (with Message-ID <n@test>), classify it as told (``classified``'s
    keywords), and link it."""
    row, kind, dissatisfied, themes, on_register = classified(store, n, day, **fields)
    with store.transaction() as conn:
        link = link_message(conn, row, kind, dissatisfied, themes, on_register, rules)
    return row["id"], link


def classified(
    store: Store,
    n: int,
    day: date,
    *,
    kind: str = "service_request",
    themes: tuple[str, ...] = ("repairs",),
    dissatisfied: bool = False,
    sender: str = "jo@example.com",
    subject: str = "Leak under the sink",
    body: str = "The pipe under my sink is leaking.",
    reply_to: int | None = None,
    at: tuple[int, int] = DEFAULT_TIME,
) -> tuple[dict[str, Any], str, bool, list[str], bool]:
    """Store message n and classify it as told, not linked: (row, kind, dissatisfied, themes, on register)."""
    from datetime import datetime

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "customer.services@northbrook-homes.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(day.year, day.month, day.day, *at, tzinfo=UK))
    msg["Message-ID"] = f"<{n}@test>"
    if reply_to is not None:
        msg["In-Reply-To"] = f"<{reply_to}@test>"
        msg["References"] = f"<{reply_to}@test>"
    msg.set_content(body)
    item = parse_email(msg.as_bytes(), Source("file", path=f"{n}.eml"))
    assert isinstance(item, Message)
    store.add([item])
    with store.engine.connect() as conn:
        row = dict(conn.execute(select(messages).where(messages.c.message_id == f"<{n}@test>")).mappings().one())
    on_register = kind == "complaint"
    prediction = {
        "kind": kind,
        "kind_scores": {kind: 0.9},
        "dissatisfied": dissatisfied or kind == "complaint",
        "dissatisfied_score": 0.9 if dissatisfied or kind == "complaint" else 0.1,
        "themes": list(themes),
        "theme_scores": {t: 0.9 for t in themes},
        "status": "accepted",
        "needs_review": False,
        "review_reasons": [],
        "evidence": [],
        "on_complaints_register": on_register,
    }
    with store.transaction() as conn:
        store.add_classifications("test", "0" * 64, [(row["id"], prediction)], conn)
    return row, kind, prediction["dissatisfied"], list(themes), on_register


@pytest.mark.parametrize("many_cases", [500, -1])
def test_a_batch_links_to_the_cases_its_earlier_messages_opened(
    store: Store, many_cases: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One BatchLinker over a batch (as `triage run` links): a message later in the batch joins
    the case an earlier one opened, by thread, reference and resident, with the links, reasons
    and case rows that linking the messages one at a time gives; the same when every resident is
    looked up in the store per message (as one with more than MANY_CASES cases is)."""
    from triage.cases import records
    from triage.cases.records import BatchLinker

    monkeypatch.setattr(records, "MANY_CASES", many_cases)

    batch = [
        classified(store, 1, date(2026, 11, 2)),
        classified(store, 2, date(2026, 11, 3), reply_to=1, subject="Re: Leak under the sink", themes=()),
        classified(store, 3, date(2026, 11, 3), kind="complaint", sender="sam@example.com", subject="Fence CMP-1234"),
        classified(store, 4, date(2026, 11, 4), sender="kim@example.com", subject="About CMP-1234", themes=("asb",)),
        classified(store, 5, date(2026, 11, 5), subject="Still leaking", body="The leak is worse."),
        classified(store, 6, date(2026, 11, 5), kind="mp_enquiry", sender="mp@parliament.example", subject="Constituent"),
    ]
    with store.transaction() as conn:
        linker = BatchLinker(conn, RULES, "england", [row for row, *_ in batch])
        links = [linker.link(row, kind, dis, themes, reg) for row, kind, dis, themes, reg in batch]
        linker.flush()
    assert all(link is not None for link in links)
    a, b, c = links[0].case_pk, links[2].case_pk, links[5].case_pk  # type: ignore[union-attr]
    assert len({a, b, c}) == 3 and min(a, b, c) > 0
    first = batch[0][0]["id"]
    assert [(link.case_pk, link.rule, link.reason) for link in links] == [  # type: ignore[union-attr]
        (a, "new", "no earlier message of its thread, reference or resident and theme"),
        (a, "thread", f"replies to message #{first} (<1@test>) on case #{a}"),
        (b, "new", "no earlier message of its thread, reference or resident and theme"),
        (b, "reference", f"case reference 'CMP-1234' matches case #{b}"),
        (a, "resident", f"same resident (jo@example.com) about repairs, 2 days after the last contact on case #{a}"),
        (c, "new", "no earlier message of its thread, reference or resident and theme"),
    ]
    case = get_case(store, a)
    assert case is not None and [m["rule"] for m in case["messages"]] == ["new", "thread", "resident"]
    assert [e.event for e in case["events"]] == ["received"] and case["stage"] == "service_request"
    assert get_case(store, b)["references"] == ["CMP1234"]  # type: ignore[index]
    assert sorted(get_case(store, b)["themes"]) == ["asb", "repairs"]  # type: ignore[index]


def test_a_reply_joins_its_thread_and_says_why(store: Store) -> None:
    first, a = put(store, 1, date(2026, 11, 2))
    second, b = put(store, 2, date(2026, 11, 3), reply_to=1, subject="Re: Leak under the sink", themes=())
    assert a.rule == "new" and b.rule == "thread" and b.case_pk == a.case_pk
    assert b.reason == f"replies to message #{first} (<1@test>) on case #{a.case_pk}"
    case = get_case(store, a.case_pk)
    assert case is not None
    assert [m["id"] for m in case["messages"]] == [first, second]
    assert case["stage"] == "service_request"  # opened from a service request, recorded by triage
    assert [(e.event, e.stage, e.recorded_by) for e in case["events"]] == [("received", "service_request", "triage")]


def test_a_case_reference_links_across_threads(store: Store) -> None:
    _, a = put(store, 1, date(2026, 11, 2), kind="complaint", subject="Complaint CMP-40001: no repair", themes=("repairs",))
    _, b = put(
        store, 2, date(2026, 11, 20), kind="complaint", sender="other@example.org", subject="cmp 40001", themes=("damp_mould",)
    )
    assert b.rule == "reference" and b.case_pk == a.case_pk
    assert b.reason == f"case reference 'cmp 40001' matches case #{a.case_pk}"
    case = get_case(store, a.case_pk)
    assert case is not None and case["references"] == ["CMP40001"]


def test_same_resident_and_theme_within_the_window_joins(store: Store) -> None:
    _, a = put(store, 1, date(2026, 11, 2), themes=("repairs", "heating_gas"))
    _, b = put(store, 2, date(2026, 11, 20), subject="Still no heating", themes=("heating_gas",))
    assert b.rule == "resident" and b.case_pk == a.case_pk
    assert b.reason == f"same resident (jo@example.com) about heating_gas, 18 days after the last contact on case #{a.case_pk}"


def test_same_resident_on_another_theme_or_outside_the_window_opens_a_case(store: Store) -> None:
    _, a = put(store, 1, date(2026, 9, 1), themes=("repairs",))
    _, other_theme = put(store, 2, date(2026, 9, 5), subject="Noise next door", themes=("anti_social_behaviour",))
    _, too_late = put(store, 3, date(2026, 11, 20), subject="Another leak", themes=("repairs",))
    assert other_theme.rule == "new" and other_theme.case_pk != a.case_pk
    assert too_late.rule == "new" and too_late.case_pk != a.case_pk  # 80 days > the 60-day window
    _, within = put(store, 4, date(2026, 11, 20), subject="Leak again", themes=("repairs",), rules=CaseRules(window_days=90))
    assert within.rule == "resident"


def test_an_mp_writing_about_two_constituents_opens_two_cases(store: Store) -> None:
    mp = "office@mp.parliament.example"
    _, a = put(store, 1, date(2026, 11, 2), kind="mp_enquiry", sender=mp, subject="Constituent A", themes=("repairs",))
    _, b = put(store, 2, date(2026, 11, 3), kind="mp_enquiry", sender=mp, subject="Constituent B", themes=("repairs",))
    assert a.rule == b.rule == "new" and a.case_pk != b.case_pk


def test_newsletters_and_staff_mail_do_not_open_cases(store: Store) -> None:
    _, other = put(store, 1, date(2026, 11, 2), kind="other", themes=())
    _, staff = put(store, 2, date(2026, 11, 2), sender="repairs@northbrook-homes.example", subject="Job 123")
    assert other is None and staff is None


def test_repeated_chasing_is_flagged_on_the_third_contact_with_the_earlier_messages(store: Store) -> None:
    one, a = put(store, 1, date(2026, 11, 2))
    two, b = put(store, 2, date(2026, 11, 9), reply_to=1, subject="Re: Leak under the sink")
    staff, _ = put(store, 3, date(2026, 11, 10), reply_to=2, sender="repairs@northbrook-homes.example", subject="RE: Leak")
    three, c = put(store, 4, date(2026, 11, 16), reply_to=3, subject="Re: RE: Leak")
    assert b.flags == [] and [f.rule for f in c.flags] == ["repeated_chasing"]
    evidence = c.flags[0].evidence
    assert evidence[0] == f"3 contacts in 30 days on case #{a.case_pk}, no complaint logged"
    assert [e.split()[0] for e in evidence[1:]] == [f"#{one}", f"#{two}", f"#{three}"]  # the staff reply is not a contact
    assert staff not in {int(e.split()[0][1:]) for e in evidence[1:]}


def test_events_move_the_stage_and_the_queue_due_date(store: Store) -> None:
    pk, a = put(store, 1, date(2026, 11, 2))
    _, b = put(store, 2, date(2026, 11, 4), reply_to=1, kind="complaint", subject="Re: this is not good enough")
    assert [f.rule for f in b.flags] == ["recorded_outside_process"]
    record_event(store, a.case_pk, Event("received", "stage_1", date(2026, 11, 4), recorded_by="J Okafor"))
    case = get_case(store, a.case_pk, today=date(2026, 11, 5))
    assert case is not None and case["stage"] == "stage_1"
    assert (case["due_date"], case["due_what"]) == (date(2026, 11, 11), "acknowledge at stage 1 (Code 6.2)")
    record_event(store, a.case_pk, Event("acknowledged", "stage_1", date(2026, 11, 6), recorded_by="J Okafor"))
    row = next(r for r in store.queue() if r["id"] == pk)
    assert (row["case_pk"], row["case_stage"]) == (a.case_pk, "stage_1")
    assert (row["due_date"], row["due_what"]) == (date(2026, 11, 20), "respond at stage 1 (Code 6.3, 6.4)")
    assert [c["id"] for c in list_cases(store, overdue_on=date(2026, 11, 23))] == [a.case_pk]
    assert list_cases(store, overdue_on=date(2026, 11, 20)) == []


def test_split_and_merge_keep_every_message_and_say_who(store: Store) -> None:
    one, a = put(store, 1, date(2026, 11, 2))
    two, _ = put(store, 2, date(2026, 11, 3), reply_to=1, subject="Re: leak, and also my neighbour's dog")
    three, c = put(store, 3, date(2026, 11, 4), sender="sam@example.com", subject="Leak", themes=("repairs",))
    new = split_case(store, a.case_pk, [two], by="J Okafor")
    moved = get_case(store, new)
    assert moved is not None and [(m["id"], m["rule"], m["reason"]) for m in moved["messages"]] == [
        (two, "split", f"split from case #{a.case_pk} by J Okafor")
    ]
    merge_cases(store, c.case_pk, new, by="A Patel")
    merged = get_case(store, c.case_pk)
    assert merged is not None and sorted(m["id"] for m in merged["messages"]) == [two, three]
    assert store.count("messages") == 3
    with pytest.raises(InputError, match=f"merged into case #{c.case_pk}"):
        record_event(store, new, Event("closed", "stage_1", date(2026, 11, 5), recorded_by="x"))
    with pytest.raises(InputError, match="not on case"):
        split_case(store, a.case_pk, [three], by="x")
    assert one


def test_case_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    with Store(db) as store:
        _, a = put(store, 1, date(2026, 11, 2), kind="complaint", subject="Complaint about my repair")
    runner = CliRunner()
    ok = runner.invoke(
        cli, ["case", "event", str(a.case_pk), "acknowledged", "--on", "2026-11-03", "--by", "J Okafor", "--store", db]
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output == (
        f"case #{a.case_pk}: acknowledged recorded; stage stage_1; next due 2026-11-17: respond at stage 1 (Code 6.3, 6.4).\n"
        "Flag response_late (Code 6.3, 6.14): stage 1 not responded, due by 2026-11-17\n"  # today is later than that
    )
    bad = runner.invoke(
        cli, ["case", "event", str(a.case_pk), "extension_agreed", "--on", "2026-11-10", "--by", "J", "--store", db]
    )
    assert bad.exit_code == 1 and "needs the new respond-by date (--extended-to) and its reason" in bad.output
    shown = runner.invoke(cli, ["case", "show", str(a.case_pk), "--store", db, "--json"])
    data = json.loads(shown.output)
    assert [e["event"] for e in data["events"]] == ["received", "acknowledged"]
    listed = runner.invoke(cli, ["case", "list", "--store", db, "--stage", "stage_1"])
    assert f"case #{a.case_pk}" in listed.output and "respond at stage 1" in listed.output
    missing = runner.invoke(cli, ["case", "show", "999", "--store", db])
    assert missing.exit_code == 1 and "there is no case #999" in missing.output


def test_the_sample_pipeline_puts_messages_on_cases(tmp_path: Path) -> None:
    """The whole job on the bundled sample: the ceiling-leak thread is one case whose staff reply
    is not a contact, and the third resident message raises repeated chasing."""
    from triage.jobs import run_pipeline
    from triage.pipeline import load

    repo = Path(__file__).resolve().parents[1]
    pipeline = load(repo / "pipelines" / "sample.toml")
    with Store(tmp_path / "s.db") as store:
        result = run_pipeline(pipeline, store)
        assert result.cases["thread"] >= 3
        rows = {r["subject"]: r for r in store.queue(limit=1000)}
        last = rows["RE: Re: RE: Water coming through bathroom ceiling - Flat 6 Alder Court"]
        first = rows["Water coming through bathroom ceiling - Flat 6 Alder Court"]
        assert last["case_pk"] == first["case_pk"]
        assert "repeated_chasing" in {f["rule"] for f in last["flags"]}


def test_the_queue_shows_a_case_s_overdue_commitment(tmp_path: Path) -> None:
    from triage.learning.commitments import add_commitment

    db = str(tmp_path / "q.db")
    with Store(db) as store:
        _, a = put(store, 1, date(2026, 10, 1), kind="complaint", subject="Complaint about my back door")
        record_event(store, a.case_pk, Event("responded", "stage_1", date(2026, 10, 14), outcome="upheld", recorded_by="J"))
        add_commitment(store, a.case_pk, "Replace the back door", "repair", due=date(2026, 10, 30), by="J")
    runner = CliRunner()
    out = runner.invoke(cli, ["queue", "--store", db, "--today", "2026-11-02"]).output
    assert "        OVERDUE COMMITMENT #1: Replace the back door (due 30 Oct)" in out.splitlines()
    line = runner.invoke(cli, ["queue", "--store", db, "--today", "2026-10-30", "--json"]).output.splitlines()[0]
    assert json.loads(line)["overdue_commitments"] == []


def test_a_message_classified_again_by_a_new_model_stays_on_its_case(store: Store) -> None:
    _, a = put(store, 1, date(2026, 11, 2))
    put(store, 2, date(2026, 11, 4), reply_to=1, kind="complaint", subject="Re: not good enough")
    with store.engine.connect() as conn:
        row = dict(conn.execute(select(messages).where(messages.c.message_id == "<2@test>")).mappings().one())
    with store.transaction() as conn:
        again = link_message(conn, row, "complaint", True, ["repairs"], True, RULES)
    assert again is not None and (again.case_pk, again.rule) == (a.case_pk, "already")
    assert [f.rule for f in again.flags] == ["recorded_outside_process"]  # judged against the case as it was
    case = get_case(store, a.case_pk)
    assert case is not None and len(case["messages"]) == 2


def test_an_escalation_always_starts_stage_2(store: Store) -> None:
    _, a = put(store, 1, date(2026, 11, 2), kind="complaint")
    record_event(store, a.case_pk, Event("responded", "stage_1", date(2026, 11, 10), recorded_by="J"))
    record_event(store, a.case_pk, Event("escalated", "stage_1", date(2026, 11, 12), recorded_by="J"))  # a form's default
    case = get_case(store, a.case_pk)
    assert case is not None and case["stage"] == "stage_2"
    assert [(e.event, e.stage) for e in case["events"]][-1] == ("escalated", "stage_2")


def test_a_case_opens_on_the_uk_date(store: Store) -> None:
    # 00:30 on Friday 7 June 2024 in London is 23:30 on Thursday in UTC.
    _, a = put(store, 1, date(2024, 6, 7), kind="complaint", at=(0, 30))
    case = get_case(store, a.case_pk, today=date(2024, 6, 14))
    assert case is not None and case["events"][0].on == date(2024, 6, 7)
    assert (case["due_date"], case["flags"]) == (date(2024, 6, 14), [])


def test_merging_moves_commitments_and_learning_with_the_messages(store: Store) -> None:
    from triage.learning import add_commitment
    from triage.learning.commitments import overdue_by_case

    _, a = put(store, 1, date(2026, 10, 1), kind="complaint")
    _, b = put(store, 2, date(2026, 10, 2), kind="complaint", sender="sam@example.com")
    record_event(store, b.case_pk, Event("responded", "stage_1", date(2026, 10, 9), recorded_by="J"))
    add_commitment(store, b.case_pk, "Fix boiler", "repair", due=date(2026, 10, 20), by="J")
    merge_cases(store, a.case_pk, b.case_pk, by="J")
    assert {pk: [c.what for c in cs] for pk, cs in overdue_by_case(store, date(2026, 11, 2)).items()} == {
        a.case_pk: ["Fix boiler"]
    }
