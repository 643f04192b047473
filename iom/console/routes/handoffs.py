"""The queue of requests for a human, written by the bot's `action_request_human`."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.console import auth, queries
from iom.console.deps import Db, Operator, OperatorForm
from iom.console.templating import render
from iom.core import takeover

router = APIRouter(tags=["handoffs"])


@router.get("/handoffs", response_class=HTMLResponse)
def handoffs(
    request: Request, user: Operator, engine: Db, status: str = ""
) -> Response:
    """Handoff requests, newest first; `status` filters (other values: all)."""
    wanted = status if status in queries.HANDOFF_STATUSES else None
    rows = queries.handoff_requests(engine, wanted)
    return render(
        request,
        "handoffs.html",
        user=user,
        rows=rows,
        status=status,
        holders={row.conversation_id: row for row in takeover.held(engine)},
        open_widgets=takeover.open_widgets(engine),
    )


@router.post("/handoffs/{request_id}")
def handoff_status(
    request_id: int,
    user: OperatorForm,
    engine: Db,
    status: Annotated[str, Form()] = "",
) -> Response:
    """Set a request's status; taking it (not `open`) records who took it."""
    if status not in queries.HANDOFF_STATUSES:
        raise HTTPException(400, "Status must be open, in_progress or done.")
    taken_by = None if status == "open" else user.username
    if not queries.set_handoff_status(engine, request_id, status, taken_by):
        raise HTTPException(404, "No such handoff request.")
    auth.record(engine, user.username, "handoff", str(request_id), status)
    return RedirectResponse("/handoffs", status_code=303)
