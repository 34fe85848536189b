"""The review app: a Flask application factory and its security rules.

- Every endpoint except sign-in and the package's static files needs a live session.
- Every POST carries the session's CSRF token (sign-in: a double-submit cookie).
- Cookies are HttpOnly, SameSite=Strict, and Secure unless ``secure_cookies=False`` (plain
  http on localhost).
- Responses forbid loading anything from elsewhere (Content-Security-Policy), framing and
  caching; email content is only ever rendered as escaped text by Jinja2's autoescaping.
"""

from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, redirect, request, url_for
from werkzeug.wrappers import Response

from triage.review import auth
from triage.review.context import SESSION_COOKIE, SIGN_IN_COOKIE, Settings, require_admin, set_cookie, settings, store
from triage.review.views import bp
from triage.store.db import Store

__all__ = ["SESSION_COOKIE", "SIGN_IN_COOKIE", "Settings", "create_app", "require_admin", "set_cookie", "settings", "store"]

ANALYSE_EVERY_S = 3600  # refresh the store's planner statistics this often (SQLite; a few ms)
PUBLIC_ENDPOINTS = frozenset({"review.sign_in", "static"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(store: Store | str | Path, settings: Settings | None = None) -> Flask:
    """The app over one store (a Store, a SQLite path or a postgresql:// URL)."""
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["STORE"] = store if isinstance(store, Store) else Store(store)
    app.config["SETTINGS"] = settings or Settings()
    app.config["SECRET_KEY"] = secrets.token_hex(32)  # Flask's own session is not used
    app.config["MAX_CONTENT_LENGTH"] = 1_000_000
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.register_blueprint(bp)
    app.before_request(_analyse_now_and_then)
    app.before_request(_require_session)
    app.after_request(_headers)
    hops = app.config["SETTINGS"].trusted_proxies
    if hops:  # the client's address (for sign-in throttling) from the proxy's X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _analyse_now_and_then() -> None:
    from flask import current_app

    if time.monotonic() - current_app.config.get("ANALYSED_AT", -ANALYSE_EVERY_S) >= ANALYSE_EVERY_S:
        current_app.config["ANALYSED_AT"] = time.monotonic()
        store().analyse()


def _require_session() -> Any:
    g.session = auth.session_for(store(), request.cookies.get(SESSION_COOKIE))
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method == "POST" and not _same_token(request.form.get("csrf_token"), request.cookies.get(SIGN_IN_COOKIE)):
            abort(400, "The form has expired. Reload the page and try again.")
        return None
    if g.session is None:
        if request.method == "GET":
            return redirect(url_for("review.sign_in", next=request.full_path if request.query_string else request.path), 303)
        abort(401)
    if request.method == "POST" and not _same_token(request.form.get("csrf_token"), g.session.csrf_token):
        abort(400, "The form has expired (or did not come from this app). Reload the page and try again.")
    return None


def _same_token(sent: str | None, expected: str | None) -> bool:
    return bool(sent and expected) and hmac.compare_digest(sent.encode(), expected.encode())


def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response
