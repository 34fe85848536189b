"""Flag rules, each with a positive and a negative case, on the real model."""

from __future__ import annotations

import pytest
from conftest import ROOT

from triage.classify.data import TextInput
from triage.classify.service import load_model
from triage.route.flags import message_flags, normalise_category


@pytest.fixture(scope="module")
def model():
    return load_model(ROOT / "models" / "default")[0]


def rules(
    model, text: str, subject: str = "", channel: str = "email", recorded_as: str | None = None, sender: str = ""
) -> set[str]:
    [p] = model.predict([TextInput("t", subject, text, "", channel, sender)])
    return {f.rule for f in message_flags(p, channel, recorded_as)}


def test_informal_stage_language(model) -> None:
    assert "informal_stage_language" in rules(
        model,
        "Your officer said she would log my complaint as a stage 0 informal resolution. The leak is still there after six weeks.",
    )
    assert "informal_stage_language" not in rules(model, "The leak is still there after six weeks, nobody has come.")


def test_dissatisfied_mp_enquiry(model) -> None:
    angry = (
        "Dear Sir, I write on behalf of my constituent Mrs Patel, who is extremely distressed that the mould in her "
        "flat has still not been treated after eight months and three visits. Yours, Jane Doe MP, House of Commons"
    )
    neutral = (
        "Dear Sir, my constituent Mr Lee has asked me to find out where he is on the housing register. I would be "
        "grateful for an update. Yours, Jane Doe MP, House of Commons"
    )
    assert "dissatisfied_mp_enquiry" in rules(model, angry, sender="jane.doe.mp@parliament.uk")
    assert "dissatisfied_mp_enquiry" not in rules(model, neutral, sender="jane.doe.mp@parliament.uk")


def test_recorded_outside_process(model) -> None:
    complaint = "Third time I have reported the broken boiler. Nobody came on Tuesday and nobody rang. This is appalling."
    request = "Please can someone come and look at the dripping tap in my bathroom when convenient."
    assert "recorded_outside_process" in rules(model, complaint, recorded_as="Service request")
    assert "recorded_outside_process" not in rules(model, request, recorded_as="Service request")
    assert "recorded_outside_process" not in rules(model, complaint, recorded_as="Stage 1")


def test_contractor_process(model) -> None:
    assert "contractor_process" in rules(
        model,
        "The kitchen fitters ruined my floor and when I rang you I was told to "
        "complain to the contractor directly. That is not good enough.",
    )
    assert "contractor_process" not in rules(model, "The kitchen fitters ruined my floor. That is not good enough.")


def test_survey_dissatisfaction(model) -> None:
    assert "survey_dissatisfaction" in rules(model, "still waiting for the fence after 3 months, useless", channel="survey")
    assert "survey_dissatisfaction" not in rules(model, "the plumber was great, thank you", channel="survey")


def test_vulnerability_and_hazards(model) -> None:
    found = rules(model, "I can smell gas in the kitchen and my baby is only three weeks old. Please send someone.")
    assert {"vulnerability", "emergency_hazard"} <= found
    assert "damp_mould" in rules(model, "There is black mould all over the bedroom wall, please can someone inspect it.")
    calm = rules(model, "Please can someone replace the cracked tile in the hallway.")
    assert not {"vulnerability", "emergency_hazard", "damp_mould"} & calm


def test_no_heating_is_an_emergency_only_for_a_vulnerable_household(model) -> None:
    assert "emergency_hazard" in rules(model, "No heating since Friday and my mum is 89 with dementia.")
    assert "emergency_hazard" not in rules(model, "No heating since Friday, please can someone come this week.")


def test_hazard_and_vulnerability_are_not_raised_on_newsletters(model) -> None:
    text = "Tenants' newsletter: our damp and mould campaign, help for disabled residents, and the summer fun day."
    assert not {"vulnerability", "damp_mould"} & rules(model, text, subject="Northbrook Voice newsletter")


@pytest.mark.parametrize(
    ("recorded", "normalised", "formal"),
    [
        ("Service Request", "service_request", False),
        ("Informal resolution", "informal_resolution", False),
        ("Stage 1", "stage_1", True),
        ("stage-2", "stage_2", True),
        ("MP Enquiry", "mp_enquiry", False),
        ("Complaint", "complaint", True),
        ("Something else", "something_else", None),
    ],
)
def test_register_categories(recorded: str, normalised: str, formal: bool | None) -> None:
    assert normalise_category(recorded) == (normalised, formal)
