"""The routing table (``pipelines/routing.toml``): kind + themes -> a service-area queue.

Rules are tried in order and the first match wins, so the order is the priority for messages
with several themes. Complaints, and MP enquiries that express dissatisfaction (a complaint
made through a representative, Code 1.3), also go on the complaints register.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from triage.labels import KINDS, THEMES
from triage.pipeline import load_toml

DEFAULT_TABLE = Path(__file__).resolve().parents[2] / "pipelines" / "routing.toml"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    queue: str
    kinds: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)

    @field_validator("kinds", "themes")
    @classmethod
    def _known_labels(cls, value: list[str], info: ValidationInfo) -> list[str]:
        allowed = KINDS if info.field_name == "kinds" else THEMES
        unknown = set(value) - set(allowed)
        if unknown:
            raise ValueError(f"unknown {info.field_name[:-1]}(s) {sorted(unknown)}; {info.field_name} are {', '.join(allowed)}")
        return value

    def matches(self, kind: str, themes: list[str]) -> bool:
        return (not self.kinds or kind in self.kinds) and (not self.themes or bool(set(themes) & set(self.themes)))


class RoutingTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default_queue: str
    complaints_register: str
    rules: list[Rule] = Field(default_factory=list)
    base_dir: Path = Field(default=Path("."), exclude=True)


@dataclass(frozen=True, slots=True)
class Route:
    queue: str
    on_complaints_register: bool
    rule: str  # why: which rule matched

    def as_dict(self) -> dict[str, object]:
        return {"queue": self.queue, "on_complaints_register": self.on_complaints_register, "rule": self.rule}


def load_table(path: str | Path | None = None) -> RoutingTable:
    return load_toml(path or DEFAULT_TABLE, RoutingTable, "routing table", "The shipped one is pipelines/routing.toml.")


def route(table: RoutingTable, kind: str, themes: list[str], dissatisfied: bool) -> Route:
    register = kind == "complaint" or (kind == "mp_enquiry" and dissatisfied)
    for number, rule in enumerate(table.rules, 1):
        if rule.matches(kind, themes):
            matched = sorted(set(themes) & set(rule.themes)) or ([kind] if rule.kinds else [])
            return Route(rule.queue, register, f"rule {number} ({', '.join(matched) or 'any'})")
    return Route(table.default_queue, register, "default queue (no rule matched)")
