"""Operator accounts, sessions, CSRF tokens and login throttling.

Passwords are hashed with argon2 (argon2-cffi). A session is a random token in an
HttpOnly, SameSite=Strict cookie; only its SHA-256 is stored. Each session has its own
CSRF token, required on every POST. Five failed logins lock an account for 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from iom.core import db

ROLES = ("operator", "admin")
SESSION_SECONDS = 8 * 3600
REVOKED = 253402300799.0  # locked_until for a disabled account (year 9999)
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
MIN_PASSWORD = 12
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


@dataclass(frozen=True)
class User:
    """A signed-in operator."""

    id: int
    username: str
    role: str
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        """Admins may edit the directory and erase conversations."""
        return self.role == "admin"


class AuthError(Exception):
    """Login refused; the message is safe to show."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    engine: sa.engine.Engine, username: str, password: str, role: str
) -> None:
    """Add an account (raises ValueError for a bad role, name or weak password)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise ValueError("username: letters, digits, . - _ (max 64)")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    with engine.begin() as connection:
        exists = connection.execute(
            sa.select(db.users.c.id).where(db.users.c.username == username)
        ).first()
        if exists:
            raise ValueError(f"user {username!r} exists")
        connection.execute(
            db.users.insert().values(
                username=username,
                password_hash=_hasher.hash(password),
                role=role,
                created_at=time.time(),
                failed_logins=0,
                locked_until=0,
            )
        )


def login(
    engine: sa.engine.Engine, username: str, password: str, now: float | None = None
) -> str:
    """Check the password; return a new session token or raise AuthError."""
    now = now or time.time()
    refusal: str | None = None
    token = secrets.token_urlsafe(32)
    with engine.begin() as connection:  # commits the failure count before refusing
        row = connection.execute(
            sa.select(db.users).where(db.users.c.username == username)
        ).first()
        if row is None:
            try:  # same work as a real check, so timing does not reveal names
                _hasher.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            refusal = "Wrong user name or password."
        elif row.locked_until >= REVOKED:
            refusal = "This account is disabled. Ask an administrator."
        elif row.locked_until > now:
            refusal = "Too many failed attempts. Try again in 15 minutes."
        else:
            try:
                _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                failures = row.failed_logins + 1
                locked = now + LOCK_SECONDS if failures >= MAX_FAILURES else 0
                connection.execute(
                    db.users.update()
                    .where(db.users.c.id == row.id)
                    .values(
                        failed_logins=0 if locked else failures, locked_until=locked
                    )
                )
                refusal = "Wrong user name or password."
        if refusal is None and row is not None:  # (row is always set: for mypy)
            connection.execute(
                db.users.update()
                .where(db.users.c.id == row.id)
                .values(failed_logins=0, locked_until=0)
            )
            connection.execute(
                db.sessions.insert().values(
                    token_hash=_digest(token),
                    user_id=row.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + SESSION_SECONDS,
                )
            )
            connection.execute(
                db.sessions.delete().where(db.sessions.c.expires_at < now)
            )
    if refusal:
        raise AuthError(refusal)
    return token


def user_for(engine: sa.engine.Engine, token: str | None) -> User | None:
    """The user of a live session token, else None."""
    if not token:
        return None
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(
                db.users.c.id,
                db.users.c.username,
                db.users.c.role,
                db.sessions.c.csrf_token,
                db.sessions.c.expires_at,
            )
            .join(db.sessions, db.sessions.c.user_id == db.users.c.id)
            .where(db.sessions.c.token_hash == _digest(token))
        ).first()
    if row is None or row.expires_at < time.time():
        return None
    return User(row.id, row.username, row.role, row.csrf_token)


def revoke_user(engine: sa.engine.Engine, username: str) -> int:
    """Disable an account (e.g. a stolen one): end its sessions, refuse logins.

    Returns the number of sessions ended; raises AuthError for an unknown user.
    """
    with engine.begin() as connection:
        row = connection.execute(
            sa.select(db.users.c.id).where(db.users.c.username == username)
        ).first()
        if row is None:
            raise AuthError(f"no such user: {username}")
        connection.execute(
            db.users.update()
            .where(db.users.c.id == row.id)
            .values(locked_until=REVOKED)
        )
        ended = connection.execute(
            db.sessions.delete().where(db.sessions.c.user_id == row.id)
        )
    return int(ended.rowcount or 0)


def restore_user(engine: sa.engine.Engine, username: str, password: str) -> None:
    """Enable a disabled account again, with a new password."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    with engine.begin() as connection:
        updated = connection.execute(
            db.users.update()
            .where(db.users.c.username == username)
            .values(
                password_hash=_hasher.hash(password), locked_until=0, failed_logins=0
            )
        )
    if not updated.rowcount:
        raise AuthError(f"no such user: {username}")


def logout(engine: sa.engine.Engine, token: str) -> None:
    """End a session."""
    with engine.begin() as connection:
        connection.execute(
            db.sessions.delete().where(db.sessions.c.token_hash == _digest(token))
        )


def csrf_ok(user: User, submitted: str | None) -> bool:
    """Constant-time check of a form's CSRF token."""
    return bool(submitted) and hmac.compare_digest(user.csrf_token, submitted or "")


# Append to the audit log (the retrain tool writes it through the same function).
record = db.append_audit
