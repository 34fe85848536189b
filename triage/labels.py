"""The label, theme, channel and flag vocabularies: the one place they are written down.

Their meanings are defined in the team's shared ``labels.md`` and in
``training_data/GUIDE.md``; code, tests and docs read the lists from here.
"""

from __future__ import annotations

KINDS: tuple[str, ...] = ("complaint", "service_request", "mp_enquiry", "compliment", "other")

THEMES: tuple[str, ...] = (
    "repairs",
    "damp_mould",
    "heating_gas",
    "contractor",
    "communication",
    "allocations",
    "homelessness",
    "anti_social_behaviour",
    "staff_conduct",
    "rent_charges",
    "voids_lettings",
    "estate_grounds",
    "leasehold",
    "tenancy_management",
    "complaint_handling",
)

# social: posts and direct messages to the landlord's social-media accounts, and SMS texts.
CHANNELS: tuple[str, ...] = ("email", "survey", "webform", "social")

# What the header rules in triage.ingest.automail can mark a message as.
AUTOMATED_TYPES: tuple[str, ...] = ("auto_reply", "bounce", "bulk")

# Learning outcomes and commitments (triage.learning).
RISKS: tuple[str, ...] = ("red", "amber", "green")  # risk of a repeat complaint or an Ombudsman finding if not done
ACTION_TYPES: tuple[str, ...] = ("policy", "process", "procedure", "training", "contractor", "other")
OUTCOME_STATUSES: tuple[str, ...] = ("open", "implemented", "dropped")
COMMITMENT_KINDS: tuple[str, ...] = ("repair", "inspection", "payment", "call_back", "other")
COMMITMENT_STATUSES: tuple[str, ...] = ("open", "done", "cancelled")
