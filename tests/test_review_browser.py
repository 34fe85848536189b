"""The review app in real headless Chromium (Debian's ``chromium``, driven by Playwright):
sign in, confirm, correct, keyboard-only review, a concurrent edit, sign out, a hostile email,
and axe-core on every page. The app is served by waitress on 127.0.0.1, as ``triage serve`` does."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import skip_or_fail
from review_helpers import PASSWORD, make_app
from sqlalchemy import select

from triage.review import decisions
from triage.review.server import make_server
from triage.store.db import Store
from triage.store.schema import messages

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    skip_or_fail("Debian's chromium is not installed (apt-get install chromium)")
    return ""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def base_url(classified_store: Store) -> Iterator[str]:
    app = make_app(classified_store, secure_cookies=True)  # Chromium keeps Secure cookies for http://127.0.0.1
    server = make_server(app, "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


def _sign_in(browser: object, base_url: str, name: str = "rob") -> object:
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}/to-confirm")
    assert "/sign-in" in page.url
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/to-confirm")
    return page


def _subject_pk(store: Store, start: str) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(messages.c.id).where(messages.c.subject.startswith(start)))


def test_sign_in_confirm_correct_and_sign_out(browser: object, base_url: str, classified_store: Store) -> None:
    page = _sign_in(browser, base_url)
    queue = decisions.to_confirm(classified_store)
    page.get_by_role("link", name="Start with the first").click()
    page.wait_for_url(f"{base_url}/messages/{queue[0]['id']}")
    page.get_by_role("button", name="Confirm the model").click()
    page.wait_for_url(f"{base_url}/messages/{queue[1]['id']}?done=confirmed")
    assert page.get_by_role("status").inner_text().startswith("Saved: the previous item was confirmed")
    page.get_by_label("5 other").check()
    page.get_by_label("leasehold").check()
    page.get_by_label("Note (optional)").fill("newsletter, not a request")
    page.get_by_role("button", name="Save correction").click()
    page.wait_for_url(f"{base_url}/messages/{queue[2]['id']}?done=corrected")
    first, second = decisions.history(classified_store, queue[0]["id"]), decisions.history(classified_store, queue[1]["id"])
    assert [h["action"] for h in first] == ["confirmed"]
    assert (second[0]["action"], second[0]["kind"], second[0]["note"]) == ("corrected", "other", "newsletter, not a request")
    assert "leasehold" in second[0]["themes"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base_url}/sign-in?signed_out=1")
    page.goto(f"{base_url}/to-confirm")
    assert "/sign-in" in page.url
    page.context.close()


def test_keyboard_only_review_of_three_items(browser: object, base_url: str, classified_store: Store) -> None:
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}/sign-in")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'name'")
    page.keyboard.type("rob")  # the name field has autofocus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/to-confirm")
    for _ in range(40):  # Tab to the "Start with the first" link, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").startswith("Start with the first"):
            break
    page.keyboard.press("Enter")
    queue = [r["id"] for r in decisions.to_confirm(classified_store, 4)]
    page.wait_for_url(f"{base_url}/messages/{queue[0]}")
    page.keyboard.press("c")  # 1: confirm
    page.wait_for_url(f"{base_url}/messages/{queue[1]}?done=confirmed")
    page.keyboard.press("2")  # 2: service request, dissatisfied toggled, first theme ticked, saved
    page.keyboard.press("d")
    page.keyboard.press("t")
    page.keyboard.press("Space")
    page.keyboard.press("s")
    page.wait_for_url(f"{base_url}/messages/{queue[2]}?done=corrected")
    page.keyboard.press("e")  # 3: a note, leave the field, confirm
    page.keyboard.type("checked by keyboard")
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    page.wait_for_url(f"{base_url}/messages/{queue[3]}?done=confirmed")
    made = [decisions.history(classified_store, pk) for pk in queue[:3]]
    assert [h[0]["action"] for h in made] == ["confirmed", "corrected", "confirmed"]
    model = classified_store.classification(queue[1])
    assert made[1][0]["kind"] == "service_request" and made[1][0]["dissatisfied"] is not bool(model["dissatisfied"])
    assert ("repairs" in made[1][0]["themes"]) is not ("repairs" in model["themes"])
    assert made[2][0]["note"] == "checked by keyboard"
    page.context.close()


def test_concurrent_edit_conflict_shows_the_first_decision(browser: object, base_url: str, classified_store: Store) -> None:
    pk = _subject_pk(classified_store, "Slight smell of gas")
    ann, rob = _sign_in(browser, base_url, "ann"), _sign_in(browser, base_url, "rob")
    ann.goto(f"{base_url}/messages/{pk}")
    rob.goto(f"{base_url}/messages/{pk}")
    ann.get_by_role("button", name="Confirm the model").click()
    ann.wait_for_load_state()
    rob.get_by_label("5 other").check()
    rob.get_by_role("button", name="Save correction").click()
    alert = rob.get_by_role("alert")
    assert "Someone else decided this item while you were looking" in alert.inner_text()
    assert "confirmed by ann" in alert.inner_text()
    assert [h["user_name"] for h in decisions.history(classified_store, pk)] == ["ann"]
    ann.context.close()
    rob.context.close()


def test_a_hostile_email_runs_nothing_and_loads_nothing(browser: object, base_url: str, classified_store: Store) -> None:
    page = _sign_in(browser, base_url)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pk = _subject_pk(classified_store, "Broken window")
    page.goto(f"{base_url}/messages/{pk}")
    page.wait_for_load_state("networkidle")
    assert page.title() == f"Message {pk} - triage review"
    assert page.evaluate("typeof window.pwned") == "undefined" and dialogs == []
    assert "<script>document.title='pwned'" in page.inner_text("h1")
    assert all(url.startswith(base_url) for url in requested), requested
    assert page.locator("main img").count() == 0
    page.context.close()


def test_axe_finds_no_serious_violations_on_any_page(browser: object, base_url: str, classified_store: Store) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{base_url}/sign-in")
    pages = {"sign-in": axe.run(anonymous)}
    page = _sign_in(browser, base_url, "ann")
    gas = _subject_pk(classified_store, "Slight smell of gas")
    decisions.confirm(classified_store, _subject_pk(classified_store, "Re: RE: Water"), _admin(classified_store), 0)
    from triage.cases import list_cases

    case_pk = list_cases(classified_store)[0]["id"]
    for path in (
        "/to-confirm",
        "/bulk?threshold=0.5",
        "/queue",
        f"/messages/{gas}",
        "/agreement",
        "/users",
        "/cases",
        f"/cases/{case_pk}",
    ):
        page.goto(base_url + path)
        pages[path] = axe.run(page)
    page.goto(f"{base_url}/messages/{_subject_pk(classified_store, 'Re: RE: Water')}")
    page.locator("details summary").first.click()
    pages["message with open thread and decision"] = axe.run(page)
    problems = {
        name: [(v["id"], v["impact"], v["help"]) for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
        for name, result in pages.items()
    }
    assert all(result.response["testEngine"]["name"] == "axe-core" for result in pages.values())
    assert problems == {name: [] for name in pages}
    anonymous.context.close()
    page.context.close()


def _admin(store: Store) -> object:
    from triage.review.auth import User

    return User(1, "ann", "admin")
