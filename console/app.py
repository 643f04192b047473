"""The operator console: FastAPI with server-rendered Jinja2 pages, no JavaScript.

(No `from __future__ import annotations` here: FastAPI must see the real
`Annotated[...]` dependency types, which are local to `create_app`.)

Run with `make run` (port CONSOLE_PORT, 8081) or `python -m console.cli serve`.
"""


import logging
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import yaml
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from actions.contacts import DirectoryError
from console import auth, charts, db, directory, masking, tracker
from console.auth import User
from iom_core.language import SUPPORTED
from scripts import retention

logger = logging.getLogger("console")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WARSAW = ZoneInfo("Europe/Warsaw")
SESSION_COOKIE = "iomc_session"
LOGIN_CSRF_COOKIE = "iomc_login_csrf"
REVEAL_SECONDS = 15 * 60
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class Settings:
    """Console settings, from the environment by default."""

    database_url: str = field(
        default_factory=lambda: os.environ.get(
            "TRACKER_URL", f"sqlite:///{ROOT / 'var' / 'rasa.db'}"
        )
    )
    secure_cookies: bool = field(
        default_factory=lambda: os.environ.get("CONSOLE_SECURE_COOKIES", "0") == "1"
    )
    low_confidence: float = field(
        default_factory=lambda: float(os.environ.get("CONSOLE_LOW_CONFIDENCE", "0.6"))
    )
    page_size: int = 50
    domain_file: Path = ROOT / "domain.yml"


def intents_of(domain_file: Path) -> list[str]:
    """The domain's intents, for the correction menu."""
    domain = yaml.safe_load(domain_file.read_text("utf-8"))
    return sorted(i if isinstance(i, str) else next(iter(i)) for i in domain["intents"])


def local_time(timestamp: float | None) -> str:
    """A Unix time as Europe/Warsaw wall time."""
    if not timestamp:
        return ""
    return datetime.fromtimestamp(timestamp, WARSAW).strftime("%Y-%m-%d %H:%M:%S")


def day_start(day: str) -> float:
    """Midnight of a YYYY-MM-DD day in Warsaw, as a Unix time."""
    return datetime.combine(
        date.fromisoformat(day), datetime.min.time(), WARSAW
    ).timestamp()


