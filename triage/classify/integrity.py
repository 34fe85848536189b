"""Checksums for model folders: every file a model reads is listed with its size and SHA-256,
and checked before it is read. pickle can run code when it loads, so nothing is
unpickled until its bytes are known to be the ones training wrote."""

from __future__ import annotations

import hashlib
from pathlib import Path

from triage.errors import ModelError


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path) -> dict[str, object]:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def verify_files(folder: Path, files: dict[str, dict[str, object]], what: str = "model") -> None:
    """Refuse a folder whose listed files are missing, truncated or changed."""
    for name, record in files.items():
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ModelError(f"{folder}: the {what} sidecar lists {name!r}, outside its folder. Refused; retrain or restore it.")
        if not path.is_file():
            raise ModelError(f"{path}: this {what} file is missing. Restore the folder or retrain with `triage train`.")
        size = path.stat().st_size
        if size != record.get("bytes"):
            raise ModelError(
                f"{path}: refused to load: {size:,} bytes where the sidecar says {record.get('bytes'):,} "
                "(truncated or replaced). Restore the folder or retrain with `triage train`."
            )
        actual = sha256_file(path)
        if actual != record.get("sha256"):
            raise ModelError(
                f"{path}: refused to load: its SHA-256 ({actual[:16]}...) does not match the sidecar "
                f"({str(record.get('sha256'))[:16]}...). The file is corrupt or has been changed; a model file can run "
                "code when loaded, so only load artefacts you trained or trust. Retrain with `triage train`."
            )
