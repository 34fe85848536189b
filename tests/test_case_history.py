"""Case-history rules as plain functions: stage, Code clocks, breaches and ghost-stage flags,
each with a case that raises it and one that must not."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from triage.cases.history import Contact, Event, breaches, check_event, clock, contact_flags, stage_of, timelines
from triage.cases.rules import CaseRules, literal_prefix, normalise_reference
from triage.errors import ConfigError, InputError

RULES = CaseRules()


def contact(pk: int, day: date, complaint: bool = False, subject: str = "any news on my repair?") -> Contact:
    return Contact(pk, datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC), complaint, subject)


def rules_of(flags: list) -> list[str]:
    return [f.rule for f in flags]


SERVICE_REQUEST = [Event("received", "service_request", date(2026, 10, 1))]
STAGE1_RESPONDED = [
    Event("received", "stage_1", date(2026, 10, 1), id=1),
    Event("acknowledged", "stage_1", date(2026, 10, 2), id=2),
    Event("responded", "stage_1", date(2026, 10, 12), id=3),
]
STAGE2_RESPONDED = [
    *STAGE1_RESPONDED,
    Event("escalated", "stage_2", date(2026, 10, 14), id=4),
    Event("acknowledged", "stage_2", date(2026, 10, 15), id=5),
    Event("responded", "stage_2", date(2026, 11, 2), id=6),
]


def test_stage_follows_the_events() -> None:
    assert stage_of([]) == "none"
    assert stage_of(SERVICE_REQUEST) == "service_request"
    assert stage_of([*SERVICE_REQUEST, Event("received", "stage_1", date(2026, 10, 5))]) == "stage_1"
    assert stage_of(STAGE2_RESPONDED) == "stage_2"
    assert stage_of([*STAGE2_RESPONDED, Event("closed", "stage_2", date(2026, 11, 3))]) == "closed"


# -- repeated chasing ------------------------------------------------------------------------
def test_three_contacts_in_30_days_on_a_service_request_is_repeated_chasing() -> None:
    earlier = [contact(1, date(2026, 10, 1)), contact(2, date(2026, 10, 10))]
    flags = contact_flags(SERVICE_REQUEST, earlier, contact(3, date(2026, 10, 20)), RULES, "case #7")
    assert rules_of(flags) == ["repeated_chasing"]
    assert flags[0].type == "ghost_stage"
    assert flags[0].evidence[0] == "3 contacts in 30 days on case #7, no complaint logged"
    assert [e.split(" ")[0] for e in flags[0].evidence[1:]] == ["#1", "#2", "#3"]  # the earlier messages are the evidence


def test_contacts_spread_over_more_than_the_window_are_not_chasing() -> None:
    earlier = [contact(1, date(2026, 9, 1)), contact(2, date(2026, 10, 10))]
    assert contact_flags(SERVICE_REQUEST, earlier, contact(3, date(2026, 10, 20)), RULES, "case #7") == []


def test_chasing_on_a_logged_complaint_is_not_a_ghost_stage() -> None:
    events = [Event("received", "stage_1", date(2026, 10, 1))]
    earlier = [contact(1, date(2026, 10, 1)), contact(2, date(2026, 10, 10))]
    assert contact_flags(events, earlier, contact(3, date(2026, 10, 20)), RULES, "case #7") == []


def test_chasing_thresholds_are_configurable() -> None:
    strict = CaseRules(chasing_contacts=2, chasing_days=14)
    flags = contact_flags(SERVICE_REQUEST, [contact(1, date(2026, 10, 10))], contact(2, date(2026, 10, 20)), strict, "c")
    assert rules_of(flags) == ["repeated_chasing"]
    assert contact_flags(SERVICE_REQUEST, [contact(1, date(2026, 10, 1))], contact(2, date(2026, 10, 20)), strict, "c") == []


# -- recorded as a service request -------------------------------------------------------------
def test_a_complaint_on_a_case_recorded_as_a_service_request_is_flagged_live() -> None:
    flags = contact_flags(SERVICE_REQUEST, [], contact(2, date(2026, 10, 3), complaint=True), RULES, "case #7")
    assert rules_of(flags) == ["recorded_outside_process"]
    assert flags[0].evidence == ["case #7 is recorded as a service request since 2026-10-01"]


def test_a_neutral_follow_up_on_a_service_request_is_not_flagged() -> None:
    assert contact_flags(SERVICE_REQUEST, [], contact(2, date(2026, 10, 3)), RULES, "case #7") == []


# -- dissatisfied after the stage 1 response ---------------------------------------------------
def test_dissatisfaction_after_the_stage1_response_is_an_escalation_request() -> None:
    new = contact(9, date(2026, 10, 13), complaint=True)
    flags = contact_flags(STAGE1_RESPONDED, [], new, RULES, "case #7")
    assert rules_of(flags) == ["not_escalated"]
    assert flags[0].code == "6.10, 6.11"
    assert flags[0].evidence == ["stage 1 response sent 2026-10-12 on case #7", "acknowledge at stage 2 by 2026-10-20"]
    # The case's next clock is the stage 2 acknowledgement of that request.
    assert clock(STAGE1_RESPONDED, [new]) == (
        date(2026, 10, 20),
        "acknowledge the escalation request of 13 Oct at stage 2 (Code 6.11)",
    )


def test_thanks_after_the_stage1_response_raises_nothing() -> None:
    assert contact_flags(STAGE1_RESPONDED, [], contact(9, date(2026, 10, 13)), RULES, "case #7") == []
    assert clock(STAGE1_RESPONDED, [contact(9, date(2026, 10, 13))]) == (None, "")


def test_an_escalation_request_not_escalated_in_5_working_days_is_a_breach() -> None:
    request = [contact(9, date(2026, 10, 13), complaint=True)]
    assert "not_escalated" not in rules_of(breaches(STAGE1_RESPONDED, request, today=date(2026, 10, 20)))
    assert "not_escalated" in rules_of(breaches(STAGE1_RESPONDED, request, today=date(2026, 10, 21)))
    escalated = [*STAGE1_RESPONDED, Event("escalated", "stage_2", date(2026, 10, 14), id=9)]
    assert "not_escalated" not in rules_of(breaches(escalated, request, today=date(2026, 10, 30)))


# -- after the final response ------------------------------------------------------------------
def test_dissatisfied_contact_after_the_stage2_final_response_points_to_the_ombudsman() -> None:
    flags = contact_flags(STAGE2_RESPONDED, [], contact(9, date(2026, 11, 5), complaint=True), RULES, "case #7")
    assert rules_of(flags) == ["after_final_response"]
    assert "Ombudsman" in flags[0].reason
    assert flags[0].evidence == ["stage 2 final response sent 2026-11-02 on case #7"]


def test_contact_during_stage2_is_not_after_the_final_response() -> None:
    during = STAGE2_RESPONDED[:-1]
    assert contact_flags(during, [], contact(9, date(2026, 10, 20), complaint=True), RULES, "case #7") == []


# -- clocks and breaches -----------------------------------------------------------------------
def test_clock_moves_with_the_events() -> None:
    received = [Event("received", "stage_1", date(2026, 12, 21), id=1)]
    # 5 working days after Mon 21 Dec 2026: 22, 23, 24, 29, 30 (Christmas and the Boxing Day substitute, Mon 28 Dec, skipped).
    assert clock(received, []) == (date(2026, 12, 30), "acknowledge at stage 1 (Code 6.2)")
    acknowledged = [*received, Event("acknowledged", "stage_1", date(2026, 12, 22), id=2)]
    assert clock(acknowledged, []) == (date(2027, 1, 8), "respond at stage 1 (Code 6.3, 6.4)")
    extended = [
        *acknowledged,
        Event("extension_agreed", "stage_1", date(2027, 1, 6), date(2027, 1, 20), "contractor report", id=3),
    ]
    assert clock(extended, []) == (date(2027, 1, 20), "respond at stage 1 (extension agreed) (Code 6.3, 6.4)")
    responded = [*extended, Event("responded", "stage_1", date(2027, 1, 19), outcome="upheld", id=4)]
    assert clock(responded, []) == (None, "")
    assert breaches(responded, [], today=date(2027, 3, 1)) == []


def test_late_acknowledgement_and_response_are_breaches_with_evidence() -> None:
    events = [
        Event("received", "stage_1", date(2026, 11, 2), id=1),
        Event("acknowledged", "stage_1", date(2026, 11, 10), id=2),  # due by 9 Nov
        Event("responded", "stage_1", date(2026, 11, 30), id=3),  # due by 24 Nov
    ]
    flags = breaches(events, [])
    assert rules_of(flags) == ["acknowledgement_late", "response_late"]
    assert flags[0].evidence == ["stage 1 received 2026-11-02; acknowledged 2026-11-10, due by 2026-11-09"]
    assert flags[1].evidence == ["stage 1 responded 2026-11-30, due by 2026-11-24"]


def test_overdue_without_a_record_counts_only_once_the_day_has_passed() -> None:
    events = [Event("received", "stage_1", date(2026, 11, 2))]  # acknowledge by Mon 9 Nov
    assert breaches(events, [], today=date(2026, 11, 9)) == []
    assert rules_of(breaches(events, [], today=date(2026, 11, 10))) == ["acknowledgement_late"]


def test_extension_longer_than_the_code_allows() -> None:
    base = [Event("received", "stage_2", date(2026, 11, 2), id=1), Event("acknowledged", "stage_2", date(2026, 11, 3), id=2)]
    # Respond by 1 Dec (20 working days after 3 Nov); the Code allows 20 more: 31 Dec (25 and 28 Dec are holidays).
    ok = [*base, Event("extension_agreed", "stage_2", date(2026, 11, 20), date(2026, 12, 31), "survey needed", id=3)]
    too_long = [*base, Event("extension_agreed", "stage_2", date(2026, 11, 20), date(2027, 1, 4), "survey needed", id=3)]
    assert "extension_too_long" not in rules_of(breaches(ok, []))
    flags = breaches(too_long, [])
    assert rules_of(flags) == ["extension_too_long"]
    assert "reason given: 'survey needed'" in flags[0].evidence[0]


def test_reopened_stage1_starts_a_new_timeline() -> None:
    events = [*STAGE2_RESPONDED, Event("received", "stage_1", date(2026, 11, 20), id=7)]
    t = timelines(events)
    assert set(t) == {1} and t[1].started == date(2026, 11, 20)


# -- events are checked ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "stage", "message"),
    [
        (Event("extension_agreed", "stage_1", date(2026, 11, 2)), "stage_1", "--extended-to"),
        (Event("responded", "service_request", date(2026, 11, 2)), "service_request", "stage_1 or stage_2"),
        (Event("acknowledged", "stage_1", date(2026, 11, 2), outcome="upheld"), "stage_1", "responded"),
        (Event("escalated", "stage_2", date(2026, 11, 2)), "service_request", "only a stage 1 complaint"),
        (Event("phoned", "stage_1", date(2026, 11, 2)), "stage_1", "unknown case event"),
    ],
)
def test_impossible_events_are_refused_with_what_to_do(event: Event, stage: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_event(event, stage)


# -- references ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("Re: complaint CMP-12345 still open", ["CMP12345"]),
        ("cmp 12345 and CMP12345 are the same", ["CMP12345"]),
        ("Your ref: 123456", ["123456"]),
        ("Reference number 987654", ["987654"]),
        ("[#1234] Repair booked", ["#1234"]),
        ("Tenancy ref 123456, rent ref: 654321", []),  # household numbers, not case references
        ("call 0161 496 0000", []),
    ],
)
def test_default_reference_patterns(text: str, refs: list[str]) -> None:
    assert [r for r, _ in RULES.references(text)] == refs


def test_reference_patterns_are_configurable_and_checked() -> None:
    custom = CaseRules(reference_patterns=(r"\b(HC\d{6})\b",))
    assert [r for r, _ in custom.references("about HC123456")] == ["HC123456"]
    with pytest.raises(ConfigError, match="exactly one"):
        CaseRules(reference_patterns=(r"HC\d+",))
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        CaseRules(reference_patterns=(r"(HC\d+",))
    assert normalise_reference("cmp-123 45") == "CMP12345"


def test_references_found_from_a_patterns_first_letters_are_those_found_at_every_position() -> None:
    """Patterns are tried only where the lower-cased text holds their first letters (``literal_prefix``):
    the same references, in the same order, as trying every position, with the letters that
    match non-ASCII ones (ı İ K ſ) and look-behinds around them."""
    rules = CaseRules(reference_patterns=(*RULES.reference_patterns, r"(?:job|JOB)\s*(\d{4,})", r"(W[O0]-\d+)"))
    assert [prefix for _, prefix in rules._compiled] == ["cmp", "ref", "[#", "", "w"]
    assert (
        literal_prefix("a|b") == literal_prefix(r"\bCMP") == literal_prefix("(?-i:Ref)x") == "" and literal_prefix("ab*") == "a"
    )

    def everywhere(text: str) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        for rx, _ in rules._compiled:
            for m in rx.finditer(text):
                found.setdefault(normalise_reference(m.group(1)), m.group(0))
        return list(found.items())

    rng = random.Random(2)
    words = "CMP cmp Cmp CMP- cMP ref REF Ref reference Reference erence no. number : # [ ] [# tenancy account rent x _ İ ı K ſ é job WO- W0-"
    tokens = [*words.split(), " ", "\n", " no.", *(str(rng.randint(0, 10**7)) for _ in range(20))]
    with_refs = 0
    for _ in range(5000):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(0, 25)))
        assert rules.references(text) == everywhere(text), text
        with_refs += bool(everywhere(text))
    assert with_refs > 1000


def test_a_response_on_the_day_of_the_complaint_does_not_make_it_an_escalation_request() -> None:
    same_day = [
        Event("received", "stage_1", date(2026, 3, 4), id=1),
        Event("acknowledged", "stage_1", date(2026, 3, 4), id=2),
        Event("responded", "stage_1", date(2026, 3, 4), id=3),
    ]
    complaint = contact(1, date(2026, 3, 4), complaint=True)
    assert clock(same_day, [complaint]) == (None, "")
    assert breaches(same_day, [complaint], today=date(2026, 3, 20)) == []
    assert rules_of(contact_flags(same_day, [complaint], contact(2, date(2026, 3, 5), complaint=True), RULES, "c")) == [
        "not_escalated"
    ]
