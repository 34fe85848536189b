"""Flags: reasons for a person to look, each with its rule, its Code section and its evidence.

A flag is never a verdict. The rules here read one message (its classification, evidence
phrases, channel and, where known, how its handling was recorded). The rules that need a case's
history (repeated chasing, no escalation after a stage 1 response, contact after the final
response, late handling) live in ``triage.cases.history``; their rows are here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: reading flag rules must not import the classifier
    from triage.classify.model import Prediction

# Recorded handling that is outside the two formal stages (Code 5.2, 5.3): register spellings.
OUTSIDE_PROCESS = {
    "service request": "service_request",
    "service_request": "service_request",
    "repair request": "service_request",
    "informal resolution": "informal_resolution",
    "informal complaint": "informal_resolution",
    "early resolution": "informal_resolution",
    "quick fix": "informal_resolution",
    "stage 0": "stage_0",
    "stage zero": "stage_0",
    "pre-complaint": "stage_0",
    "stage 3": "stage_3",
    "enquiry": "enquiry",
    "general enquiry": "enquiry",
    "mp enquiry": "mp_enquiry",
    "mp_enquiry": "mp_enquiry",
    "member enquiry": "mp_enquiry",
    "members enquiry": "mp_enquiry",
    "councillor enquiry": "councillor_enquiry",
    "feedback": "feedback",
}
FORMAL = {
    "complaint": "complaint",
    "stage 1": "stage_1",
    "stage1": "stage_1",
    "stage one": "stage_1",
    "stage 2": "stage_2",
    "stage2": "stage_2",
    "stage two": "stage_2",
    "formal complaint": "complaint",
}

EMERGENCY_HAZARDS = ("hazard_gas", "hazard_electrical", "hazard_flooding", "hazard_structural")
RESIDENT_KINDS = ("complaint", "service_request", "mp_enquiry")

# rule -> (flag type, Code section, what it means)
RULES: dict[str, tuple[str, str, str]] = {
    "informal_stage_language": (
        "ghost_stage",
        "5.2, 5.3",
        "informal-stage language: a complaint may be handled outside the two formal stages",
    ),
    "dissatisfied_mp_enquiry": (
        "ghost_stage",
        "1.3, 5.2",
        "an MP enquiry expressing dissatisfaction is a complaint through a representative",
    ),
    "recorded_outside_process": (
        "ghost_stage",
        "1.5, 5.2",
        "recorded outside the complaints process, but the text reads as a complaint",
    ),
    "contractor_process": ("ghost_stage", "5.4", "a complaint sent to a contractor's own complaints process"),
    # Rules that read a case's history (triage.cases.history).
    "repeated_chasing": ("ghost_stage", "1.2, 5.2", "repeated chasing about the same issue with no complaint logged"),
    "not_escalated": (
        "ghost_stage",
        "6.10, 6.11",
        "dissatisfaction after the stage 1 response: an escalation request, to be acknowledged at stage 2 within 5 working days",
    ),
    "after_final_response": (
        "ghost_stage",
        "5.2, 6.17",
        "contact after the stage 2 final response: point the resident to the Housing Ombudsman, not to a further stage",
    ),
    "acknowledgement_late": ("deadline", "6.2, 6.11", "acknowledged later than the Code allows"),
    "response_late": ("deadline", "6.3, 6.14", "responded later than the Code allows"),
    "extension_too_long": ("deadline", "6.4, 6.15", "an extension longer than the Code allows without good reason"),
    "survey_dissatisfaction": ("survey_dissatisfaction", "1.6", "negative survey answer: tell the resident how to complain"),
    "vulnerability": ("vulnerability", "5.10, 6.1", "the writer or household may be vulnerable"),
    "emergency_hazard": ("hazard", "Awaab's Law", "possible emergency hazard: make safe within 24 hours"),
    "damp_mould": ("hazard", "Awaab's Law", "damp and mould: investigate within 10 working days"),
}


@dataclass(frozen=True, slots=True)
class Flag:
    type: str
    rule: str
    code: str
    reason: str
    evidence: list[str]

    def as_dict(self) -> dict[str, object]:
        # asdict(self) by hand: asdict deep-copies each evidence string, a tenth of routing a message.
        return {"type": self.type, "rule": self.rule, "code": self.code, "reason": self.reason, "evidence": list(self.evidence)}


def normalise_category(recorded: str) -> tuple[str, bool | None]:
    """(normalised category, True if a formal complaint stage / False if outside / None if unknown)."""
    key = " ".join(recorded.lower().replace("-", " ").replace("_", " ").split())
    if key in FORMAL:
        return FORMAL[key], True
    if key in OUTSIDE_PROCESS:
        return OUTSIDE_PROCESS[key], False
    return key.replace(" ", "_") or "unknown", None


def make_flag(rule: str, evidence: list[str]) -> Flag:
    kind, code, reason = RULES[rule]
    return Flag(kind, rule, code, reason, evidence)


def message_flags(p: Prediction, channel: str, recorded_as: str | None = None) -> list[Flag]:
    phrases: dict[str, list[str]] = {}
    for e in p.evidence:
        phrases.setdefault(e.rule, []).append(e.text)
    reads_as_complaint = p.kind == "complaint" or p.dissatisfied
    flags = []
    if "informal_stage" in phrases:
        flags.append(make_flag("informal_stage_language", phrases["informal_stage"]))
    category, formal = normalise_category(recorded_as) if recorded_as is not None else ("", None)
    recorded_mp = category == "mp_enquiry"
    if (p.kind == "mp_enquiry" or recorded_mp) and reads_as_complaint:
        where = [f"recorded as {recorded_as!r}"] if recorded_mp else []
        flags.append(
            make_flag(
                "dissatisfied_mp_enquiry", [*where, f"dissatisfied {p.dissatisfied_score:.2f}", *phrases.get("mp_office", [])]
            )
        )
    if recorded_as is not None and formal is False and reads_as_complaint and not recorded_mp:
        flags.append(
            make_flag(
                "recorded_outside_process",
                [
                    f"recorded as {recorded_as!r}; reads as {p.kind} "
                    f"(complaint {p.kind_scores['complaint']:.2f}, dissatisfied {p.dissatisfied_score:.2f})",
                    *phrases.get("repeated_contact", []),
                    *phrases.get("escalation", []),
                ],
            )
        )
    if "contractor_process" in phrases and reads_as_complaint:
        flags.append(make_flag("contractor_process", phrases["contractor_process"]))
    if channel == "survey" and reads_as_complaint:
        flags.append(make_flag("survey_dissatisfaction", [f"{p.kind}, dissatisfied {p.dissatisfied_score:.2f}"]))
    if p.kind in RESIDENT_KINDS or channel == "survey":
        if "vulnerability" in phrases:
            flags.append(make_flag("vulnerability", phrases["vulnerability"]))
        emergency = [t for r in EMERGENCY_HAZARDS for t in phrases.get(r, [])]
        if "hazard_heating" in phrases and "vulnerability" in phrases:  # no heating or water for a vulnerable household
            emergency += phrases["hazard_heating"]
        if emergency:
            flags.append(make_flag("emergency_hazard", emergency))
        if "hazard_damp_mould" in phrases:
            flags.append(make_flag("damp_mould", phrases["hazard_damp_mould"]))
    return flags
