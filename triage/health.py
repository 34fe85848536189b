"""``triage health``: can this installation do its job right now?

Three checks, each saying what is wrong and what to do: the store answers and its schema is
this triage's; the model folder is there and its file matches the SHA-256 in its sidecar (read,
never unpickled: that is the classifier's job); each IMAP mailbox of the pipeline accepts the
login and has its folders. Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from triage.errors import TriageError
from triage.ingest.imap.config import ImapSource
from triage.pipeline import Pipeline

CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True, slots=True)
class Check:
    what: str  # store | model | mailbox
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_store(url: str) -> Check:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from triage.store.db import normalise_url
    from triage.store.migrate import current_revision, head_revision

    full = normalise_url(url)
    shown = make_url(full).render_as_string(hide_password=True)
    parsed = make_url(full)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        return Check(
            "store", shown, False, f"no store file at {parsed.database}. Check --store, or run `triage run` to create it."
        )
    args = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {"timeout": CONNECT_TIMEOUT_S}
    engine = create_engine(full, connect_args=args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = current_revision(conn)
    except Exception as exc:  # any driver error: the store cannot be used
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return Check(
            "store", shown, False, f"cannot reach the store ({reason}). Check the database server is running and the URL."
        )
    finally:
        engine.dispose()
    head = head_revision()
    if revision is None:
        return Check("store", shown, False, "the database is reachable but holds no triage store. Check the URL.")
    if revision != head:
        return Check(
            "store", shown, False, f"schema {revision}, this triage expects {head}: run `triage run` (it upgrades the store)."
        )
    return Check("store", shown, True, f"reachable, schema {revision}")


def check_model(folder: Path) -> Check:
    from triage.classify.artefact import model_path, read_sidecar, sha256_file

    try:
        meta = read_sidecar(folder)
    except TriageError as exc:
        return Check("model", str(folder), False, str(exc))
    path = model_path(folder, meta)
    if not path.is_file():
        return Check("model", str(folder), False, f"{path} is missing. Retrain with `triage train` or restore the folder.")
    if sha256_file(path) != meta.get("sha256"):
        return Check("model", str(folder), False, f"{path} does not match the SHA-256 in its sidecar: it is corrupt or changed.")
    return Check("model", str(folder), True, f"{meta.get('name', folder.name)}, SHA-256 matches its sidecar")


def check_mailbox(source: ImapSource) -> Check:
    from triage.ingest.imap.client import connect, logout

    name = source.describe()
    try:
        client = connect(source.model_copy(update={"timeout_seconds": min(source.timeout_seconds, CONNECT_TIMEOUT_S)}))
    except TriageError as exc:
        return Check("mailbox", name, False, str(exc))
    except Exception as exc:  # network: refused, timed out, TLS
        return Check(
            "mailbox",
            name,
            False,
            f"cannot reach {source.host}:{source.server_port} ({exc.__class__.__name__}: {exc}). "
            "Check the server is up, the host and port, and the firewall.",
        )
    try:
        missing = [f for f in source.folders if not client.folder_exists(f)]
    finally:
        logout(client)
    if missing:
        return Check(
            "mailbox",
            name,
            False,
            f"no folder {', '.join(map(repr, missing))} in this mailbox. Fix folders in the pipeline file.",
        )
    return Check("mailbox", name, True, f"login accepted, folders {', '.join(source.folders)} present")


def run_checks(pipeline: Pipeline | None, store: str | None = None, model: Path | None = None) -> list[Check]:
    """The store (``store`` or the pipeline's), the model (``model`` or the pipeline's, if any)
    and every IMAP source of the pipeline."""
    checks = []
    url = store or (pipeline.store_url() if pipeline else None)
    if url:
        checks.append(check_store(url))
    folder = model or (pipeline.model_dir() if pipeline else None)
    if folder:
        checks.append(check_model(Path(folder)))
    for source in pipeline.sources if pipeline else []:
        if isinstance(source, ImapSource):
            checks.append(check_mailbox(source))
    return checks
