"""Find mail in files and folders: .eml, .mbox, Maildir folders and Outlook .msg files.

A folder is walked recursively in a stable (sorted) order. What a file holds is decided by its
content, not only its name: Maildir files and saved messages often have no extension. Files that
are not mail are quarantined with a reason, never skipped silently; dot-files (``.DS_Store``)
and Maildir ``tmp/`` folders (messages still being delivered) are the only things passed over.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from pathlib import Path

from triage.errors import InputError
from triage.ingest.email_parse import parse_email
from triage.ingest.outlook import OLE_MAGIC, parse_msg
from triage.message import Message, Quarantined, Source

Item = Message | Quarantined


def iter_paths(paths: list[Path]) -> Iterator[Path]:
    """Every file under the given paths; a missing path is an InputError naming it."""
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder. Check the path (it is relative to {Path.cwd()}).")
        if path.is_file():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if _walk_dir(Path(root) / d))
            for name in sorted(files):
                if not name.startswith("."):
                    yield Path(root) / name


def _walk_dir(path: Path) -> bool:
    if path.name == "tmp" and (path.parent / "cur").is_dir():
        return False  # Maildir tmp/: messages still being written
    # Maildir++ sub-folders are dot-named (".Complaints"); other dot-folders are not mail.
    return not path.name.startswith(".") or (path / "cur").is_dir() or (path / "new").is_dir()


def read_file(path: Path, channel: str = "email") -> Iterator[Item]:
    """Parse one file into messages (several for an mbox) or quarantined items."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield Quarantined(Source("file", path=str(path)), f"could not read the file: {exc.strerror}", b"")
        return
    source = Source("file", path=str(path))
    if raw.startswith(OLE_MAGIC):
        yield parse_msg(raw, source, channel)
    elif path.suffix.lower() == ".mbox" or raw.startswith(b"From "):
        yield from _read_mbox(path, raw, channel)
    else:
        yield parse_email(raw, source, channel)


def _read_mbox(path: Path, raw: bytes, channel: str) -> Iterator[Item]:
    if not raw.strip():
        yield Quarantined(Source("file", path=str(path)), "empty mbox file: there are no messages in it", raw)
        return
    try:
        box = mailbox.mbox(str(path), create=False)
        keys = box.keys()
    except Exception as exc:
        yield Quarantined(Source("file", path=str(path)), f"not a readable mbox file ({exc})", raw)
        return
    if not keys:
        yield parse_email(raw, Source("file", path=str(path)), channel)
        return
    try:
        for index, key in enumerate(keys):
            source = Source("file", path=str(path), index=index)
            try:
                data = box.get_bytes(key, from_=False)
            except Exception as exc:
                yield Quarantined(source, f"mbox message {index} could not be read ({exc})", b"")
                continue
            yield parse_email(data, source, channel)
    finally:
        box.close()
