"""The Complaint Handling Code's deadlines in working days, and Awaab's Law clocks.

Working days are Monday to Friday less the bank holidays of the landlord's nation, from the
maintained ``holidays`` library (never a hand-typed list). A deadline of N working days after a
date is the Nth working day after that day, whatever day the date itself is.

The rules live in one table, ``RULES``, with their Code sections: code, docs and tests read them
from here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays

from triage.errors import ConfigError

NATIONS: dict[str, str] = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR"}


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    working_days: int
    counted_from: str
    code: str
    extension_working_days: int = 0  # the longest extension the Code allows without good reason


RULES: dict[str, Rule] = {
    "stage1_acknowledge": Rule("stage1_acknowledge", 5, "receipt", "6.2"),
    "stage1_respond": Rule("stage1_respond", 10, "acknowledgement", "6.3, 6.4", extension_working_days=10),
    "stage2_acknowledge": Rule("stage2_acknowledge", 5, "escalation request", "6.11"),
    "stage2_respond": Rule("stage2_respond", 20, "acknowledgement", "6.14, 6.15", extension_working_days=20),
    # Awaab's Law (social landlords): significant damp and mould.
    "damp_investigate": Rule("damp_investigate", 10, "report", "Awaab's Law"),
    "damp_written_summary": Rule("damp_written_summary", 3, "investigation", "Awaab's Law"),
    "damp_safety_work": Rule("damp_safety_work", 5, "investigation", "Awaab's Law"),
}
EMERGENCY_HAZARD_HOURS = 24  # Awaab's Law: emergency hazards made safe within 24 hours


def load_calendars() -> None:
    """Import the bank-holiday calendars now: ``holidays`` imports every country's on first use
    (about a tenth of a second), which a job that loads its model pays then, not in its first batch."""
    import holidays.countries  # noqa: F401


@functools.cache
def _calendar(nation: str, year: int) -> holidays.HolidayBase:
    if nation not in NATIONS:
        raise ConfigError(f"unknown nation {nation!r}: use one of {', '.join(NATIONS)}.")
    return holidays.country_holidays("GB", subdiv=NATIONS[nation], years=year)


def is_working_day(day: date, nation: str = "england") -> bool:
    return day.weekday() < 5 and day not in _calendar(nation, day.year)


@functools.lru_cache(maxsize=65536)  # pure, and called for every case on every message
def add_working_days(start: date, n: int, nation: str = "england") -> date:
    """The Nth working day after ``start`` (n >= 0; n == 0 gives ``start`` itself)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day, nation):
            n -= 1
    return day


@functools.lru_cache(maxsize=65536)
def working_days_between(start: date, end: date, nation: str = "england") -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, nation)
    return count


@dataclass(frozen=True, slots=True)
class StageDeadlines:
    acknowledge_by: date
    respond_by: date
    extended_respond_by: date

    def as_dict(self) -> dict[str, str]:
        return {
            "acknowledge_by": self.acknowledge_by.isoformat(),
            "respond_by": self.respond_by.isoformat(),
            "extended_respond_by": self.extended_respond_by.isoformat(),
        }


def stage_deadlines(stage: int, received: date, acknowledged: date | None = None, nation: str = "england") -> StageDeadlines:
    """Acknowledge-by, respond-by (from the acknowledgement, or from the acknowledge-by date when
    none is given) and the latest respond-by with the longest extension the Code allows."""
    ack_rule, respond_rule = RULES[f"stage{stage}_acknowledge"], RULES[f"stage{stage}_respond"]
    acknowledge_by = add_working_days(received, ack_rule.working_days, nation)
    base = acknowledged or acknowledge_by
    respond_by = add_working_days(base, respond_rule.working_days, nation)
    extended = add_working_days(respond_by, respond_rule.extension_working_days, nation)
    return StageDeadlines(acknowledge_by, respond_by, extended)


def extension_too_long(stage: int, respond_by: date, extended_to: date, nation: str = "england") -> bool:
    """True when an extension goes beyond what the Code allows without good reason."""
    return working_days_between(respond_by, extended_to, nation) > RULES[f"stage{stage}_respond"].extension_working_days


@dataclass(frozen=True, slots=True)
class AwaabClocks:
    emergency_make_safe_by: datetime
    damp_investigate_by: date
    damp_written_summary_by: date
    damp_safety_work_by: date

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k).isoformat() for k in self.__slots__}


def awaab_clocks(reported: datetime, investigated: date | None = None, nation: str = "england") -> AwaabClocks:
    """Awaab's Law clocks from a hazard report: 24 hours for an emergency hazard; for
    significant damp and mould, investigate within 10 working days, a written summary within 3
    working days of the investigation and safety work within 5 (counted from the
    investigate-by date when the investigation date is not known)."""
    investigate_by = add_working_days(reported.date(), RULES["damp_investigate"].working_days, nation)
    base = investigated or investigate_by
    return AwaabClocks(
        emergency_make_safe_by=reported + timedelta(hours=EMERGENCY_HAZARD_HOURS),
        damp_investigate_by=investigate_by,
        damp_written_summary_by=add_working_days(base, RULES["damp_written_summary"].working_days, nation),
        damp_safety_work_by=add_working_days(base, RULES["damp_safety_work"].working_days, nation),
    )
