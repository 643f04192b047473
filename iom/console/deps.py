"""FastAPI dependencies: the database, the settings, the signed-in user, CSRF checks.

Routes declare what they need in their signature (`user: OperatorForm`, `engine: Db`)
instead of checking by hand: a form POST that names `OperatorForm` or `AdminForm`
cannot run without a live session, the right role and the session's CSRF token.
Order of the checks, for every POST: not signed in -> 303 to /login; signed in but
not an admin on an admin form -> 403; missing or wrong CSRF token -> 403.

(No `from __future__ import annotations`: FastAPI reads these annotations at runtime.)
"""

import secrets
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Form, HTTPException, Request

from iom.console import auth
from iom.console.auth import User
from iom.console.config import Settings

SESSION_COOKIE = "iomc_session"
LOGIN_CSRF_COOKIE = "iomc_login_csrf"
FORM_EXPIRED = (
    "The form expired or was not sent from the console. Reload the page and try again."
)
LOGIN_FORM_EXPIRED = "The login form expired. Reload the page and try again."


class NeedLogin(Exception):
    """Raised by the auth dependency; handled as a redirect to /login (app.py)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> sa.engine.Engine:
    """The app's database engine (routes open short connections through queries.py)."""
    engine: sa.engine.Engine = request.app.state.engine
    return engine


def get_intents(request: Request) -> list[str]:
    """The domain's intents (read once at start), for the correction menus."""
    intents: list[str] = request.app.state.intents
    return intents


def get_entities(request: Request) -> list[str]:
    """The domain's entity types (read once at start), for the entity marks."""
    entities: list[str] = request.app.state.entities
    return entities


ConsoleSettings = Annotated[Settings, Depends(get_settings)]
Db = Annotated[sa.engine.Engine, Depends(get_engine)]
Intents = Annotated[list[str], Depends(get_intents)]
Entities = Annotated[list[str], Depends(get_entities)]


def current_user(request: Request, engine: Db) -> User:
    """The user of the session cookie; otherwise NeedLogin (a redirect to /login).

    Only reads: sessions are not extended or touched on page views.
    """
    user = auth.user_for(engine, request.cookies.get(SESSION_COOKIE))
    if user is None:
        target = request.url.path if request.method == "GET" else "/"
        raise NeedLogin(target)
    return user


Operator = Annotated[User, Depends(current_user)]


def admin_user(user: Operator) -> User:
    """The current user if an admin, else 403."""
    if not user.is_admin:
        raise HTTPException(403, "This page is for administrators.")
    return user


Admin = Annotated[User, Depends(admin_user)]
CsrfToken = Annotated[str | None, Form()]


def _check_csrf(user: User, token: str | None) -> User:
    if not auth.csrf_ok(user, token):
        raise HTTPException(403, FORM_EXPIRED)
    return user


def operator_form(user: Operator, csrf_token: CsrfToken = None) -> User:
    """A form POST by any signed-in user, with the session's CSRF token."""
    return _check_csrf(user, csrf_token)


def admin_form(user: Admin, csrf_token: CsrfToken = None) -> User:
    """A form POST by an admin, with the session's CSRF token."""
    return _check_csrf(user, csrf_token)


OperatorForm = Annotated[User, Depends(operator_form)]
AdminForm = Annotated[User, Depends(admin_form)]


def login_csrf(request: Request, csrf_token: CsrfToken = None) -> str:
    """The login form's token, which must equal its cookie (double submit), else 403.

    There is no session yet, so the login form has its own token cookie
    (LOGIN_CSRF_COOKIE, set by GET /login).
    """
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if (
        not expected
        or not csrf_token
        or not secrets.compare_digest(expected, csrf_token)
    ):
        raise HTTPException(403, LOGIN_FORM_EXPIRED)
    return csrf_token


LoginCsrf = Annotated[str, Depends(login_csrf)]
