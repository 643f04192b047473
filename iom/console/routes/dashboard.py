"""The dashboard (activity charts, is the bot up) and the console's own health check."""

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from iom.console import charts, queries
from iom.console.deps import Db, Operator
from iom.console.templating import render
from iom.console.warsaw import DAY_SECONDS, day_label, last_days
from iom.core.language import SUPPORTED
from iom.core.service_health import bot_services

router = APIRouter(tags=["dashboard"])


@router.get("/healthz", response_class=PlainTextResponse)
def health() -> str:
    """The console answers (for the service manager and the proxy)."""
    return "ok\n"


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    user: Operator,
    engine: Db,
    days: Annotated[int, Query(ge=1, le=365)] = 14,
) -> Response:
    """Conversations per day and language, top intents, rates, service health."""
    health = bot_services()  # is the bot up, is the action server up (1.5 s max)
    since = time.time() - days * DAY_SECONDS
    recent = queries.conversations_since(engine, since)
    top = queries.top_intents(engine, since)
    per_day = dict.fromkeys(last_days(days), 0)
    per_language = dict.fromkeys([*SUPPORTED, "?"], 0)
    for row in recent:
        key = day_label(row.last_at)
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
    return render(
        request,
        "dashboard.html",
        user=user,
        days=days,
        stats=stats,
        health=health,
        per_day_svg=charts.bar_chart("Conversations per day", list(per_day.items())),
        language_svg=charts.bar_chart(
            "Conversations per language", list(per_language.items())
        ),
        intents_svg=charts.bar_chart(
            "Top intents (conversations)", [(r.intent, r.n) for r in top]
        ),
    )
