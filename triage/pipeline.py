"""Pipeline files: declarative TOML jobs in ``pipelines/``.

A pipeline says where messages come from and which store they go to. Relative paths are
resolved against the pipeline file's own folder, so a job runs the same from any directory.
Secrets (passwords, tokens) are never accepted here: a source names the environment variable or
file that holds them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from triage.cases.rules import CaseRules
from triage.errors import ConfigError
from triage.ingest.imap.config import SECRET_ERROR, ImapSource
from triage.ingest.survey import SurveyColumns

_STRICT = ConfigDict(extra="forbid", frozen=True)


class PipelineInfo(BaseModel):
    model_config = _STRICT
    name: str = Field(description="A short name for the job, shown in summaries and stored with each run.")
    store: str = Field("triage.db", description="SQLite file path or postgresql:// URL of the message store.")
    model: str | None = Field(None, description="Model folder (models/<name>); when set, new messages are classified.")
    routing: str | None = Field(None, description="Routing table (TOML); default pipelines/routing.toml.")
    nation: Literal["england", "wales", "scotland", "northern-ireland"] = Field(
        "england", description="Whose bank holidays count as non-working days."
    )
    homes: int | None = Field(
        None, ge=1, description="Homes owned (stock size), for complaints per 1,000 homes (CH01) in reports."
    )
    description: str = ""

    @field_validator("store")
    @classmethod
    def _no_password(cls, value: str) -> str:
        if "://" in value and "@" in value.split("://", 1)[1].split("/", 1)[0]:
            userinfo = value.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[0]
            if ":" in userinfo:
                raise PydanticCustomError(
                    SECRET_ERROR,
                    "the store URL holds a password, which is never accepted in a pipeline file (it would be committed "
                    "with it): leave it out and put it in PGPASSWORD or a ~/.pgpass file (PGPASSFILE) for the service",
                )
        return value


class FilesSource(BaseModel):
    """Mail saved as files: .eml, .mbox, Maildir folders, Outlook .msg; folders are walked."""

    model_config = _STRICT
    type: Literal["files"]
    paths: list[str] = Field(min_length=1)
    channel: Literal["email", "webform", "social"] = "email"
    webform_senders: list[str] = Field(
        default_factory=list,
        description="Sender addresses of the website's form notifications: their mail is channel 'webform'.",
    )


class SurveyColumnsConfig(BaseModel):
    model_config = _STRICT
    text: str
    respondent: str | None = None
    received: str | None = None
    response_id: str | None = None
    question: str | None = None

    def to_columns(self) -> SurveyColumns:
        return SurveyColumns(**self.model_dump())


class SurveySource(BaseModel):
    """A survey export (CSV or XLSX) with a column mapping."""

    model_config = _STRICT
    type: Literal["survey"]
    path: str
    columns: SurveyColumnsConfig


Source = Annotated[FilesSource | SurveySource | ImapSource, Field(discriminator="type")]

_CASE_DEFAULTS = CaseRules()


class CasesConfig(BaseModel):
    """How messages are linked into cases, and when repeated chasing is flagged."""

    model_config = _STRICT
    reference_patterns: list[str] = Field(
        default_factory=lambda: list(_CASE_DEFAULTS.reference_patterns),
        description="Regular expressions with one (group): a case reference in a subject or body.",
    )
    window_days: int = Field(
        _CASE_DEFAULTS.window_days, ge=1, description="Same resident and theme within this many days joins the case."
    )
    chasing_contacts: int = Field(
        _CASE_DEFAULTS.chasing_contacts, ge=2, description="Contacts on one case that count as repeated chasing ..."
    )
    chasing_days: int = Field(
        _CASE_DEFAULTS.chasing_days, ge=1, description="... within this many days, when no complaint is logged."
    )

    own_domains: list[str] = Field(
        default_factory=list, description="The landlord's own mail domains: staff replies on a case are not resident contacts."
    )

    def to_rules(self) -> CaseRules:
        return CaseRules(
            tuple(self.reference_patterns),
            self.window_days,
            self.chasing_contacts,
            self.chasing_days,
            tuple(d.lower().lstrip("@") for d in self.own_domains),
        )


class RetentionConfig(BaseModel):
    """How long what residents wrote is kept once a case is closed (``triage purge``)."""

    model_config = _STRICT
    closed_cases_days: int | None = Field(
        None,
        ge=1,
        description="Purge the text of cases closed more than this many days ago, and of messages on no case "
        "received that long ago (unset: triage purges nothing on its own).",
    )


class Pipeline(BaseModel):
    model_config = _STRICT
    pipeline: PipelineInfo
    sources: list[Source] = Field(min_length=1)
    cases: CasesConfig = Field(default_factory=CasesConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    # Set by load(): the folder relative paths are resolved against.
    base_dir: Path = Field(default=Path("."), exclude=True)

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def model_dir(self) -> Path | None:
        return self.resolve(self.pipeline.model) if self.pipeline.model else None

    def store_url(self) -> str:
        store = self.pipeline.store
        return store if "://" in store else str(self.resolve(store))


M = TypeVar("M", bound=BaseModel)


def load_toml(path: str | Path, model: type[M], what: str, hint: str) -> M:
    """Read a TOML file into a pydantic model; every problem is a ConfigError naming the file
    and the key. ``base_dir`` is set to the file's folder so relative paths resolve there."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}. {hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: could not read the {what} ({exc}).") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the syntax and run again.") from exc
    try:
        loaded = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation(exc, what)}") from None
    return loaded.model_copy(update={"base_dir": path.resolve().parent})


def load(path: str | Path) -> Pipeline:
    """Read and check a pipeline file."""
    return load_toml(path, Pipeline, "pipeline file", "The shipped ones are in pipelines/ (e.g. pipelines/sample.toml).")


def describe_validation(exc: ValidationError, what: str = "pipeline file") -> str:
    lines = []
    for err in exc.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        where = where.replace(".files", "").replace(".survey", "").replace(".imap", "")
        if err["type"] == SECRET_ERROR:  # never echo the secret back
            lines.append(f"{where}: {err['msg']}")
        elif err["type"] == "extra_forbidden":
            lines.append(f"unknown key {where!r}: remove it or check its spelling")
        elif err["type"] == "missing":
            lines.append(f"missing key {where!r}")
        else:
            lines.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines) + f". Fix the {what} and run again."
