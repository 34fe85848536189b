"""The review app's pages. Each view reads the request, calls the plain functions in
``triage.review`` and ``triage.store``, and renders a template."""

from __future__ import annotations

import io
import secrets
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from triage.errors import ReviewError
from triage.labels import KINDS, THEMES
from triage.message import UK
from triage.review import auth, decisions
from triage.review.agreement import agreement, overrule_pairs
from triage.review.context import SESSION_COOKIE, SIGN_IN_COOKIE, require_admin, set_cookie, settings, store
from triage.review.highlight import segments
from triage.review.throttle import Throttled
from triage.route.flags import RULES as FLAG_RULES
from triage.sheets import write_csv_rows
from triage.store.schema import classifications

bp = Blueprint("review", __name__)
PAGE = 50
FLAG_TYPES = sorted({t for t, _, _ in FLAG_RULES.values()})
DUE_CHOICES = {"": "any time", "overdue": "overdue", "today": "due today or overdue", "7": "due within 7 days"}


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    session = g.get("session")
    return render_template(
        template,
        user=session.user if session else None,
        csrf_token=session.csrf_token if session else "",
        kinds=KINDS,
        themes=THEMES,
        **context,
    ), status


def _local(value: Any) -> str:
    return f"{value.astimezone(UK):%a %d %b %Y %H:%M}" if value else "-"


bp.add_app_template_filter(_local, "local")


@bp.app_template_filter("label")
def _label(value: str) -> str:
    return value.replace("_", " ")


@bp.app_template_filter("pct")
def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


