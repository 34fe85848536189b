"""The review app in-process (Flask's test client): every route, sign-in and its limits, CSRF,
cookies, escaping, confirm/correct/conflict, bulk, queues, agreement, audit CSV, users."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import HOSTILE_SUBJECT
from flask import Flask
from review_helpers import PASSWORD, csrf, make_app, page_token, sign_in
from sqlalchemy import select, update

from triage.review import create_app, decisions
from triage.review.app import PUBLIC_ENDPOINTS
from triage.store.db import Store
from triage.store.schema import messages, reviews, web_sessions


def _routes() -> list[tuple[str, str, str]]:
    """Every rule of the real app (an in-memory store), so a new route cannot escape the checks."""
    app = create_app(Store("sqlite://"))
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = re.sub(r"<(?:int:)?(\w+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


@pytest.fixture
def app(classified_store: Store) -> Flask:
    return make_app(classified_store)


def _pk(store: Store, subject_start: str) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(messages.c.id).where(messages.c.subject.startswith(subject_start)))


def test_only_sign_in_and_static_files_are_public() -> None:
    assert {"review.sign_in", "static"} == PUBLIC_ENDPOINTS
    assert len(_routes()) >= 14


@pytest.mark.parametrize(("endpoint", "method", "url"), _routes())
def test_every_route_refuses_an_anonymous_request(app: Flask, endpoint: str, method: str, url: str) -> None:
    response = app.test_client().open(url, method=method, data={"csrf_token": "x", "action": "confirm"})
    if method == "GET":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    else:
        assert response.status_code == 401
    assert "kitchen" not in response.text.lower()
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(("endpoint", "method", "url"), [r for r in _routes() if r[1] == "GET"])
def test_every_page_renders_for_an_admin(app: Flask, endpoint: str, method: str, url: str) -> None:
    response = sign_in(app, "ann").get(url)
    assert response.status_code in (200, 303), (url, response.status_code)


def test_sign_in_page_and_static_files_need_no_session(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/sign-in").status_code == 200
    for name in ("review.css", "review.js"):
        with client.get(f"/static/{name}") as response:
            assert response.status_code == 200


def test_wrong_password_then_rate_limited_even_with_the_right_one(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        token = csrf(client.get("/sign-in").text)
        response = client.post("/sign-in", data={"name": "rob", "password": "wrong password!", "csrf_token": token})
        assert response.status_code == 401 and "do not match" in response.text
    token = csrf(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"name": "rob", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429 and "Too many failed sign-ins" in response.text
    assert sign_in(app, "ann")  # another account is not locked


def test_sign_in_needs_its_form_token(app: Flask) -> None:
    client = app.test_client()
    client.get("/sign-in")
    response = client.post("/sign-in", data={"name": "rob", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400


def test_every_form_post_needs_the_session_csrf_token(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    for url in ("/messages/1", "/bulk", "/sign-out"):
        assert client.post(url, data={"action": "confirm", "version": "0"}).status_code == 400
        assert client.post(url, data={"action": "confirm", "version": "0", "csrf_token": "guess"}).status_code == 400
    assert list(decisions.audit_trail(classified_store)) == []


def test_cookies_are_httponly_strict_and_secure_when_asked(classified_store: Store) -> None:
    app = make_app(classified_store, secure_cookies=True)
    client = app.test_client()
    cookie = client.get("/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    token = csrf(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"name": "rob", "password": PASSWORD, "csrf_token": token})
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("triage_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie and "Secure" in session_cookie


def test_sessions_expire_and_sign_out_ends_them(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    assert client.get("/to-confirm").status_code == 200
    with classified_store.transaction() as conn:
        conn.execute(update(web_sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get("/to-confirm").status_code == 303
    client = sign_in(app)
    response = client.post("/sign-out", data={"csrf_token": page_token(client)})
    assert response.status_code == 303 and "signed_out" in response.headers["Location"]
    assert client.get("/to-confirm").status_code == 303
    with classified_store.engine.connect() as conn:
        assert conn.scalar(select(web_sessions.c.token_sha256)) is None


def test_sign_in_never_redirects_off_site(app: Flask) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = app.test_client()
        token = csrf(client.get("/sign-in").text)
        response = client.post("/sign-in", data={"name": "rob", "password": PASSWORD, "csrf_token": token, "next": target})
        assert response.headers["Location"] == "/to-confirm"
    assert client.get("/sign-in").headers["Location"] == "/to-confirm"  # already signed in
    client = app.test_client()
    token = csrf(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"name": "rob", "password": PASSWORD, "csrf_token": token, "next": "/agreement"})
    assert response.headers["Location"] == "/agreement"


def test_to_confirm_is_least_confident_first(app: Flask, classified_store: Store) -> None:
    html = sign_in(app).get("/to-confirm").text
    shown = [int(pk) for pk in re.findall(r'href="/messages/(\d+)">#', html)]
    expected = [r["id"] for r in decisions.to_confirm(classified_store)]
    confidences = [r["kind_confidence"] for r in decisions.to_confirm(classified_store)]
    assert shown == expected and confidences == sorted(confidences) and len(shown) == 11


def test_an_email_with_script_and_tracking_image_is_shown_as_text(app: Flask, classified_store: Store) -> None:
    pk = _pk(classified_store, "Broken window")
    response = sign_in(app).get(f"/messages/{pk}")
    html = response.text
    assert response.status_code == 200
    assert "&lt;script&gt;document.title=" in html and "<script>document" not in html
    assert "&lt;img src=&#34;http://tracker.invalid" in html and '<img src="http://tracker' not in html
    assert 'href="javascript:' not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/review.js" defer>']
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "img-src 'self'" in csp and "script-src 'self'" in csp
    assert HOSTILE_SUBJECT not in html


def test_message_page_shows_new_text_collapsed_thread_scores_flags_and_deadlines(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    gas = client.get(f"/messages/{_pk(classified_store, 'Slight smell of gas')}").text
    assert "Kind probabilities" in gas and "New text" in gas and "<mark>" in gas
    assert "emergency hazard" in gas and "make safe within 24 hours" in gas
    thread = client.get(f"/messages/{_pk(classified_store, 'Re: RE: Water coming')}").text
    assert "<details><summary>Quoted thread</summary>" in thread
    complaint = next(r for r in decisions.to_confirm(classified_store) if r["kind"] == "complaint")
    page = client.get(f"/messages/{complaint['id']}").text
    assert "Stage 1: acknowledge by" in page and "(Code 6.2)" in page
    assert client.get("/messages/99999").status_code == 404


def test_confirm_stores_what_the_model_said_and_moves_to_the_next(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    first = decisions.to_confirm(classified_store)[0]["id"]
    response = client.post(
        f"/messages/{first}", data={"csrf_token": page_token(client), "action": "confirm", "version": "0", "note": "ok"}
    )
    assert response.status_code == 303
    response = client.get(response.headers["Location"])
    assert response.status_code == 303
    second = decisions.to_confirm(classified_store)[0]["id"]
    assert response.headers["Location"] == f"/messages/{second}?done=confirmed"
    assert "the previous item was confirmed" in client.get(response.headers["Location"]).text
    [saved] = decisions.history(classified_store, first)
    c = classified_store.classification(first)
    assert (saved["action"], saved["user_name"], saved["version"], saved["note"]) == ("confirmed", "rob", 1, "ok")
    assert (saved["kind"], saved["themes"]) == (c["kind"], sorted(c["themes"])) == (saved["model_kind"], saved["model_themes"])


def test_correct_kind_dissatisfied_themes_and_flags(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    pk = _pk(classified_store, "Slight smell of gas")
    data = {"csrf_token": page_token(client), "action": "correct", "version": "0", "kind": "complaint", "dissatisfied": "yes"}
    response = client.post(f"/messages/{pk}", data={**data, "theme": ["heating_gas", "communication"]})
    assert response.status_code == 303 and "done=corrected" in response.headers["Location"]
    [saved] = decisions.history(classified_store, pk)
    assert (saved["action"], saved["kind"], saved["dissatisfied"]) == ("corrected", "complaint", True)
    assert saved["themes"] == ["communication", "heating_gas"] and saved["flags"] == []
    assert saved["model_flags"] and saved["model_kind"] != "complaint"
    bad = client.post(f"/messages/{pk}", data={**data, "version": "1", "kind": "grumble"})
    assert bad.status_code == 400 and "is not one of" in bad.text


def test_second_concurrent_editor_is_told_and_shown_the_first_decision(app: Flask, classified_store: Store) -> None:
    pk = _pk(classified_store, "Slight smell of gas")
    ann, rob = sign_in(app, "ann"), sign_in(app, "rob")
    ann_token, rob_token = page_token(ann, f"/messages/{pk}"), page_token(rob, f"/messages/{pk}")
    assert ann.post(f"/messages/{pk}", data={"csrf_token": ann_token, "action": "confirm", "version": "0"}).status_code == 303
    response = rob.post(
        f"/messages/{pk}",
        data={"csrf_token": rob_token, "action": "correct", "version": "0", "kind": "other", "note": "spam"},
    )
    assert response.status_code == 409
    assert "Someone else decided this item" in response.text and "confirmed by ann" in response.text
    assert 'name="version" value="1"' in response.text
    assert [h["user_name"] for h in decisions.history(classified_store, pk)] == ["ann"]
    again = rob.post(f"/messages/{pk}", data={"csrf_token": rob_token, "action": "correct", "version": "1", "kind": "other"})
    assert again.status_code == 303
    assert [(h["user_name"], h["version"]) for h in decisions.history(classified_store, pk)] == [("ann", 1), ("rob", 2)]


def test_bulk_confirms_the_ticked_high_confidence_items(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    rows = decisions.high_confidence(classified_store, 0.5)
    assert rows and all(r["kind_confidence"] >= 0.5 for r in rows)
    html = client.get("/bulk?threshold=0.5").text
    assert all(f'value="{r["id"]}"' in html for r in rows)
    ticked = [str(r["id"]) for r in rows[:2]]
    response = client.post("/bulk?threshold=0.5", data={"csrf_token": csrf(html), "message": ticked})
    assert response.status_code == 200 and "Confirmed 2 items." in response.text
    assert {str(r["message_pk"]) for r in decisions.audit_trail(classified_store)} == set(ticked)
    again = client.post("/bulk?threshold=0.5", data={"csrf_token": csrf(html), "message": ticked[:1]})
    assert "Someone else decided 1 first" in again.text


def test_queue_filters_by_area_kind_flag_and_due(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    everything = re.findall(r'href="/messages/(\d+)">#', client.get("/queue").text)
    assert len(everything) == 11
    hazards = re.findall(r'href="/messages/(\d+)">#', client.get("/queue?flag=hazard").text)
    expected = [str(r["id"]) for r in classified_store.queue() if any(f["type"] == "hazard" for f in r["flags"])]
    assert hazards == expected and 0 < len(hazards) < 11
    complaints = re.findall(r'href="/messages/(\d+)">#', client.get("/queue?kind=complaint").text)
    assert complaints == [str(r["id"]) for r in classified_store.queue(kind="complaint")]
    area = classified_store.queue()[0]["queue"]
    by_area = re.findall(r'href="/messages/(\d+)">#', client.get("/queue", query_string={"area": area}).text)
    assert by_area == [str(r["id"]) for r in classified_store.queue(area=area)]
    assert client.get("/queue?due=overdue&kind=nonsense&flag=<b>").status_code == 200


def test_agreement_page_counts_acceptance_confusion_and_overrules(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    rows = decisions.to_confirm(classified_store)
    token = page_token(client)
    client.post(f"/messages/{rows[0]['id']}", data={"csrf_token": token, "action": "confirm", "version": "0"})
    wrong = next(k for k in ("other", "compliment") if k != rows[1]["kind"])
    client.post(f"/messages/{rows[1]['id']}", data={"csrf_token": token, "action": "correct", "version": "0", "kind": wrong})
    html = client.get("/agreement").text
    assert "2 reviewed items; 1 confirmed as the model said (50%)" in html
    assert f"{rows[1]['kind'].replace('_', ' ')} corrected to {wrong}: 1" in html
    assert "Confusion matrix" in html and "Acceptance per theme" in html


def test_audit_trail_csv_has_every_decision_and_defuses_formulas(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    pk = decisions.to_confirm(classified_store)[0]["id"]
    token = page_token(client)
    client.post(f"/messages/{pk}", data={"csrf_token": token, "action": "confirm", "version": "0", "note": "=HYPERLINK(1)"})
    response = client.get("/audit.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["message_pk"], row["user_name"], row["action"], row["note"]) == (str(pk), "rob", "confirmed", "'=HYPERLINK(1)")


def test_reviewers_cannot_manage_users_admins_can(app: Flask, classified_store: Store) -> None:
    rob = sign_in(app, "rob")
    token = page_token(rob)
    assert rob.get("/users").status_code == 403
    assert rob.post("/users", data={"csrf_token": token, "name": "eve", "password": "x" * 12, "role": "admin"}).status_code == 403
    assert rob.post("/users/1/disabled", data={"csrf_token": token, "disabled": "yes"}).status_code == 403
    assert 'href="/users"' not in rob.get("/to-confirm").text
    ann = sign_in(app, "ann")
    token = page_token(ann, "/users")
    response = ann.post("/users", data={"csrf_token": token, "name": "sam", "password": "short", "role": "reviewer"})
    assert response.status_code == 400 and "shorter than 10" in response.text
    response = ann.post("/users", data={"csrf_token": token, "name": "sam", "password": "x" * 12, "role": "reviewer"})
    assert "Added sam (reviewer)." in response.text
    rob_id = 2
    assert ann.post(f"/users/{rob_id}/disabled", data={"csrf_token": token, "disabled": "yes"}).status_code == 303
    assert rob.get("/to-confirm").status_code == 303  # disabling ends the session


def test_pages_send_security_headers_and_are_not_cached(app: Flask) -> None:
    response = sign_in(app).get("/to-confirm")
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_reviews_table_is_append_only(app: Flask, classified_store: Store) -> None:
    client = sign_in(app)
    pk = decisions.to_confirm(classified_store)[0]["id"]
    for version in (0, 1, 2):
        token = page_token(client)
        client.post(f"/messages/{pk}", data={"csrf_token": token, "action": "confirm", "version": str(version)})
    with classified_store.engine.connect() as conn:
        assert conn.scalars(select(reviews.c.version).where(reviews.c.message_pk == pk)).all() == [1, 2, 3]


def _a_complaint_case(store: Store) -> int:
    from triage.cases import list_cases

    return next(c["id"] for c in list_cases(store) if c["stage"] == "stage_1")


def test_message_page_shows_its_case_and_the_case_page_its_messages(app: Flask, classified_store: Store) -> None:
    from triage.cases import get_case

    client = sign_in(app)
    case_pk = _a_complaint_case(classified_store)
    case = get_case(classified_store, case_pk)
    html = client.get(f"/messages/{case['messages'][0]['id']}").text
    assert f'href="/cases/{case_pk}">case #{case_pk}</a> (stage 1' in html
    page = client.get(f"/cases/{case_pk}").text
    assert all(f'href="/messages/{m["id"]}"' in page for m in case["messages"])
    assert "Record an event" in page and "<caption>Events</caption>" in page
    listing = client.get("/cases?stage=stage_1").text
    assert f'href="/cases/{case_pk}"' in listing
    assert client.get("/cases/99999").status_code == 404


def test_the_case_page_shows_an_overdue_commitment_and_the_cases_learning(app: Flask, classified_store: Store) -> None:
    from datetime import date

    from triage.learning import add_commitment, close_commitment
    from triage.learning.records import CaseLink, Outcome, add_outcome

    case_pk = _a_complaint_case(classified_store)
    made = date.today() - timedelta(days=30)
    late = add_commitment(classified_store, case_pk, "Replace the back door", "repair", due=made, made_on=made, by="jo")
    done = add_commitment(classified_store, case_pk, "Call back", "call_back", due=made, made_on=made, by="jo")
    close_commitment(classified_store, done.id, made, no_evidence=True, by="jo")
    add_outcome(classified_store, Outcome("Door repairs not followed up", "amber", made, cases=[CaseLink(str(case_pk))]), "jo")
    page = sign_in(app).get(f"/cases/{case_pk}").text
    assert "<caption>Commitments made in responses</caption>" in page and "<caption>Learning outcomes</caption>" in page
    assert f"<strong>{late.flags(date.today())[0].capitalize()}</strong>" in page
    assert "<strong>Closed without evidence of completion</strong>" in page and "LO-0001" in page
    # ... and wherever else the case is shown: the cases list and the queue.
    shown = f"overdue commitment: Replace the back door (due {made:%d %b})"
    assert shown in sign_in(app).get("/cases").text
    assert shown in sign_in(app).get("/queue").text


def test_record_case_events_acknowledged_extension_escalated(app: Flask, classified_store: Store) -> None:
    from triage.cases import get_case

    client = sign_in(app)
    case_pk = _a_complaint_case(classified_store)
    received = get_case(classified_store, case_pk)["messages"][0]["received_at"].date()
    token = page_token(client, f"/cases/{case_pk}")
    post = lambda **form: client.post(f"/cases/{case_pk}/events", data={"csrf_token": token, **form})  # noqa: E731
    day = lambda n: (received + timedelta(days=n)).isoformat()  # noqa: E731
    response = post(event="acknowledged", stage="stage_1", on=day(2))
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{case_pk}?done=acknowledged"
    bad = post(event="extension_agreed", stage="stage_1", on=day(5), extended_to=day(20), reason="")
    assert bad.status_code == 400 and "needs the new respond-by date" in bad.text and 'role="alert"' in bad.text
    assert (
        post(event="extension_agreed", stage="stage_1", on=day(5), extended_to=day(20), reason="awaiting survey").status_code
        == 303
    )
    assert post(event="responded", stage="stage_1", on=day(15), outcome="not_upheld").status_code == 303
    assert post(event="escalated", stage="stage_2", on=day(18)).status_code == 303
    assert post(event="acknowledged", stage="stage_2", on="tomorrow").status_code == 400
    case = get_case(classified_store, case_pk)
    assert [(e.event, e.stage, e.recorded_by) for e in case["events"]][-4:] == [
        ("acknowledged", "stage_1", "rob"),
        ("extension_agreed", "stage_1", "rob"),
        ("responded", "stage_1", "rob"),
        ("escalated", "stage_2", "rob"),
    ]
    assert case["stage"] == "stage_2"
    html = client.get(f"/cases/{case_pk}").text
    assert "awaiting survey" in html and "not upheld" in html
    assert (
        client.post(
            "/cases/99999/events", data={"csrf_token": token, "event": "closed", "stage": "stage_1", "on": day(1)}
        ).status_code
        == 404
    )


def test_the_views_and_the_app_factory_import_a_shared_module_not_each_other() -> None:
    import ast
    import inspect

    from triage.review import views

    imported = {n.module for n in ast.walk(ast.parse(inspect.getsource(views))) if isinstance(n, ast.ImportFrom)}
    assert "triage.review.app" not in imported and "triage.review.context" in imported
