"""Signing in and out: the login form, its own CSRF cookie, the session cookie."""

import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.console import auth
from iom.console.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleSettings,
    Db,
    LoginCsrf,
    OperatorForm,
)
from iom.console.templating import render

router = APIRouter(tags=["users"])
FAILED_LOGIN_DELAY = 0.5  # seconds, on top of argon2's own cost


def safe_next(target: str) -> str:
    """Only local paths after login (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/conversations"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, settings: ConsoleSettings, next: str = "/conversations"
) -> Response:
    """The login form, with a fresh CSRF token in the form and in a cookie."""
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        user=None,
        csrf_token=token,
        next=safe_next(next),
        error=None,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=3600,
    )
    return response


@router.post("/login")
def login_submit(
    request: Request,
    engine: Db,
    settings: ConsoleSettings,
    csrf_token: LoginCsrf,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/conversations",
) -> Response:
    """Check the password; on success set the session cookie and go to `next`."""
    try:
        token = auth.login(engine, username.strip(), password)
    except auth.AuthError as error:
        auth.record(engine, username[:64] or "?", "login_failed")
        time.sleep(FAILED_LOGIN_DELAY)
        return render(
            request,
            "login.html",
            401,
            user=None,
            csrf_token=csrf_token,
            next=safe_next(next),
            error=str(error),
        )
    auth.record(engine, username, "login")
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=auth.SESSION_SECONDS,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, engine: Db, user: OperatorForm) -> Response:
    """End the session."""
    auth.logout(engine, request.cookies.get(SESSION_COOKIE, ""))
    auth.record(engine, user.username, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
