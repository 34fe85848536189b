"""Serving the review app with waitress (a pure-Python production WSGI server)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from triage.errors import ReviewError
from triage.pipeline import load
from triage.store.db import Store

SAMPLE_PIPELINE = Path("pipelines/sample.toml")
FALLBACK_STORE = "triage.db"


def default_store() -> str:
    """The embedded default: the store of pipelines/sample.toml (relative to the current folder)."""
    if SAMPLE_PIPELINE.exists():
        return load(SAMPLE_PIPELINE).store_url()
    return FALLBACK_STORE


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 8000, threads: int = 4):
    from waitress.server import create_server

    try:
        return create_server(app, host=host, port=port, threads=threads, ident="triage")
    except OSError as exc:
        raise ReviewError(
            f"cannot listen on {host}:{port} ({exc.strerror}). Choose another --port or stop what uses it."
        ) from exc


def open_store(url: str | Path) -> Store:
    store = Store(url)
    from triage.review.auth import list_users

    if not list_users(store):
        store.close()
        raise ReviewError(f"{url}: the store has no users yet. Add one first: triage user add NAME --role admin --store {url}")
    return store
