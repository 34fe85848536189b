"""Errors a user of triage can see.

Every message is a whole sentence that says what happened, where, and what to do next.

    TriageError
    ├── ConfigError      a pipeline, map or settings file is wrong
    ├── InputError       a file or folder given to triage cannot be used
    │   └── ColumnError  a spreadsheet lacks a mapped column (SurveyColumnError for surveys)
    ├── StoreError       the message store cannot be opened or upgraded
    ├── ImapError        an IMAP server refused the login, lacks a folder, or stayed unreachable
    ├── ModelError       a model artefact is missing, corrupt or tampered with
    └── ReviewError      a review-app account or setting cannot be used (triage user, serve)

Problems with a single message (broken MIME, undecodable bytes) are *not* errors: the message
is quarantined with its reason and the run goes on.
"""

from __future__ import annotations


class TriageError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""


class ConfigError(TriageError):
    pass


class InputError(TriageError):
    pass


class ColumnError(InputError):
    """A mapped column is missing from a spreadsheet: names the file, the column and those that exist."""

    what = "register"
    fix = "Fix the [columns] table of the map file (--map), or rename the column in the file."

    def __init__(self, path: str, column: str, role: str, available: list[str]) -> None:
        self.path, self.column, self.role, self.available = path, column, role, available
        shown = ", ".join(repr(c) for c in available) or "(no header row)"
        super().__init__(
            f"{path}: the {self.what} column {column!r} (mapped as {role!r}) is not in the file. "
            f"Columns that exist: {shown}. {self.fix}"
        )


class SurveyColumnError(ColumnError):
    what = "survey"
    fix = "Fix the [sources.columns] mapping in the pipeline file."


class StoreError(TriageError):
    pass


class ModelError(TriageError):
    pass


class ImapError(TriageError):
    pass


class ReviewError(TriageError):
    pass
