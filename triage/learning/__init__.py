"""Learning outcomes and commitments: what each complaint taught and promised, tracked to done.

- ``records``: learning outcomes in the store (add, list, implement, drop, link to cases).
- ``io``: a landlord's learning log in and out as CSV/XLSX, with a map file for other layouts.
- ``commitments``: what a response promised, the overdue and closed-without-evidence rules.
- ``figures``: the learning section of the theme-trend report (imported on its own: it uses
  the report's tables).

Other parts of triage (the queue, ``triage case show``, the review app) call
``overdue_for_case`` (one case) or ``overdue_by_case`` (every case, in one read) to show an
overdue commitment wherever the case is shown.
"""

from triage.learning.commitments import (
    CLOSED_WITHOUT_EVIDENCE,
    Commitment,
    add_commitment,
    cancel_commitment,
    close_commitment,
    list_commitments,
    overdue_by_case,
    overdue_for_case,
)
from triage.learning.records import Outcome, add_outcome, drop_outcome, get_outcome, list_outcomes, mark_implemented

__all__ = [
    "CLOSED_WITHOUT_EVIDENCE",
    "Commitment",
    "Outcome",
    "add_commitment",
    "add_outcome",
    "cancel_commitment",
    "close_commitment",
    "drop_outcome",
    "get_outcome",
    "list_commitments",
    "list_outcomes",
    "mark_implemented",
    "overdue_by_case",
    "overdue_for_case",
]