class NeedLogin(Exception):
    """Raised by the auth dependency; handled as a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the console app (migrates the console's tables first)."""
    settings = settings or Settings()
    db.migrate(settings.database_url)
    engine = db.engine_for(settings.database_url)
    intents = intents_of(settings.domain_file)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["local"] = local_time
    templates.env.filters["mask"] = masking.mask

    app = FastAPI(
        title="IOM assistant operator console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.engine = engine
    app.state.settings = settings

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/static"):
            response.headers["Cache-Control"] = "no-store"
        return response

    def page(
        request: Request, name: str, code: int = 200, **context: Any
    ) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=code)

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        return RedirectResponse(
            "/login?" + urlencode({"next": exc.next_url}), status_code=303
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return page(
            request,
            "error.html",
            exc.status_code,
            status=exc.status_code,
            message=exc.detail,
            user=None,
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        logger.exception("console error on %s", request.url.path)
        return page(
            request,
            "error.html",
            500,
            status=500,
            message="Something went wrong. It has been logged.",
            user=None,
        )

    def current_user(request: Request) -> User:
        user = auth.user_for(engine, request.cookies.get(SESSION_COOKIE))
        if user is None:
            target = request.url.path if request.method == "GET" else "/"
            raise NeedLogin(target)
        return user

    def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.is_admin:
            raise HTTPException(403, "This page is for administrators.")
        return user

    def checked(user: User, token: str | None) -> None:
        if not auth.csrf_ok(user, token):
            raise HTTPException(
                403,
                "The form expired or was not sent from the console."
                " Reload the page and try again.",
            )

    Operator = Annotated[User, Depends(current_user)]
    Admin = Annotated[User, Depends(admin_user)]
    Csrf = Annotated[str | None, Form()]

    # ---- login
    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/conversations") -> Response:
        token = secrets.token_urlsafe(32)
        response = page(
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

    @app.post("/login")
    def login_submit(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
        next: Annotated[str, Form()] = "/conversations",
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
        if (
            not expected
            or not csrf_token
            or not secrets.compare_digest(expected, csrf_token)
        ):
            raise HTTPException(
                403, "The login form expired. Reload the page and try again."
            )
        try:
            token = auth.login(engine, username.strip(), password)
        except auth.AuthError as error:
            auth.record(engine, username[:64] or "?", "login_failed")
            time.sleep(0.5)
            return page(
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

    @app.post("/logout")
    def logout(request: Request, user: Operator, csrf_token: Csrf = None) -> Response:
        checked(user, csrf_token)
        auth.logout(engine, request.cookies.get(SESSION_COOKIE, ""))
        auth.record(engine, user.username, "logout")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/healthz", response_class=PlainTextResponse)
    def health() -> str:
        return "ok\n"

    @app.get("/")
    def home(user: Operator) -> Response:
        return RedirectResponse("/conversations", status_code=303)

    # ---- conversations
    @app.get("/conversations", response_class=HTMLResponse)
    def conversation_list(
        request: Request,
        user: Operator,
        q: str = "",
        date_from: str = "",
        date_to: str = "",
        language: str = "",
        intent: str = "",
        tag: str = "",
        reviewed: str = "",
        low_confidence: str = "",
        fallback: str = "",
        handoff: str = "",
        safety: str = "",
        page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    ) -> Response:
        tracker.sync(engine)
        c = db.conversations.c
        query = sa.select(
            db.conversations,
            db.reviews.c.reviewed,
        ).outerjoin(db.reviews, db.reviews.c.sender_id == c.sender_id)
        conditions = []
        errors = []
        if q.strip():
            conditions.append(
                c.search_text.contains(q.strip().lower()[:200], autoescape=True)
            )
        for value, op in ((date_from, "from"), (date_to, "to")):
            if value:
                try:
                    start = day_start(value)
                except ValueError:
                    errors.append(f"Not a date: {value!r} (use YYYY-MM-DD).")
                    continue
                conditions.append(
                    c.last_at >= start if op == "from" else c.last_at < start + 86400
                )
        if language in SUPPORTED:
            conditions.append(c.language == language)
        if intent:
            conditions.append(
                c.sender_id.in_(
                    sa.select(db.conversation_intents.c.sender_id).where(
                        db.conversation_intents.c.intent == intent
                    )
                )
            )
        if tag:
            conditions.append(
                c.sender_id.in_(
                    sa.select(db.tags.c.sender_id).where(db.tags.c.tag == tag)
                )
            )
        if reviewed == "yes":
            conditions.append(db.reviews.c.reviewed.is_(True))
        elif reviewed == "no":
            conditions.append(
                sa.or_(
                    db.reviews.c.reviewed.is_(None), db.reviews.c.reviewed.is_(False)
                )
            )
        if low_confidence:
            conditions.append(c.min_confidence < settings.low_confidence)
        for flag, column in (
            (fallback, c.fallback),
            (handoff, c.handoff),
            (safety, c.safety),
        ):
            if flag:
                conditions.append(column.is_(True))
        if conditions:
            query = query.where(*conditions)
        with engine.connect() as connection:
            total = (
                connection.execute(
                    sa.select(sa.func.count()).select_from(query.subquery())
                ).scalar()
                or 0
            )
            rows = connection.execute(
                query.order_by(c.last_at.desc(), c.sender_id)
                .limit(settings.page_size)
                .offset((page_no - 1) * settings.page_size)
            ).all()
            all_tags = [
                r[0]
                for r in connection.execute(
                    sa.select(db.tags.c.tag).distinct().order_by(db.tags.c.tag)
                )
            ]
        filters = {
            k: v
            for k, v in {
                "q": q,
                "date_from": date_from,
                "date_to": date_to,
                "language": language,
                "intent": intent,
                "tag": tag,
                "reviewed": reviewed,
                "low_confidence": low_confidence,
                "fallback": fallback,
                "handoff": handoff,
                "safety": safety,
            }.items()
            if v
        }
        pages = max(1, math.ceil(total / settings.page_size))
        return page(
            request,
            "conversations.html",
            user=user,
            rows=rows,
            total=total,
            page=page_no,
            pages=pages,
            filters=filters,
            query_string=lambda **extra: urlencode({**filters, **extra}),
            intents=intents,
            tags=all_tags,
            errors=errors,
            threshold=settings.low_confidence,
        )

    def revealed(user: User, sender_id: str) -> bool:
        with engine.connect() as connection:
            return (
                connection.execute(
                    sa.select(db.audit.c.id).where(
                        db.audit.c.username == user.username,
                        db.audit.c.action == "reveal",
                        db.audit.c.target == sender_id,
                        db.audit.c.at > time.time() - REVEAL_SECONDS,
                    )
                ).first()
                is not None
            )

    @app.get("/conversations/{sender_id}", response_class=HTMLResponse)
    def conversation(request: Request, sender_id: str, user: Operator) -> Response:
        tracker.sync(engine)
        turns = tracker.transcript(engine, sender_id)
        if not turns:
            raise HTTPException(
                404, "No conversation with this id (it may have been deleted)."
            )
        with engine.connect() as connection:
            review = connection.execute(
                sa.select(db.reviews).where(db.reviews.c.sender_id == sender_id)
            ).first()
            its_tags = [
                r[0]
                for r in connection.execute(
                    sa.select(db.tags.c.tag)
                    .where(db.tags.c.sender_id == sender_id)
                    .order_by(db.tags.c.tag)
                )
            ]
            corrected = {
                r.event_id: r.corrected_intent
                for r in connection.execute(
                    sa.select(db.corrections).where(
                        db.corrections.c.sender_id == sender_id
                    )
                )
            }
            summary = connection.execute(
                sa.select(db.conversations).where(
                    db.conversations.c.sender_id == sender_id
                )
            ).first()
        show = revealed(user, sender_id)
        return page(
            request,
            "conversation.html",
            user=user,
            sender_id=sender_id,
            turns=turns,
            review=review,
            tags=its_tags,
            corrected=corrected,
            intents=intents,
            revealed=show,
            summary=summary,
            has_pii=any(
                t.kind == "user" and masking.has_personal_data(t.text) for t in turns
            ),
            threshold=settings.low_confidence,
        )

    def back(sender_id: str) -> RedirectResponse:
        return RedirectResponse(f"/conversations/{sender_id}", status_code=303)

    def must_exist(sender_id: str) -> None:
        with engine.connect() as connection:
            found = connection.execute(
                sa.select(db.events.c.id)
                .where(db.events.c.sender_id == sender_id)
                .limit(1)
            ).first()
        if not found:
            raise HTTPException(404, "No conversation with this id.")

    @app.post("/conversations/{sender_id}/reveal")
    def reveal(
        sender_id: str,
        user: Operator,
        reason: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        must_exist(sender_id)
        if len(reason.strip()) < 5:
            raise HTTPException(
                400, "Give a reason (at least 5 characters) to reveal personal data."
            )
        auth.record(engine, user.username, "reveal", sender_id, reason.strip()[:500])
        return back(sender_id)

    @app.post("/conversations/{sender_id}/review")
    def review(
        sender_id: str,
        user: Operator,
        reviewed: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        must_exist(sender_id)
        values = {
            "reviewed": reviewed == "1",
            "reviewed_by": user.username,
            "reviewed_at": time.time(),
            "note": note.strip()[:5000] or None,
        }
        with engine.begin() as connection:
            if not connection.execute(
                db.reviews.update()
                .where(db.reviews.c.sender_id == sender_id)
                .values(**values)
            ).rowcount:
                connection.execute(
                    db.reviews.insert().values(sender_id=sender_id, **values)
                )
        auth.record(
            engine, user.username, "review", sender_id, f"reviewed={values['reviewed']}"
        )
        return back(sender_id)

    @app.post("/conversations/{sender_id}/tags")
    def add_tag(
        sender_id: str,
        user: Operator,
        tag: Annotated[str, Form()] = "",
        remove: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        must_exist(sender_id)
        name = " ".join(tag.split())[:64].lower()
        if not name:
            raise HTTPException(400, "A tag cannot be empty.")
        with engine.begin() as connection:
            key = (db.tags.c.sender_id == sender_id) & (db.tags.c.tag == name)
            if remove:
                connection.execute(db.tags.delete().where(key))
            elif not connection.execute(sa.select(db.tags).where(key)).first():
                connection.execute(
                    db.tags.insert().values(sender_id=sender_id, tag=name)
                )
        auth.record(
            engine, user.username, "untag" if remove else "tag", sender_id, name
        )
        return back(sender_id)

    @app.post("/conversations/{sender_id}/correct")
    def correct(
        sender_id: str,
        user: Operator,
        event_id: Annotated[int | None, Form()] = None,
        intent: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        if intent not in intents:
            raise HTTPException(400, "Choose an intent from the domain.")
        turn = next(
            (
                t
                for t in tracker.transcript(engine, sender_id)
                if t.event_id == event_id and t.kind == "user"
            ),
            None,
        )
        if turn is None:
            raise HTTPException(404, "No such user message in this conversation.")
        if turn.text.startswith("/"):
            raise HTTPException(400, "Button clicks are not training examples.")
        with engine.connect() as connection:
            summary = connection.execute(
                sa.select(db.conversations.c.language).where(
                    db.conversations.c.sender_id == sender_id
                )
            ).scalar()
        values = {
            "sender_id": sender_id,
            "text": turn.text,
            "language": turn.language or summary,
            "predicted_intent": turn.intent,
            "corrected_intent": intent,
            "username": user.username,
            "at": time.time(),
        }
        with engine.begin() as connection:
            if not connection.execute(
                db.corrections.update()
                .where(db.corrections.c.event_id == event_id)
                .values(**values)
            ).rowcount:
                connection.execute(
                    db.corrections.insert().values(event_id=event_id, **values)
                )
        auth.record(
            engine,
            user.username,
            "correct",
            sender_id,
            f"event {event_id}: {turn.intent} -> {intent}",
        )
        return back(sender_id)

    @app.post("/conversations/{sender_id}/erase")
    def erase(
        sender_id: str,
        user: Admin,
        confirm: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        if confirm != sender_id:
            raise HTTPException(400, "Type the conversation id to confirm the erasure.")
        deleted = retention.erase(engine, sender_id)
        if not deleted.conversations:
            raise HTTPException(404, "No conversation with this id.")
        auth.record(
            engine, user.username, "erase", sender_id, f"{deleted.events} events"
        )
        return RedirectResponse("/conversations", status_code=303)

    # ---- corrections
    @app.get("/corrections", response_class=HTMLResponse)
    def correction_list(request: Request, user: Operator) -> Response:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(db.corrections).order_by(db.corrections.c.at.desc())
            ).all()
        return page(request, "corrections.html", user=user, rows=rows)

    @app.get("/corrections/export")
    def export(user: Operator, language: str = "pl") -> Response:
        if language not in SUPPORTED:
            raise HTTPException(400, f"language must be one of {', '.join(SUPPORTED)}")
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(db.corrections)
                .where(db.corrections.c.language == language)
                .order_by(db.corrections.c.corrected_intent, db.corrections.c.id)
            ).all()
        auth.record(engine, user.username, "export", language, f"{len(rows)} examples")
        body = nlu_yaml(rows)
        return Response(
            body,
            media_type="application/x-yaml",
            headers={
                "Content-Disposition": "attachment;"
                f' filename="corrections-{language}.yml"'
            },
        )

    # ---- handoffs
    @app.get("/handoffs", response_class=HTMLResponse)
    def handoffs(request: Request, user: Operator, status: str = "") -> Response:
        rows: list[Any] = []
        if "handoff_requests" in sa.inspect(engine).get_table_names():
            query = (
                sa.select(db.handoff_requests)
                .order_by(db.handoff_requests.c.created_at.desc())
                .limit(500)
            )
            if status in ("open", "in_progress", "done"):
                query = query.where(db.handoff_requests.c.status == status)
            with engine.connect() as connection:
                rows = connection.execute(query).all()
        return page(request, "handoffs.html", user=user, rows=rows, status=status)

    @app.post("/handoffs/{request_id}")
    def handoff_status(
        request_id: int,
        user: Operator,
        status: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        if status not in ("open", "in_progress", "done"):
            raise HTTPException(400, "Status must be open, in_progress or done.")
        with engine.begin() as connection:
            updated = connection.execute(
                db.handoff_requests.update()
                .where(db.handoff_requests.c.id == request_id)
                .values(
                    status=status, taken_by=None if status == "open" else user.username
                )
            ).rowcount
        if not updated:
            raise HTTPException(404, "No such handoff request.")
        auth.record(engine, user.username, "handoff", str(request_id), status)
        return RedirectResponse("/handoffs", status_code=303)

    # ---- contact directory
    @app.get("/directory", response_class=HTMLResponse)
    def directory_page(request: Request, user: Operator) -> Response:
        try:
            entries, error = directory.load().contacts, None
        except DirectoryError as exc:
            entries, error = [], str(exc)
        return page(
            request,
            "directory.html",
            user=user,
            entries=entries,
            error=error,
            path=directory.directory_path(),
        )

    @app.get("/directory/{entry_id}/edit", response_class=HTMLResponse)
    def directory_edit(request: Request, entry_id: str, user: Admin) -> Response:
        try:
            text = directory.entry_yaml(entry_id)
        except KeyError:
            raise HTTPException(404, "No such directory entry.") from None
        return page(
            request,
            "directory_edit.html",
            user=user,
            entry_id=entry_id,
            text=text,
            error=None,
        )

    @app.post("/directory/{entry_id}")
    def directory_save(
        request: Request,
        entry_id: str,
        user: Admin,
        text: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        try:
            directory.replace_entry(entry_id, text)
        except KeyError:
            raise HTTPException(404, "No such directory entry.") from None
        except DirectoryError as error:
            return page(
                request,
                "directory_edit.html",
                422,
                user=user,
                entry_id=entry_id,
                text=text,
                error=str(error),
            )
        auth.record(engine, user.username, "directory_edit", entry_id)
        return RedirectResponse(f"/directory#{entry_id}", status_code=303)

    @app.post("/directory/{entry_id}/verify")
    def directory_verify(
        entry_id: str,
        user: Admin,
        source_url: Annotated[str, Form()] = "",
        csrf_token: Csrf = None,
    ) -> Response:
        checked(user, csrf_token)
        if not source_url.startswith(("https://", "http://")):
            raise HTTPException(
                400, "Give the source URL (http or https) where you verified the entry."
            )
        try:
            directory.mark_verified(entry_id, source_url.strip(), user.username)
        except KeyError:
            raise HTTPException(404, "No such directory entry.") from None
        except DirectoryError as error:
            raise HTTPException(422, str(error)) from None
        auth.record(
            engine,
            user.username,
            "directory_verify",
            entry_id,
            source_url.strip()[:500],
        )
        return RedirectResponse(f"/directory#{entry_id}", status_code=303)

    # ---- dashboard and audit
    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(
        request: Request, user: Operator, days: Annotated[int, Query(ge=1, le=365)] = 14
    ) -> Response:
        from scripts.service_health import bot_services  # stdlib only

        health = bot_services()  # is the bot up, is the action server up (1.5 s max)
        tracker.sync(engine)
        since = time.time() - days * 86400
        c = db.conversations.c
        with engine.connect() as connection:
            recent = connection.execute(
                sa.select(c.last_at, c.language, c.fallback, c.handoff, c.safety).where(
                    c.last_at >= since
                )
            ).all()
            top = connection.execute(
                sa.select(db.conversation_intents.c.intent, sa.func.count().label("n"))
                .join(
                    db.conversations,
                    db.conversations.c.sender_id == db.conversation_intents.c.sender_id,
                )
                .where(c.last_at >= since)
                .group_by(db.conversation_intents.c.intent)
                .order_by(sa.text("n desc"))
                .limit(12)
            ).all()
        per_day: dict[str, int] = {}
        for offset in range(days - 1, -1, -1):
            per_day[
                (datetime.now(WARSAW) - timedelta(days=offset)).strftime("%m-%d")
            ] = 0
        per_language = dict.fromkeys([*SUPPORTED, "?"], 0)
        for row in recent:
            key = datetime.fromtimestamp(row.last_at, WARSAW).strftime("%m-%d")
            if key in per_day:
                per_day[key] += 1
            per_language[row.language if row.language in per_language else "?"] += 1
        n = len(recent)
        stats = {
            "conversations": n,
            "fallback_rate": round(100 * sum(r.fallback for r in recent) / n, 1)
            if n
            else 0.0,
            "handoffs": sum(r.handoff for r in recent),
            "safety": sum(r.safety for r in recent),
        }
        return page(
            request,
            "dashboard.html",
            user=user,
            days=days,
            stats=stats,
            health=health,
            per_day_svg=charts.bar_chart(
                "Conversations per day", list(per_day.items())
            ),
            language_svg=charts.bar_chart(
                "Conversations per language", list(per_language.items())
            ),
            intents_svg=charts.bar_chart(
                "Top intents (conversations)", [(r.intent, r.n) for r in top]
            ),
        )

    @app.get("/audit", response_class=HTMLResponse)
    def audit_log(request: Request, user: Admin) -> Response:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(db.audit).order_by(db.audit.c.id.desc()).limit(500)
            ).all()
        return page(request, "audit.html", user=user, rows=rows)

    return app


def safe_next(target: str) -> str:
    """Only local paths after login (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/conversations"


class _Literal(str):
    """A string dumped as a YAML block literal."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def nlu_yaml(rows: list[Any]) -> str:
    """Corrections as Rasa 3 NLU training data (version 3.1, a block per intent)."""
    by_intent: dict[str, list[str]] = {}
    for row in rows:
        text = " ".join(str(row.text).split())
        if text and text not in by_intent.setdefault(row.corrected_intent, []):
            by_intent[row.corrected_intent].append(text)
    data = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": _Literal("".join(f"- {t}\n" for t in texts))}
            for intent, texts in sorted(by_intent.items())
        ],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
