"""Helpers for the review-app tests: an app over a classified store, signed-in clients."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from triage.review import Settings, create_app
from triage.review.auth import add_user
from triage.store.db import Store

PASSWORD = "correct horse battery staple"


def make_app(store: Store, secure_cookies: bool = False) -> Flask:
    add_user(store, "ann", PASSWORD, "admin")
    add_user(store, "rob", PASSWORD, "reviewer")
    app = create_app(store, Settings(secure_cookies=secure_cookies))
    app.testing = True
    return app


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(app: Flask, name: str = "rob", password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    token = csrf(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"name": name, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return client


def page_token(client: FlaskClient, url: str = "/to-confirm") -> str:
    return csrf(client.get(url).text)
