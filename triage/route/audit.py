"""Audit a landlord's register for ghost stages.

A register is a spreadsheet of contacts with the handling the landlord recorded ("service
request", "informal resolution", "MP enquiry", "stage 1", ...). The audit classifies each
contact's text and lists those recorded outside the complaints process whose text reads as a
complaint, with the rule and the evidence, and counts by recorded category and service area.
Bad rows (no date, no text) are listed, never dropped silently.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from triage.classify.data import TextInput
from triage.classify.model import Prediction, TriageModel
from triage.errors import ColumnError
from triage.ingest.register import ValueProblem, date_value, read_register
from triage.pipeline import load_toml
from triage.route.audit_rules import dissatisfaction_cues, neighbour_dispute, new_text
from triage.route.flags import make_flag, message_flags, normalise_category
from triage.sheets import write_csv_rows


class RegisterColumns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reference: str = "reference"
    received: str = "received"
    category: str = "category"
    text: str = "text"
    service_area: str | None = "service_area"
    # Read by `triage report` (optional: a register without them gives fewer figures).
    stage: str | None = "stage"
    themes: str | None = "themes"
    acknowledged: str | None = "acknowledged"
    responded: str | None = "responded"
    extension_agreed: str | None = "extension_agreed"
    outcome: str | None = "outcome"


class RegisterMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: RegisterColumns = RegisterColumns()
    base_dir: Path = Field(default=Path("."), exclude=True)


def load_map(path: str | Path | None) -> RegisterMap:
    if path is None:
        return RegisterMap()
    return load_toml(path, RegisterMap, "register map file", "See pipelines/register-map.toml for an example.")


@dataclass
class Entry:
    row: int
    reference: str
    received: str
    category: str
    recorded_as: str
    formal: bool | None
    service_area: str
    kind: str
    complaint_score: float
    dissatisfied_score: float
    flags: list[dict[str, Any]]
    # A formal-stage row whose text mentions an earlier informal complaint / stage 0: evidence of
    # a ghost stage before this row, not a ghost stage of it.
    earlier_ghost: list[str] = field(default_factory=list)

    @property
    def ghost(self) -> bool:
        return any(f["type"] == "ghost_stage" for f in self.flags)


@dataclass
class AuditResult:
    register: str
    entries: list[Entry] = field(default_factory=list)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flagged(self) -> list[Entry]:
        return [e for e in self.entries if e.ghost]

    @property
    def earlier(self) -> list[Entry]:
        return [e for e in self.entries if e.earlier_ghost]

    def counts(self, key: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for e in self.entries:
            bucket = out.setdefault(getattr(e, key) or "(blank)", {"contacts": 0, "outside_process": 0, "flagged": 0})
            bucket["contacts"] += 1
            bucket["outside_process"] += e.formal is False
            bucket["flagged"] += e.ghost
        return dict(sorted(out.items()))

    def as_json(self) -> dict[str, Any]:
        return {
            "register": self.register,
            "contacts": len(self.entries),
            "outside_process": sum(e.formal is False for e in self.entries),
            "flagged": [
                {"reference": e.reference, "rule": f["rule"], "code": f["code"], "evidence": f["evidence"]}
                for e in self.flagged
                for f in e.flags
                if f["type"] == "ghost_stage"
            ],
            "earlier_ghost_stages": [
                {"row": e.row, "reference": e.reference, "recorded_as": e.recorded_as, "evidence": e.earlier_ghost}
                for e in self.earlier
            ],
            "by_recorded_category": self.counts("category"),
            "by_service_area": self.counts("service_area"),
            "bad_rows": self.bad_rows,
        }


def audit(path: Path, register_map: RegisterMap, model: TriageModel) -> AuditResult:
    cols = register_map.columns
    header, rows = read_register(path, [cols.reference, cols.received, cols.category, cols.text])
    roles = [("reference", cols.reference), ("received", cols.received), ("category", cols.category), ("text", cols.text)]
    if cols.service_area:
        roles.append(("service_area", cols.service_area))
    for role, column in roles:
        if column not in header:
            raise ColumnError(str(path), column, role, [h for h in header if h])
    result = AuditResult(str(path))
    pending: list[tuple[int, dict[str, object]]] = []
    for number, row in rows:
        reference = str(row.get(cols.reference) or "").strip()
        text = str(row.get(cols.text) or "").strip()
        received = _received(row.get(cols.received))
        problems = [
            p for p, bad in (("no text", not text), (f"column {cols.received!r}: {received}", isinstance(received, str))) if bad
        ]
        if problems:
            result.bad_rows.append({"row": number, "reference": reference, "reason": " and ".join(problems)})
            continue
        pending.append((number, row))
    texts = [new_text(str(r.get(cols.text)).strip()) for _, r in pending]
    predictions = model.predict([TextInput(str(n), "", t, "") for (n, _), t in zip(pending, texts, strict=True)])
    for (number, row), text, p in zip(pending, texts, predictions, strict=True):
        recorded = str(row.get(cols.category) or "").strip()
        category, formal = normalise_category(recorded)
        received = _received(row.get(cols.received))
        assert isinstance(received, date)
        flags, earlier = _flags(p, recorded, category, formal, text)
        result.entries.append(
            Entry(
                row=number,
                reference=str(row.get(cols.reference) or "").strip(),
                received=received.isoformat(),
                category=category,
                recorded_as=recorded,
                formal=formal,
                service_area=str(row.get(cols.service_area) or "").strip() if cols.service_area else "",
                kind=p.kind,
                complaint_score=p.kind_scores["complaint"],
                dissatisfied_score=p.dissatisfied_score,
                flags=flags,
                earlier_ghost=earlier,
            )
        )
    return result


NEUTRAL_MP_SCORE = 0.5  # an MP enquiry the model calls dissatisfied below this, with no cue in the text, is neutral


def _flags(p: Prediction, recorded: str, category: str, formal: bool | None, text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The row's flags (as dicts) and, for a formal-stage row, the evidence of an earlier ghost
    stage. The classifier's flags (``message_flags``) corrected by ``audit_rules``."""
    flags = message_flags(p, "email", recorded_as=recorded)
    if formal is True:
        earlier = [e for f in flags if f.rule == "informal_stage_language" for e in f.evidence]
        # Recorded at a formal stage: never a ghost stage itself (its other flags, such as hazards, stay).
        return [f.as_dict() for f in flags if f.type != "ghost_stage"], earlier
    if formal is False:
        cues = dissatisfaction_cues(text)
        rules = {f.rule for f in flags}
        if neighbour_dispute(text):
            flags = [f for f in flags if f.rule not in ("recorded_outside_process", "dissatisfied_mp_enquiry")]
        elif category == "mp_enquiry":
            if "dissatisfied_mp_enquiry" in rules and not cues and p.dissatisfied_score < NEUTRAL_MP_SCORE:
                flags = [f for f in flags if f.rule != "dissatisfied_mp_enquiry"]
            elif "dissatisfied_mp_enquiry" not in rules and cues:
                flags.append(make_flag("dissatisfied_mp_enquiry", [f"recorded as {recorded!r}", *cues]))
        elif "recorded_outside_process" not in rules and cues:
            flags.append(make_flag("recorded_outside_process", [f"recorded as {recorded!r}; reads as dissatisfied", *cues]))
    return [f.as_dict() for f in flags], []


