"""Model artefacts on disk: ``models/<name>/``.

    model.pkl.zlib the fitted model (TriageModel, or a CascadeModel of two): a pickle, zlib-compressed
                   (models saved before December 2026 are ``model.joblib``, still loaded)
    model.json     sidecar: the size and SHA-256 of every file in the folder, the sentence
                   encoder's name, version, licence and file hashes (cascade), library versions,
                   training-data hash, configuration and metrics
    MODEL.md       the model card

Pickle can execute code when it loads, so every listed file's size and SHA-256 are checked
against the sidecar *before* anything is unpickled, and only the model file from that verified
folder is unpickled; a missing, truncated or changed file is refused with an error naming it. The
encoder's weights are read with safetensors (no code runs) after the same check.

Why not joblib, as before: ``joblib.load`` unpickles with the pure-Python unpickler, which took 1.9 s
of a 3 s model load for the vectorisers' vocabularies; the C unpickler reads the same model in
0.1 s, zlib included.
"""

from __future__ import annotations

import json
import pickle
import platform
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from triage.classify.integrity import file_record, sha256_file, verify_files
from triage.errors import ModelError

MODEL_FILE = "model.pkl.zlib"
LEGACY_MODEL_FILE = "model.joblib"  # written before December 2026; loaded with joblib
SIDECAR = "model.json"
CARD = "MODEL.md"
ENCODERS = Path(__file__).resolve().parents[2] / "models" / "encoders"

__all__ = ["load", "read_sidecar", "save", "sha256_file"]


def library_versions() -> dict[str, str]:
    import numpy
    import scipy
    import sklearn
    import spacy

    from triage import __version__

    return {
        "python": platform.python_version(),
        "triage": __version__,
        "scikit-learn": sklearn.__version__,
        "spacy": spacy.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def save(
    model: Any,
    folder: Path,
    sidecar: dict[str, Any],
    card: Callable[[dict[str, Any]], str] | None = None,
    encoder_folder: Path | None = None,
) -> dict[str, Any]:
    """Write the model, its card and its sidecar (last, so a folder with a sidecar is complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SIDECAR).unlink(missing_ok=True)
    (folder / LEGACY_MODEL_FILE).unlink(missing_ok=True)
    path = folder / MODEL_FILE
    path.write_bytes(zlib.compress(pickle.dumps(model, protocol=5), 3))
    meta = {
        "name": folder.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sha256": sha256_file(path),
        "versions": library_versions(),
        **sidecar,
    }
    if encoder_folder is not None:
        enc = json.loads((encoder_folder / "encoder.json").read_text(encoding="utf-8"))
        meta["encoder"] = {
            **{k: enc.get(k) for k in ("name", "version", "licence", "upstream", "dim")},
            "sidecar_sha256": sha256_file(encoder_folder / "encoder.json"),
            "files": enc["files"],
        }
    files = [MODEL_FILE]
    if card is not None:
        (folder / CARD).write_text(card(meta), encoding="utf-8")
        files.append(CARD)
    meta["files"] = {name: file_record(folder / name) for name in files}
    (folder / SIDECAR).write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return meta


def read_sidecar(folder: Path) -> dict[str, Any]:
    path = folder / SIDECAR
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: no model sidecar. Train a model with `triage train` or point --model at a model folder."
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: the model sidecar is unreadable ({exc}). Retrain with `triage train`.") from exc


def find_encoder(folder: Path, record: dict[str, Any]) -> Path:
    """The encoder folder whose sidecar has the recorded SHA-256: the model folder's own
    ``encoder/``, then ``models/encoders/<name>`` beside it, then this installation's."""
    candidates = [folder / "encoder", folder.parent / "encoders" / str(record.get("name")), ENCODERS / str(record.get("name"))]
    for candidate in candidates:
        sidecar = candidate / "encoder.json"
        if sidecar.is_file() and sha256_file(sidecar) == record.get("sidecar_sha256"):
            return candidate
    raise ModelError(
        f"{folder}: the sentence encoder {record.get('name')} (version {record.get('version')}) it was trained with was not "
        f"found, or its files differ (looked in {', '.join(str(c) for c in candidates)}). Restore models/encoders/ from the "
        "repository or retrain with `triage train`."
    )


def model_path(folder: Path, meta: dict[str, Any]) -> Path:
    """The model file the sidecar describes: ``model.pkl.zlib``, or an older model's ``model.joblib``."""
    listed = meta.get("files") or {}
    name = LEGACY_MODEL_FILE if LEGACY_MODEL_FILE in listed or (not listed and (folder / LEGACY_MODEL_FILE).exists()) else MODEL_FILE
    return folder / name


def _unpickle(path: Path) -> Any:
    if path.name == LEGACY_MODEL_FILE:
        import joblib

        return joblib.load(path)
    return pickle.loads(zlib.decompress(path.read_bytes()))


def load(folder: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load a model after checking every file's size and SHA-256 against the sidecar."""
    folder = Path(folder)
    meta = read_sidecar(folder)
    path = model_path(folder, meta)
    if not path.exists():
        raise ModelError(f"{path}: the model file is missing. Retrain with `triage train`.")
    files = meta.get("files") or {path.name: {"bytes": path.stat().st_size, "sha256": meta.get("sha256")}}
    if path.name not in files or files[path.name].get("sha256") != meta.get("sha256"):
        raise ModelError(
            f"{folder / SIDECAR}: the sidecar does not list {path.name} with its SHA-256. Retrain with `triage train`."
        )
    verify_files(folder, files)
    encoder = None
    if meta.get("encoder"):
        from triage.classify.encoder import SentenceEncoder

        encoder = SentenceEncoder(find_encoder(folder, meta["encoder"]))  # verifies its own files first
    try:
        model = _unpickle(path)
    except Exception as exc:  # a file that matches its hash but will not load: wrong versions
        raise ModelError(
            f"{path}: could not be loaded ({exc.__class__.__name__}: {exc}). "
            f"It was made with {meta.get('versions')}; retrain with `triage train`."
        ) from exc
    if encoder is not None:
        if not hasattr(model, "attach"):
            raise ModelError(
                f"{path}: the sidecar names an encoder but the model has no use for one. Retrain with `triage train`."
            )
        model.attach(encoder)
    return model, meta