# -- signing in and out ------------------------------------------------------------------------
@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    error, status, retry_after = "", 200, 0
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET" and g.session is not None:
        return redirect(target or url_for("review.to_confirm"), 303)
    if request.method == "POST":
        try:
            session = auth.sign_in(
                store(), request.form.get("name", ""), request.form.get("password", ""), request.remote_addr or "?"
            )
        except Throttled as exc:
            retry_after = exc.retry_after
            session, status = None, 429
            error = (
                f"Too many failed sign-ins from here. Try again in {retry_after} seconds "
                "(each wrong try makes the wait longer), or ask an admin to lift the limit."
            )
        if session is not None:
            response = redirect(target or url_for("review.to_confirm"), 303)
            set_cookie(response, SESSION_COOKIE, session.token, int(auth.SESSION_MAX.total_seconds()))
            response.delete_cookie(SIGN_IN_COOKIE, path="/")
            return response
        if not error:
            error, status = "That name and password do not match an active account. Check them and try again.", 401
    # One token per browser, kept across reloads and tabs (a new one each time would break a second tab).
    token = request.cookies.get(SIGN_IN_COOKIE) or ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
    body, code = page("sign_in.html", status, error=error, next=target, sign_in_token=token)
    response = Response(body, code, mimetype="text/html")
    set_cookie(response, SIGN_IN_COOKIE, token, 3600)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _safe_next(target: str) -> str:
    """Only a local path: never redirect to another site after sign-in."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    return target


@bp.post("/sign-out")
def sign_out() -> Any:
    auth.sign_out(store(), request.cookies.get(SESSION_COOKIE))
    response = redirect(url_for("review.sign_in", signed_out=1), 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- lists ---------------------------------------------------------------------------------
@bp.get("/")
def index() -> Any:
    return redirect(url_for("review.to_confirm"), 303)


@bp.get("/to-confirm")
def to_confirm() -> Any:
    offset = max(0, request.args.get("offset", 0, type=int))
    rows = decisions.to_confirm(store(), PAGE, offset)
    return page("to_confirm.html", rows=rows, offset=offset, page_size=PAGE, total=decisions.count_to_confirm(store()))


@bp.route("/bulk", methods=["GET", "POST"])
def bulk() -> Any:
    notice = ""
    if request.method == "POST":
        pks = [int(v) for v in request.form.getlist("message") if v.isdigit()]
        done, conflicts = decisions.bulk_confirm(store(), pks, g.session.user)
        notice = f"Confirmed {done} item{'s' * (done != 1)}."
        if conflicts:
            notice += f" Someone else decided {len(conflicts)} first (left as they decided): " + ", ".join(
                f"#{pk}" for pk in conflicts
            )
    threshold = request.args.get("threshold", decisions.BULK_THRESHOLD, type=float)
    rows = decisions.high_confidence(store(), threshold, 100)
    return page("bulk.html", rows=rows, threshold=threshold, notice=notice)


_areas_cache: dict[int, tuple[float, list[str]]] = {}


def _areas() -> list[str]:
    """The service-area queues in use (cached for a minute: a distinct over every row)."""
    from sqlalchemy import select

    key = id(store())
    cached = _areas_cache.get(key)
    if cached and time.monotonic() - cached[0] < 60:
        return cached[1]
    with store().engine.connect() as conn:
        areas = sorted(a for a in conn.scalars(select(classifications.c.queue).distinct()) if a)
    _areas_cache[key] = (time.monotonic(), areas)
    return areas


@bp.get("/queue")
def queue() -> Any:
    area = request.args.get("area") or None
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    flag = request.args.get("flag") if request.args.get("flag") in (*FLAG_TYPES, *FLAG_RULES) else None
    due = request.args.get("due", "") if request.args.get("due", "") in DUE_CHOICES else ""
    offset = max(0, request.args.get("offset", 0, type=int))
    today = date.today()
    due_before = {"overdue": today - timedelta(days=1), "today": today, "7": today + timedelta(days=7)}.get(due)
    rows = store().queue(area, kind, due_before, PAGE, flag, offset)
    return page(
        "queue.html",
        rows=rows,
        late=_overdue_commitments(today),
        areas=_areas(),
        area=area or "",
        kind=kind or "",
        flag=flag or "",
        due=due,
        due_choices=DUE_CHOICES,
        flag_types=FLAG_TYPES,
        flag_rules=sorted(FLAG_RULES),
        offset=offset,
        page_size=PAGE,
        today=today,
    )


# -- one message -------------------------------------------------------------------------------
def _message_context(pk: int) -> dict[str, Any]:
    from triage.route.deadlines import stage_deadlines

    message = store().message(pk)
    classification = store().classification(pk)
    if message is None or classification is None:
        abort(404)
    phrases = [e["text"] for e in classification["evidence"]] + [p for f in classification["flags"] for p in f["evidence"]]
    current = decisions.latest_review(store(), pk)
    shown = (
        decisions.Decision(current["kind"], current["dissatisfied"], current["themes"], current["flags"])
        if current
        else decisions.model_decision(classification)
    )
    deadlines = None
    if classification["on_complaints_register"] and message["received_at"]:
        deadlines = stage_deadlines(1, message["received_at"].astimezone(UK).date(), nation=settings().nation)
    theme_scores = sorted(classification["theme_scores"].items(), key=lambda kv: -kv[1])
    return {
        "m": message,
        "c": classification,
        "new_parts": segments(message["body_new"], phrases),
        "subject_parts": segments(message["subject"], phrases),
        "quoted_parts": segments(message["body_quoted"], phrases),
        "kind_scores": sorted(classification["kind_scores"].items(), key=lambda kv: -kv[1]),
        "theme_scores": [(t, s) for t, s in theme_scores if s >= 0.2 or t in classification["themes"]],
        "flag_rules": sorted({f["rule"] for f in classification["flags"]}),
        "current": current,
        "shown": shown,
        "version": current["version"] if current else 0,
        "history": decisions.history(store(), pk),
        "deadlines": deadlines,
        "case": _case_summary(pk),
    }


def _case_summary(message_pk: int) -> dict[str, Any] | None:
    from triage.cases import case_of_message, get_case

    case_pk = case_of_message(store(), message_pk)
    return get_case(store(), case_pk, nation=settings().nation) if case_pk is not None else None


@bp.get("/messages/<int:pk>")
def message(pk: int) -> Any:
    done = request.args.get("done", "")
    return page("message.html", notice=done if done in ("confirmed", "corrected") else "", **_message_context(pk))


@bp.post("/messages/<int:pk>")
def decide(pk: int) -> Any:
    form = request.form
    seen = form.get("version", -1, type=int)
    note = form.get("note", "")
    try:
        if form.get("action") == "confirm":
            outcome = decisions.confirm(store(), pk, g.session.user, seen, note)
        elif form.get("action") == "correct":
            decision = decisions.Decision(
                form.get("kind", ""),
                form.get("dissatisfied") == "yes",
                form.getlist("theme"),
                form.getlist("flag"),
                note,
            )
            outcome = decisions.record(store(), pk, g.session.user, decision, seen)
        else:
            abort(400, "Choose confirm or correct.")
    except ReviewError as exc:
        return page("message.html", 400, error=str(exc), **_message_context(pk))
    if outcome.conflict:
        return page("message.html", 409, conflict=outcome.current, **_message_context(pk))
    return redirect(url_for("review.next_item", after=pk, done=outcome.saved["action"], saved=pk), 303)


@bp.get("/next")
def next_item() -> Any:
    after = request.args.get("after", type=int)
    rows = decisions.to_confirm(store(), 1, 0, exclude=after)
    done = request.args.get("done", "")
    if not rows:
        return redirect(url_for("review.to_confirm", done=done), 303)
    return redirect(url_for("review.message", pk=rows[0]["id"], done=done or None), 303)


# -- cases -------------------------------------------------------------------------------------
@bp.get("/cases")
def cases() -> Any:
    from triage.cases import STAGES, list_cases

    stage = request.args.get("stage") if request.args.get("stage") in STAGES else None
    rows = list_cases(store(), stage=stage, limit=200)
    today = date.today()
    return page("cases.html", rows=rows, stages=STAGES, stage=stage or "", today=today, late=_overdue_commitments(today))


def _overdue_commitments(today: date) -> dict[int, list[Any]]:
    """Overdue commitments by case, shown wherever the case is (Code 6.6, 6.17)."""
    from triage.learning.commitments import overdue_by_case

    return overdue_by_case(store(), today, settings().nation)


@bp.get("/cases/<int:case_pk>")
def case_page(case_pk: int) -> Any:
    return _render_case(case_pk)


def _render_case(case_pk: int, status: int = 200, **extra: Any) -> Any:
    from triage.cases import EVENTS, OUTCOMES, get_case
    from triage.learning import list_commitments, list_outcomes

    data = get_case(store(), case_pk, nation=settings().nation)
    if data is None:
        abort(404)
    promised, learnt = list_commitments(store(), case_pk=case_pk), list_outcomes(store(), case_pk=case_pk)
    stage = "stage_2" if data["stage"] == "stage_2" else "stage_1"
    return page(
        "case.html",
        status,
        case=data,
        events=EVENTS,
        outcomes=OUTCOMES,
        event_stages=("service_request", "stage_1", "stage_2"),
        default_stage=stage,
        today=date.today(),
        nation=settings().nation,
        commitments=promised,
        learning=learnt,
        done=request.args.get("done", ""),
        **extra,
    )


@bp.post("/cases/<int:case_pk>/events")
def case_event(case_pk: int) -> Any:
    from triage.cases import Event, record_event
    from triage.errors import InputError

    form = request.form
    try:
        on = _date(form.get("on"), "the date it happened")
        extended = _date(form.get("extended_to"), "the new respond-by date") if form.get("extended_to") else None
        event = Event(
            form.get("event", ""),
            form.get("stage", ""),
            on,
            extended,
            form.get("reason", "").strip()[:2000],
            form.get("outcome") or None,
            recorded_by=g.session.user.name,
        )
        record_event(store(), case_pk, event, settings().nation)
    except InputError as exc:
        if "there is no case" in str(exc):
            abort(404)
        return _render_case(case_pk, 400, error=str(exc), form=form)
    return redirect(url_for("review.case_page", case_pk=case_pk, done=event.event), 303)


def _date(value: str | None, what: str) -> date:
    from triage.errors import InputError

    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise InputError(f"{what} must be a date (YYYY-MM-DD).") from None


# -- agreement and audit -----------------------------------------------------------------------
@bp.get("/agreement")
def agreement_page() -> Any:
    result = agreement(list(decisions.latest_reviews(store())))
    return page("agreement.html", a=result, pairs=overrule_pairs(result), worst=result.most_overruled())


@bp.get("/audit.csv")
def audit_csv() -> Any:
    buffer = io.StringIO()
    trail = decisions.audit_trail(store())
    write_csv_rows(buffer, [decisions.AUDIT_COLUMNS, *([row[c] for c in decisions.AUDIT_COLUMNS] for row in trail)])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="triage-reviews-{date.today():%Y-%m-%d}.csv"'
    return response


# -- users (admins only) -------------------------------------------------------------------------
@bp.route("/users", methods=["GET", "POST"])
def users() -> Any:
    require_admin()
    error = notice = ""
    status = 200
    if request.method == "POST":
        try:
            made = auth.add_user(
                store(), request.form.get("name", ""), request.form.get("password", ""), request.form.get("role", "")
            )
            notice = f"Added {made.name} ({made.role})."
        except ReviewError as exc:
            error, status = str(exc), 400
    return page("users.html", status, people=auth.list_users(store()), roles=auth.ROLES, error=error, notice=notice)


@bp.post("/users/<int:user_id>/disabled")
def user_disabled(user_id: int) -> Any:
    require_admin()
    if user_id == g.session.user.id:
        abort(400, "You cannot disable your own account.")
    try:
        auth.set_disabled(store(), user_id, request.form.get("disabled") == "yes")
    except ReviewError:
        abort(404)
    return redirect(url_for("review.users"), 303)
