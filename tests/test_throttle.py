"""Sign-in throttling through the real app and with a simulated clock: wrong passwords from one
address never keep the user out at another, guessing from one address is slowed to at most 10
checked passwords a minute, an admin can lift a throttle, and every try is logged."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from review_helpers import PASSWORD, csrf, make_app

from triage.cli import cli
from triage.review import Settings, create_app
from triage.review.auth import add_user, sign_in
from triage.review.throttle import ADDRESS_FAILURES_PER_MINUTE, Throttled, sign_in_log
from triage.store.db import Store

ATTACKER, OFFICE = "198.51.100.7", "203.0.113.20"


def _try(app: Flask, name: str, password: str, address: str) -> tuple[int, str, str]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"name": name, "password": password, "csrf_token": token})
    return response.status_code, response.text, response.headers.get("Retry-After", "")


@pytest.fixture
def app(sqlite_store: Store) -> Flask:
    return make_app(sqlite_store)


def test_thirty_wrong_passwords_from_one_address_never_stop_the_user_at_another(app: Flask, sqlite_store: Store) -> None:
    codes = [_try(app, "rob", f"wrong guess {i}", ATTACKER)[0] for i in range(30)]
    assert codes.count(401) == 5 and codes.count(429) == 25  # checked until throttled, then answered at once
    status, _, _ = _try(app, "rob", PASSWORD, OFFICE)
    assert status == 303  # signed in at once from the office
    status, text, retry_after = _try(app, "rob", PASSWORD, ATTACKER)
    assert status == 429 and "Too many failed sign-ins" in text and 0 < int(retry_after) <= 6
    outcomes = [r["outcome"] for r in sign_in_log(sqlite_store, name="rob")]
    assert outcomes.count("failure") == 5 and outcomes.count("throttled") == 26 and outcomes.count("success") == 1


def test_an_unknown_name_answers_like_a_wrong_password_and_is_throttled_alike(app: Flask) -> None:
    known = [_try(app, "rob", "wrong password!", ATTACKER) for _ in range(7)]
    unknown = [_try(app, "nobody-here", "wrong password!", "192.0.2.99") for _ in range(7)]
    assert [k[0] for k in known] == [u[0] for u in unknown] == [401] * 5 + [429] * 2

    def page(text: str) -> str:  # the page without its per-browser form token
        return re.sub(r'value="[\w-]{40,}"|\d+ seconds', "", text.replace("rob", "nobody-here"))

    assert page(known[0][1]) == page(unknown[0][1]) and page(known[-1][1]) == page(unknown[-1][1])
    assert [bool(k[2]) for k in known] == [bool(u[2]) for u in unknown] == [False] * 5 + [True] * 2


def test_guessing_many_names_from_one_address_is_checked_at_most_ten_times_a_minute(app: Flask) -> None:
    codes = [_try(app, f"name{i}", "wrong password!", ATTACKER)[0] for i in range(40)]
    assert codes.count(401) == ADDRESS_FAILURES_PER_MINUTE == 10 and codes.count(429) == 30
    assert _try(app, "rob", PASSWORD, OFFICE)[0] == 303  # other addresses are not slowed


def _checked_per_minute(store: Store, names: list[str], minutes: int, start: datetime) -> tuple[list[datetime], int]:
    """An attacker that retries the moment it is allowed, round the names, on a simulated clock."""
    now = start
    end = now + timedelta(minutes=minutes)
    checked: list[datetime] = []
    throttled = 0
    i = 0
    while now < end:
        try:
            sign_in(store, names[i % len(names)], "wrong password!", ATTACKER, now=now)
            checked.append(now)
            i += 1
            now += timedelta(milliseconds=300)
        except Throttled as exc:
            throttled += 1
            now += timedelta(seconds=exc.retry_after)
    return checked, throttled


def _most_in_a_minute(times: list[datetime]) -> int:
    return max(sum(1 for u in times if t <= u < t + timedelta(minutes=1)) for t in times)


def test_a_patient_guesser_gets_at_most_ten_tries_in_any_minute(store: Store) -> None:
    add_user(store, "rob", PASSWORD)
    many, _ = _checked_per_minute(
        store, [f"name{i}" for i in range(50)], minutes=4, start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    )
    assert len(many) >= 30 and _most_in_a_minute(many) <= 10
    one, throttled = _checked_per_minute(store, ["rob"], minutes=15, start=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    assert throttled > 0 and _most_in_a_minute(one) <= 10 and len(one) <= 12
    # slowed, never locked: the user gets in from the attacker's own address once the wait is over
    later = one[-1] + timedelta(minutes=6)
    assert sign_in(store, "rob", PASSWORD, ATTACKER, now=later) is not None


def test_an_admin_lifts_a_throttle_and_the_log_shows_every_try(app: Flask, sqlite_store: Store, tmp_path: object) -> None:
    for _ in range(6):
        _try(app, "rob", "wrong password!", ATTACKER)
    assert _try(app, "rob", PASSWORD, ATTACKER)[0] == 429
    url = str(sqlite_store.engine.url.database)
    result = CliRunner().invoke(cli, ["user", "unthrottle", "rob", "--address", ATTACKER, "--store", url])
    assert result.exit_code == 0 and "Lifted" in result.output
    assert _try(app, "rob", PASSWORD, ATTACKER)[0] == 303
    result = CliRunner().invoke(cli, ["user", "sign-ins", "--name", "rob", "--json", "--store", url])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["outcome"] for r in rows][:3] == ["success", "lifted", "throttled"]
    assert {r["address"] for r in rows} == {ATTACKER}
    result = CliRunner().invoke(cli, ["user", "unthrottle", "--store", url])
    assert result.exit_code == 1 and "name an account" in result.output


def test_behind_a_trusted_proxy_each_client_is_throttled_by_its_own_address(sqlite_store: Store) -> None:
    add_user(sqlite_store, "rob", PASSWORD)
    app = create_app(sqlite_store, Settings(secure_cookies=False, trusted_proxies=1))

    def attempt(forwarded_for: str, password: str) -> int:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the proxy
        headers = {"X-Forwarded-For": forwarded_for}
        token = csrf(client.get("/sign-in", headers=headers).text)
        data = {"name": "rob", "password": password, "csrf_token": token}
        return client.post("/sign-in", data=data, headers=headers).status_code

    assert [attempt(ATTACKER, "wrong password!") for _ in range(6)] == [401] * 5 + [429]
    assert attempt(OFFICE, PASSWORD) == 303
    assert {r["address"] for r in sign_in_log(sqlite_store)} == {ATTACKER, OFFICE}
