"""Accounts, sessions and signing in for the review app (throttling: ``throttle``).

Passwords are hashed with Argon2id (argon2-cffi's defaults). A session is a random token in an
HttpOnly cookie; the store keeps only its SHA-256, so a copy of the database cannot be used to
sign in. Each session has its own CSRF token, sent back with every form.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from triage.errors import ReviewError
from triage.review import throttle
from triage.store.db import Store, as_utc
from triage.store.schema import users, web_sessions

ROLES = ("reviewer", "admin")
MIN_PASSWORD = 10
SESSION_IDLE = timedelta(hours=2)
SESSION_MAX = timedelta(hours=12)

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class Session:
    token: str  # only ever in the cookie
    user: User
    csrf_token: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(store: Store, name: str, password: str, role: str = "reviewer") -> User:
    """Create an account. Names are 1-64 characters without spaces at either end."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ReviewError("a user name must be 1 to 64 characters long. Choose another name.")
    if role not in ROLES:
        raise ReviewError(f"role {role!r} is not one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise ReviewError(f"the password is shorter than {MIN_PASSWORD} characters. Choose a longer one (a passphrase).")
    with store.transaction() as conn:
        if conn.scalar(select(users.c.id).where(users.c.name == name)) is not None:
            raise ReviewError(f"there is already a user called {name!r}. Choose another name, or disable that account first.")
        pk = conn.execute(
            insert(users).values(name=name, password_hash=_hasher.hash(password), role=role, created_at=_now(), disabled=False)
        ).inserted_primary_key[0]
    return User(pk, name, role)


def list_users(store: Store) -> list[dict]:
    query = select(users.c.id, users.c.name, users.c.role, users.c.created_at, users.c.disabled).order_by(users.c.name)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def set_disabled(store: Store, user_id: int, disabled: bool) -> None:
    """Disable (or re-enable) an account; disabling also ends its sessions."""
    with store.transaction() as conn:
        if conn.execute(update(users).where(users.c.id == user_id).values(disabled=disabled)).rowcount == 0:
            raise ReviewError(f"there is no user {user_id}.")
        if disabled:
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


RateLimited = throttle.Throttled  # the name this exception had before throttling replaced the lockout


def sign_in(store: Store, name: str, password: str, address: str, now: datetime | None = None) -> Session | None:
    """Check a password and start a session; None when the name or password is wrong.

    Raises throttle.Throttled, before checking the password, when this name from this address
    (or this address) has failed too often lately: see ``triage.review.throttle``. ``now`` is
    the clock (for simulations); every try is logged.
    """
    name = name.strip()[:64]
    address = address[:64]
    now = now or _now()
    throttle.check(store, name, address, now)
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    ok = False
    try:
        ok = _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password) and row is not None and not row["disabled"]
    except (VerificationError, InvalidHashError):
        ok = False
    with store.transaction() as conn:
        throttle.record(conn, name, address, "success" if ok else "failure", now)
        if not ok:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            conn.execute(update(users).where(users.c.id == row["id"]).values(password_hash=_hasher.hash(password)))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + SESSION_IDLE
        conn.execute(
            insert(web_sessions).values(
                token_sha256=_digest(token), user_id=row["id"], csrf_token=csrf, created_at=now, last_seen=now, expires_at=expires
            )
        )
    return Session(token, User(row["id"], row["name"], row["role"]), csrf, expires)


def session_for(store: Store, token: str | None) -> Session | None:
    """The live session for a cookie token, its idle expiry moved on; None if absent or expired."""
    if not token:
        return None
    now = _now()
    query = (
        select(web_sessions, users.c.name, users.c.role, users.c.disabled)
        .join(users, users.c.id == web_sessions.c.user_id)
        .where(web_sessions.c.token_sha256 == _digest(token))
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None or row["disabled"] or as_utc(row["expires_at"]) <= now:
        return None
    expires = min(now + SESSION_IDLE, as_utc(row["created_at"]) + SESSION_MAX)
    if (now - as_utc(row["last_seen"])) > timedelta(minutes=1):  # one write a minute at most
        with store.transaction() as conn:
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.token_sha256 == row["token_sha256"])
                .values(last_seen=now, expires_at=expires)
            )
    return Session(token, User(row["user_id"], row["name"], row["role"]), row["csrf_token"], expires)


def sign_out(store: Store, token: str | None) -> None:
    if token:
        with store.transaction() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_sha256 == _digest(token)))
    with store.transaction() as conn:  # tidy: expired sessions and old attempts
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < _now()))
        throttle.tidy(conn, _now())
