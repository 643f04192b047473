"""The operator console: FastAPI with server-rendered Jinja2 pages.

Every page works without JavaScript; one small script of our own (static/console.js,
no inline scripts) adds the live parts: the handoff badge and the live chat.

This module only wires the app together: settings, the database, the background
indexing job (lifespan), security headers, error pages, static files, templates and
the routers of `iom/console/routes/`. Dependencies are in deps.py, SQL in queries.py.

Run with `make run` (port CONSOLE_PORT, 8081) or `python -m iom.console.cli serve`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from iom.console.config import Settings
from iom.console.deps import NeedLogin
from iom.console.jobs import HandBackJob, IndexJob
from iom.console.live import Live
from iom.console.rasa_api import RasaApi
from iom.console.routes import ROUTERS
from iom.console.templating import make_templates, render
from iom.core import db
from iom.core.learning.entities import domain_entities

__all__ = ["Settings", "create_app", "entities_of", "intents_of"]

logger = logging.getLogger("console")
STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def intents_of(domain_file: Path) -> list[str]:
    """The domain's intents, for the correction menu."""
    domain = yaml.safe_load(domain_file.read_text("utf-8"))
    return sorted(i if isinstance(i, str) else next(iter(i)) for i in domain["intents"])


def entities_of(domain_file: Path) -> list[str]:
    """The domain's entity types, for the entity marks of a correction."""
    return domain_entities(yaml.safe_load(domain_file.read_text("utf-8")))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Index new tracker events, hand back expired live chats (jobs.py)."""
    job = IndexJob(app.state.engine, app.state.settings.sync_seconds)
    app.state.index_job = job
    hand_back = HandBackJob(app.state.live, app.state.settings.hand_back_check_seconds)
    app.state.hand_back_job = hand_back
    job.start()
    hand_back.start()
    try:
        yield
    finally:
        await hand_back.stop()
        await job.stop()


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """CSP with our own scripts only, no framing or sniffing, no referrer, no cache."""
    response = await call_next(request)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.url.path.startswith("/static"):
        response.headers["Cache-Control"] = "no-store"
    return response


async def need_login(request: Request, exc: NeedLogin) -> Response:
    """Not signed in: to the login form, coming back afterwards."""
    return RedirectResponse(
        "/login?" + urlencode({"next": exc.next_url}), status_code=303
    )


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """4xx and 5xx raised by routes, as a plain page with the message."""
    return render(
        request,
        "error.html",
        exc.status_code,
        status=exc.status_code,
        message=exc.detail,
        user=None,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    """Anything else: logged, and a page without a stack trace."""
    logger.exception("console error on %s", request.url.path)
    return render(
        request,
        "error.html",
        500,
        status=500,
        message="Something went wrong. It has been logged.",
        user=None,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the console app (migrates the console's tables first)."""
    settings = settings or Settings()
    db.migrate(settings.database_url)
    app = FastAPI(
        title="IOM assistant operator console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = db.engine_for(settings.database_url)
    app.state.intents = intents_of(settings.domain_file)
    app.state.entities = entities_of(settings.domain_file)
    app.state.templates = make_templates()
    app.state.live = Live(
        app.state.engine,
        RasaApi(settings.rasa_api_url, settings.rasa_api_token),
        settings.takeover_gone_seconds,
        settings.takeover_idle_seconds,
    )
    app.middleware("http")(security_headers)
    app.exception_handler(NeedLogin)(need_login)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(Exception)(server_error)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in ROUTERS:
        app.include_router(router)
    return app
