"""report.json: every figure and table of the report with its definition, machine-readable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from triage.report.figures import Report


def as_json(report: Report) -> dict[str, Any]:
    return {
        "title": report.title,
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "by": report.by,
        "sources": report.sources,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "definitions": report.definitions,
        "figures": {f.id: {"label": f.label, "value": f.value, "definition": f.definition} for f in report.figures},
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "intro": s.intro,
                "notes": s.notes,
                "tables": [
                    {"id": t.id, "title": t.title, "definition": t.definition, "columns": t.columns, "rows": t.rows}
                    for t in s.tables
                ],
            }
            for s in report.sections
        ],
    }


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(as_json(report), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
