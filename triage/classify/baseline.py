"""A simple keyword baseline, evaluated beside the model so the model shows what it earns.

It is what a team might write in an afternoon: a few words per kind and per theme.
"""

from __future__ import annotations

import re

from triage.classify.data import TextInput

_UNHAPPY = re.compile(
    r"complain|unacceptable|disgust|appalling|still waiting|(third|fourth|fifth) time|"
    r"nobody (came|has)|no one (came|has)|stage 2|ombudsman|not happy|fed up|ridiculous|"
    r"disappointed|let down|useless",
    re.I,
)

_KIND_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "other",
        re.compile(
            r"out of (the )?office|automatic reply|undeliverable|delivery (status|failure)|unsubscribe|"
            r"newsletter|freedom of information|\bfoi\b|invoice|mailbox (is )?full",
            re.I,
        ),
    ),
    ("mp_enquiry", re.compile(r"\bmp\b|member of parliament|constituent|house of commons|parliament\.uk", re.I)),
    ("complaint", _UNHAPPY),
    ("compliment", re.compile(r"thank you|thanks|brilliant|great job|excellent|well done|grateful|lovely", re.I)),
]

_THEME_RULES: dict[str, re.Pattern[str]] = {
    "repairs": re.compile(r"repair|leak|broken|door|window|roof|fence|gutter|toilet|tap\b", re.I),
    "damp_mould": re.compile(r"damp|mould|mold|condensation", re.I),
    "heating_gas": re.compile(r"boiler|heating|hot water|radiator|gas\b", re.I),
    "contractor": re.compile(r"contractor|workm[ae]n|engineer|operative|fitter|plumber|electrician", re.I),
    "communication": re.compile(r"call(ed)? back|no (reply|response)|not (been )?kept informed|chas(e|ing)|heard nothing", re.I),
    "allocations": re.compile(r"band(ing)?\b|bidding|housing register|waiting list|transfer|mutual exchange|offer", re.I),
    "homelessness": re.compile(r"homeless|temporary accommodation|\bta\b|hostel|b&b|bed and breakfast", re.I),
    "anti_social_behaviour": re.compile(r"anti.?social|\basb\b|noise|neighbour|harass|drug|threat", re.I),
    "staff_conduct": re.compile(r"rude|attitude|unprofessional|housing officer|staff member", re.I),
    "rent_charges": re.compile(r"rent\b|arrears|service charge|recharge|refund|compensation|universal credit", re.I),
    "voids_lettings": re.compile(r"moved in|move in|sign.?up|new tenancy|void|lettings standard", re.I),
    "estate_grounds": re.compile(r"communal|bins?\b|fly.?tip|grass|trees?\b|lighting|parking|estate", re.I),
    "leasehold": re.compile(r"leasehold|lease\b|section 20|major works|ground rent", re.I),
    "tenancy_management": re.compile(r"succession|joint tenan|tenancy (change|audit|check|warning)|notice to quit|pet", re.I),
    "complaint_handling": re.compile(r"complaint (was|has been|not)|stage 1 response|acknowledg|escalat", re.I),
}


def baseline_predict(item: TextInput) -> tuple[str, bool, list[str]]:
    text = f"{item.subject}\n{item.new}"
    kind = "service_request"
    for label, pattern in _KIND_RULES:
        if pattern.search(text):
            kind = label
            break
    dissatisfied = kind == "complaint" or (kind == "mp_enquiry" and bool(_UNHAPPY.search(text)))
    themes = [] if kind == "other" else [t for t, p in _THEME_RULES.items() if p.search(text)]
    return kind, dissatisfied, themes
