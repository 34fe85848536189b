"""What the app factory and the views share: the settings, the store and cookies of the app
serving the current request. Both ``app`` and ``views`` import this module, never each other."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, g
from werkzeug.wrappers import Response

from triage.store.db import Store

SESSION_COOKIE = "triage_session"
SIGN_IN_COOKIE = "triage_sign_in"


@dataclass(frozen=True, slots=True)
class Settings:
    secure_cookies: bool = True
    nation: str = "england"  # whose bank holidays count for the Code deadlines shown
    trusted_proxies: int = 0  # reverse proxies in front that set X-Forwarded-For (the client's address)


def store() -> Store:
    return current_app.config["STORE"]


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def require_admin() -> None:
    if not g.session.user.is_admin:
        abort(403)


def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, secure=settings().secure_cookies, samesite="Strict", path="/"
    )
