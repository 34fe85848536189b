"""The labelled corpus (``training_data/``) and the classifier's input record."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.errors import InputError
from triage.ingest.replies import split_body
from triage.labels import CHANNELS, KINDS, THEMES

SPLITS = ("train", "dev", "test")


@dataclass(slots=True)
class TextInput:
    """What the classifier reads about one message."""

    id: str
    subject: str = ""
    new: str = ""
    quoted: str = ""
    channel: str = "email"
    sender_addr: str = ""
    automated: str | None = None


@dataclass(slots=True)
class Example:
    input: TextInput
    kind: str
    dissatisfied: bool
    themes: list[str]
    tags: list[str] = field(default_factory=list)
    source: str = ""
    weight: float = 1.0  # how much the example counts in training (staff reviews count more: ModelConfig.review_weight)


def input_from_record(record: dict[str, Any], line: str = "") -> TextInput:
    """A training-format or classify-format JSON object: the body is split like real mail."""
    body = str(record.get("body") or "")
    parts = split_body(body)
    return TextInput(
        id=str(record.get("id") or line),
        subject=str(record.get("subject") or ""),
        new=parts.new,
        quoted=parts.quoted,
        channel=str(record.get("channel") or "email"),
        sender_addr=str(record.get("from_addr") or "").lower(),
    )


def read_examples(path: Path) -> list[Example]:
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
                labels = record["labels"]
                kind, dissatisfied, themes = labels["kind"], labels["dissatisfied"], labels["themes"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"{where}: not a training record ({exc}). See training_data/GUIDE.md section 7.") from exc
            if kind not in KINDS or not isinstance(dissatisfied, bool) or not set(themes) <= set(THEMES):
                raise InputError(f"{where}: labels {labels} use a value not in triage/labels.py.")
            if record.get("channel") not in CHANNELS:
                raise InputError(f"{where}: channel {record.get('channel')!r} is not one of {', '.join(CHANNELS)}.")
            examples.append(
                Example(input_from_record(record), kind, dissatisfied, sorted(set(themes)), list(record.get("tags") or []), where)
            )
    return examples


def split_files(root: Path, split: str) -> list[Path]:
    folder = root / split
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise InputError(f"{folder}: no .jsonl files for the {split!r} split.")
    return files


def load_split(root: Path, split: str) -> list[Example]:
    examples = [e for path in split_files(root, split) for e in read_examples(path)]
    return sorted(examples, key=lambda e: e.input.id)


def data_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
