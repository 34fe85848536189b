"""Cases: the messages about one issue, the stage its handling has reached, and its history.

Public surface (other parts of triage, the CLI and the review app use these):

- ``link_message`` (called by the classification job) puts a message on its case;
- ``record_event``, ``split_case``, ``merge_cases``: what staff do;
- ``get_case``, ``list_cases``, ``case_of_message``: reading;
- ``Event``, ``EVENTS``, ``STAGES``, ``OUTCOMES``: the vocabulary;
- ``CaseRules``: linking patterns, window and repeated-chasing thresholds.
"""

from triage.cases.history import EVENTS, OUTCOMES, STAGES, Event
from triage.cases.records import case_of_message, get_case, link_message, list_cases, merge_cases, record_event, split_case
from triage.cases.rules import CaseRules

__all__ = [
    "EVENTS",
    "OUTCOMES",
    "STAGES",
    "CaseRules",
    "Event",
    "case_of_message",
    "get_case",
    "link_message",
    "list_cases",
    "merge_cases",
    "record_event",
    "split_case",
]
