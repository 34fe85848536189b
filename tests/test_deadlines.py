"""Code deadlines in working days across Christmas, Easter and the 2026 Boxing Day substitute,
for each nation; properties that hold for any date."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.cli import cli
from triage.route.deadlines import (
    NATIONS,
    RULES,
    add_working_days,
    awaab_clocks,
    extension_too_long,
    is_working_day,
    stage_deadlines,
    working_days_between,
)


def test_2026_boxing_day_substitute_is_not_a_working_day_anywhere() -> None:
    for nation in NATIONS:
        assert not is_working_day(date(2026, 12, 28), nation)  # Boxing Day (Sat 26th) observed Mon 28th
        assert is_working_day(date(2026, 12, 29), nation)


@pytest.mark.parametrize(
    ("nation", "ack", "respond", "extended"),
    [
        # Thu 24 Dec 2026: 25th, 28th (Boxing Day substitute) and 1 Jan are holidays everywhere;
        # Scotland also keeps 2 Jan, observed on Mon 4 Jan 2027 because it falls on a Saturday.
        ("england", date(2027, 1, 5), date(2027, 1, 19), date(2027, 2, 2)),
        ("wales", date(2027, 1, 5), date(2027, 1, 19), date(2027, 2, 2)),
        ("northern-ireland", date(2027, 1, 5), date(2027, 1, 19), date(2027, 2, 2)),
        ("scotland", date(2027, 1, 6), date(2027, 1, 20), date(2027, 2, 3)),
    ],
)
def test_stage1_over_christmas(nation: str, ack: date, respond: date, extended: date) -> None:
    d = stage_deadlines(1, date(2026, 12, 24), nation=nation)
    assert (d.acknowledge_by, d.respond_by, d.extended_respond_by) == (ack, respond, extended)


@pytest.mark.parametrize(
    ("nation", "ack"),
    [
        # Thu 2 Apr 2026: Good Friday 3 Apr everywhere; Easter Monday 6 Apr except in Scotland.
        # England: Tue 7, Wed 8, Thu 9, Fri 10, Mon 13. Scotland: Mon 6 ... Fri 10.
        ("england", date(2026, 4, 13)),
        ("wales", date(2026, 4, 13)),
        ("northern-ireland", date(2026, 4, 13)),
        ("scotland", date(2026, 4, 10)),
    ],
)
def test_acknowledgement_over_easter(nation: str, ack: date) -> None:
    assert stage_deadlines(1, date(2026, 4, 2), nation=nation).acknowledge_by == ack


def test_saint_patricks_day_only_in_northern_ireland() -> None:
    assert not is_working_day(date(2026, 3, 17), "northern-ireland")
    assert is_working_day(date(2026, 3, 17), "england")


def test_stage2_counts_20_working_days_from_the_acknowledgement() -> None:
    d = stage_deadlines(2, date(2026, 11, 2), acknowledged=date(2026, 11, 3))
    assert d.acknowledge_by == date(2026, 11, 9)
    assert d.respond_by == date(2026, 12, 1)  # 20 working days after Tue 3 Nov
    assert d.extended_respond_by == date(2026, 12, 31)  # +20: Dec 2-24 is 17, then 29, 30, 31 (25, 28 are holidays)


def test_a_received_date_on_a_weekend_counts_from_the_next_working_day() -> None:
    assert add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # Sat -> Mon


def test_extensions_longer_than_the_code_allows_are_flagged() -> None:
    respond_by = date(2026, 11, 16)
    assert not extension_too_long(1, respond_by, add_working_days(respond_by, 10))
    assert extension_too_long(1, respond_by, add_working_days(respond_by, 11))
    assert not extension_too_long(2, respond_by, add_working_days(respond_by, 20))


def test_awaab_clocks() -> None:
    reported = datetime(2026, 12, 23, 15, 0)
    clocks = awaab_clocks(reported)
    assert clocks.emergency_make_safe_by == datetime(2026, 12, 24, 15, 0)
    assert clocks.damp_investigate_by == date(2027, 1, 11)  # 10 working days over Christmas
    investigated = awaab_clocks(reported, investigated=date(2027, 1, 4))
    assert investigated.damp_written_summary_by == date(2027, 1, 7)
    assert investigated.damp_safety_work_by == date(2027, 1, 11)


def test_rules_carry_their_code_sections() -> None:
    assert RULES["stage1_acknowledge"].code == "6.2" and RULES["stage2_respond"].working_days == 20


days = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=1, max_value=40), st.sampled_from(sorted(NATIONS)))
def test_a_due_date_is_never_a_weekend_or_bank_holiday(start: date, n: int, nation: str) -> None:
    due = add_working_days(start, n, nation)
    assert is_working_day(due, nation) and due > start
    assert working_days_between(start, due, nation) == n


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=20), st.sampled_from(sorted(NATIONS)))
def test_due_dates_are_monotonic_in_the_received_date(start: date, gap: int, n: int, nation: str) -> None:
    assert add_working_days(start, n, nation) <= add_working_days(start + timedelta(days=gap), n, nation)


def test_cli_json_shape() -> None:
    result = CliRunner().invoke(cli, ["deadlines", "--received", "2026-12-24", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "stage1": {"acknowledge_by": "2027-01-05", "respond_by": "2027-01-19", "extended_respond_by": "2027-02-02"},
        "stage2": {"acknowledge_by": "2027-01-05", "respond_by": "2027-02-02", "extended_respond_by": "2027-03-02"},
    }
    acknowledged = CliRunner().invoke(cli, ["deadlines", "--received", "2026-12-24", "--acknowledged", "2026-12-29", "--json"])
    assert json.loads(acknowledged.stdout)["stage1"]["respond_by"] == "2027-01-13"


def test_cli_rejects_a_bad_date() -> None:
    result = CliRunner().invoke(cli, ["deadlines", "--received", "24/12/2026"])
    assert result.exit_code == 2 and "24/12/2026" in result.stderr
