"""Classify messages with a loaded model: files, JSONL records, or rows of the store."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from triage.classify import artefact
from triage.classify.cascade import CascadeModel
from triage.classify.data import TextInput, input_from_record
from triage.classify.model import Prediction, TriageModel
from triage.errors import InputError, ModelError
from triage.message import Message

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "default"


def load_model(folder: str | Path | None = None) -> tuple[TriageModel | CascadeModel, dict[str, Any]]:
    model, meta = artefact.load(folder or DEFAULT_MODEL)
    if not isinstance(model, TriageModel | CascadeModel):
        raise ModelError(f"{folder}: not a triage model (found {type(model).__name__}).")
    return model, meta


def predict(model: TriageModel | CascadeModel, inputs: list[TextInput]) -> list[Prediction]:
    """``model.predict(inputs)`` in a spaCy memory zone (after a process's first texts), so a
    process reading a long backlog keeps flat memory. Every path that classifies mail uses it."""
    from triage.text.nlp import memory_zone

    with memory_zone(len(inputs)):
        return model.predict(inputs)


def input_from_message(m: Message) -> TextInput:
    return TextInput(
        id=m.message_id or m.source.describe(),
        subject=m.subject,
        new=m.body_new,
        quoted=m.body_quoted,
        channel=m.channel,
        sender_addr=m.sender_addr,
        automated=m.automated,
    )


def input_from_row(row: dict[str, Any]) -> TextInput:
    return TextInput(
        id=str(row["id"]),
        subject=row["subject"],
        new=row["body_new"],
        quoted=row["body_quoted"],
        channel=row["channel"],
        sender_addr=row["sender_addr"],
        automated=row["automated"],
    )


def inputs_from_file(path: Path) -> Iterator[TextInput]:
    """JSONL records (one object per line) or mail files (.eml, .mbox, .msg, Maildir)."""
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"{path}:{number}: not a JSON object ({exc.msg}). Each line needs subject and body."
                    ) from None
                if not isinstance(record, dict):
                    raise InputError(f"{path}:{number}: expected a JSON object with subject and body.")
                yield input_from_record(record, f"{path.name}:{number}")
        return
    from triage.ingest.files import iter_paths, read_file

    for file in iter_paths([path]):
        for item in read_file(file):
            if isinstance(item, Message):
                yield input_from_message(item)
            else:
                raise InputError(f"{item.source.describe()}: {item.reason}")


BATCH = 500  # inputs per model.predict call: large enough that per-call costs vanish


def inputs_from_files(paths: Iterable[Path], size: int = BATCH) -> Iterator[list[TextInput]]:
    """``inputs_from_file`` over many paths, in batches of ``size`` that run across files."""
    batch: list[TextInput] = []
    for path in paths:
        for item in inputs_from_file(path):
            batch.append(item)
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def prediction_json(p: Prediction) -> dict[str, Any]:
    data = p.as_dict()
    data["evidence"] = [{"rule": e.rule, "text": e.text} for e in p.evidence]
    return data
