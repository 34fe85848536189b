"""Model artefacts on disk: ``models/<name>/``.

    model.joblib   the fitted TriageModel
    model.json     sidecar: SHA-256 of model.joblib, library versions, training-data hash,
                   configuration and metrics
    MODEL.md       the model card

joblib (pickle) can execute code when it loads, so the file's SHA-256 is checked against the
sidecar *before* it is unpickled; a mismatch is refused with an error naming the file.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from pathlib import Path
from typing import Any

from triage.errors import ModelError

MODEL_FILE = "model.joblib"
SIDECAR = "model.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import joblib
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
        "joblib": joblib.__version__,
    }


def save(model: Any, folder: Path, sidecar: dict[str, Any]) -> dict[str, Any]:
    import joblib

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    joblib.dump(model, path, compress=3)
    meta = {
        "name": folder.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sha256": sha256_file(path),
        "versions": library_versions(),
        **sidecar,
    }
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


def load(folder: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load a model after checking its SHA-256 against the sidecar."""
    import joblib

    folder = Path(folder)
    meta = read_sidecar(folder)
    path = folder / MODEL_FILE
    if not path.exists():
        raise ModelError(f"{path}: the model file is missing. Retrain with `triage train`.")
    actual = sha256_file(path)
    if actual != meta.get("sha256"):
        raise ModelError(
            f"{path}: refused to load: its SHA-256 ({actual[:16]}...) does not match the sidecar "
            f"({str(meta.get('sha256'))[:16]}...). The file is corrupt or has been changed; a model file can run code "
            "when loaded, so only load artefacts you trained or trust. Retrain with `triage train`."
        )
    try:
        model = joblib.load(path)
    except Exception as exc:  # a file that matches its hash but will not load: wrong versions
        raise ModelError(
            f"{path}: could not be loaded ({exc.__class__.__name__}: {exc}). "
            f"It was made with {meta.get('versions')}; retrain with `triage train`."
        ) from exc
    return model, meta
