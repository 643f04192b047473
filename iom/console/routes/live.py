"""Live operator conversations: join a chat, write in it, hand it back (live.py).

Two server-sent event streams keep the pages live without reloading:
`/queue/stream` (every console page: the handoff badge and the tab title, and the
operator's presence) and `/live/{id}/stream` (the chat an operator is in: the
person's messages, masked, within a second). The streams read the database every
`POLL` seconds; the browser reconnects by itself if a stream drops.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from iom.console import live as live_chat
from iom.console.deps import Db, Operator, OperatorForm
from iom.console.live import Live, LiveError
from iom.console.templating import render
from iom.core import takeover

router = APIRouter(tags=["live"])
POLL = 0.3  # seconds between two reads of the database by a stream
QUEUE_POLL = 1.0
HEARTBEAT = 5.0  # seconds between two presence writes by a stream
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def get_live(request: Request) -> Live:
    """The app's live-chat service (set up by `create_app`)."""
    service: Live = request.app.state.live
    return service


def _fail(error: LiveError) -> HTTPException:
    return HTTPException(error.status, error.message)


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


@router.post("/live/{conversation_id}/join")
def join(
    request: Request,
    conversation_id: str,
    user: OperatorForm,
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Take over the chat; the person is told, the bot stops answering."""
    try:
        get_live(request).join(user, conversation_id, display_name)
    except LiveError as error:
        raise _fail(error) from error
    return RedirectResponse(f"/live/{conversation_id}", status_code=303)


@router.get("/live/{conversation_id}", response_class=HTMLResponse)
def live_page(request: Request, conversation_id: str, user: Operator) -> Response:
    """The chat as the operator in it sees it (or who holds it)."""
    service = get_live(request)
    holder = takeover.holder(service.engine, conversation_id)
    return render(
        request,
        "live.html",
        user=user,
        conversation_id=conversation_id,
        holder=holder,
        mine=holder is not None and holder.username == user.username,
    )


@router.post("/live/{conversation_id}/say")
def say(
    request: Request,
    conversation_id: str,
    user: OperatorForm,
    text: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Send the operator's message to the person's widget."""
    try:
        get_live(request).say(user, conversation_id, text)
    except LiveError as error:
        if _wants_json(request):
            return JSONResponse({"error": error.message}, status_code=error.status)
        raise _fail(error) from error
    if _wants_json(request):
        return JSONResponse({"ok": True})
    return RedirectResponse(f"/live/{conversation_id}", status_code=303)


@router.post("/live/{conversation_id}/leave")
def leave(request: Request, conversation_id: str, user: OperatorForm) -> Response:
    """Hand the chat back to the bot; the person is told."""
    try:
        get_live(request).leave(user, conversation_id)
    except LiveError as error:
        raise _fail(error) from error
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


def _sse(data: str, event: str | None = None) -> str:
    return (f"event: {event}\n" if event else "") + f"data: {data}\n\n"


@router.get("/live/{conversation_id}/stream")
async def chat_stream(
    request: Request, conversation_id: str, user: Operator, after: int = 0
) -> StreamingResponse:
    """The chat's new messages (masked) and whether the operator still holds it."""
    service = get_live(request)

    async def events() -> AsyncIterator[str]:
        cursor = max(after, 0)
        held: bool | None = None
        beat = 0.0
        while not await request.is_disconnected():
            now = service.clock()
            if now - beat >= HEARTBEAT:
                await asyncio.to_thread(service.heartbeat, user, conversation_id)
                beat = now
            for event in await asyncio.to_thread(
                service.events_after, conversation_id, cursor
            ):
                cursor = event.id
                yield _sse(event.as_json(), "message")
            holder = await asyncio.to_thread(
                takeover.holder, service.engine, conversation_id
            )
            mine = holder is not None and holder.username == user.username
            if mine != held:
                held = mine
                state = {"held": mine, "holder": holder.username if holder else None}
                yield _sse(json.dumps(state), "state")
            await asyncio.sleep(POLL)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.get("/queue/stream")
async def queue_stream(
    request: Request, user: Operator, engine: Db
) -> StreamingResponse:
    """Open handoff requests (count, newest id) whenever they change; presence."""
    service = get_live(request)

    async def events() -> AsyncIterator[str]:
        last: dict[str, int] | None = None
        beat = 0.0
        while not await request.is_disconnected():
            now = service.clock()
            if now - beat >= HEARTBEAT:
                await asyncio.to_thread(service.heartbeat, user)
                beat = now
            state = await asyncio.to_thread(live_chat.queue_state, engine)
            if state != last:
                last = state
                yield _sse(json.dumps(state), "queue")
            await asyncio.sleep(QUEUE_POLL)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers=SSE_HEADERS
    )