def _received(value: object) -> date | str:
    """The received date, or what is wrong with it (a row/column/value problem)."""
    try:
        day = date_value(value)
    except ValueProblem as exc:
        return str(exc)
    return day if day is not None else "no received date"


def write_csv(result: AuditResult, path: Path) -> None:
    header = [
        "reference",
        "received",
        "recorded_as",
        "service_area",
        "kind",
        "complaint_score",
        "dissatisfied_score",
        "rules",
        "evidence",
    ]
    rows = []
    for e in result.flagged:
        ghost = [f for f in e.flags if f["type"] == "ghost_stage"]
        rows.append(
            [
                e.reference,
                e.received,
                e.recorded_as,
                e.service_area,
                e.kind,
                f"{e.complaint_score:.2f}",
                f"{e.dissatisfied_score:.2f}",
                "; ".join(f["rule"] for f in ghost),
                " | ".join(str(x) for f in ghost for x in f["evidence"]),
            ]
        )
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_csv_rows(handle, [header, *rows])


def write_html(result: AuditResult, path: Path) -> None:
    """A self-contained page; every value from the register is escaped."""
    esc = html.escape

    def table(title: str, counts: dict[str, dict[str, int]]) -> str:
        rows = "".join(
            f"<tr><th scope='row'>{esc(k)}</th><td>{v['contacts']}</td><td>{v['outside_process']}</td>"
            f"<td>{v['flagged']}</td></tr>"
            for k, v in counts.items()
        )
        return (
            f"<h2>{esc(title)}</h2><table><thead><tr><th scope='col'>{esc(title.split(' by ')[-1])}</th>"
            "<th scope='col'>contacts</th><th scope='col'>recorded outside the process</th>"
            f"<th scope='col'>flagged</th></tr></thead><tbody>{rows}</tbody></table>"
        )

    flagged = "".join(
        f"<tr><td>{esc(e.reference)}</td><td>{esc(e.received)}</td><td>{esc(e.recorded_as)}</td><td>{esc(e.service_area)}</td>"
        f"<td>{esc('; '.join(f['rule'] + ' (Code ' + f['code'] + ')' for f in e.flags if f['type'] == 'ghost_stage'))}</td>"
        f"<td>{esc(' | '.join(str(x) for f in e.flags if f['type'] == 'ghost_stage' for x in f['evidence']))}</td></tr>"
        for e in result.flagged
    )
    earlier = "".join(
        f"<tr><td>{e.row}</td><td>{esc(e.reference)}</td><td>{esc(e.recorded_as)}</td><td>{esc(' | '.join(e.earlier_ghost))}</td></tr>"
        for e in result.earlier
    )
    bad = "".join(
        f"<li>row {b['row']} ({esc(b['reference'] or 'no reference')}): {esc(b['reason'])}</li>" for b in result.bad_rows
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ghost-stage audit</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}}table{{border-collapse:collapse;margin:1rem 0}}
th,td{{border:1px solid #6f777b;padding:.3rem .6rem;text-align:left;vertical-align:top}}thead th{{background:#f3f2f1}}</style>
</head><body><main>
<h1>Ghost-stage audit of {esc(result.register)}</h1>
<p>{len(result.entries)} contacts read; {sum(e.formal is False for e in result.entries)} recorded outside the complaints
process; <strong>{len(result.flagged)} flagged</strong> because their text reads as a complaint or uses informal-stage
language. A flag is a reason to look, not a verdict.</p>
{table("Contacts by recorded category", result.counts("category"))}
{table("Contacts by service area", result.counts("service_area"))}
<h2>Flagged contacts</h2>
<table><thead><tr><th scope="col">reference</th><th scope="col">received</th><th scope="col">recorded as</th>
<th scope="col">service area</th><th scope="col">rule</th><th scope="col">evidence</th></tr></thead><tbody>{flagged}</tbody></table>
<h2>Evidence of earlier ghost stages</h2>
<p>Rows recorded at a formal stage whose text mentions an earlier informal complaint or stage 0: the earlier handling
was a ghost stage; this row is not.</p>
<table><thead><tr><th scope="col">row</th><th scope="col">reference</th><th scope="col">recorded as</th>
<th scope="col">evidence</th></tr></thead><tbody>{earlier}</tbody></table>
<h2>Rows that could not be read</h2><ul>{bad or "<li>none</li>"}</ul>
</main></body></html>
"""
    path.write_text(page, encoding="utf-8")


def entry_dicts(result: AuditResult) -> list[dict[str, Any]]:
    return [asdict(e) for e in result.entries]
