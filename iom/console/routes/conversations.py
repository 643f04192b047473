"""The conversation list and one conversation: review, tags, corrections, reveal, erase.

Pages only read: the list comes from the conversation index, which the background job
keeps up to date (jobs.py); a transcript is read straight from the tracker store.
"""

import json
import math
import time
from dataclasses import asdict, dataclass
from itertools import zip_longest
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from iom.console import auth, masking, queries, tracker
from iom.console.deps import (
    AdminForm,
    ConsoleSettings,
    Db,
    Entities,
    Intents,
    Operator,
    OperatorForm,
)
from iom.console.templating import render
from iom.console.warsaw import DAY_SECONDS, day_start
from iom.core import retention, takeover
from iom.core.language import SUPPORTED
from iom.core.learning import entities as marking
from iom.core.learning.erasure import LearningBusy
from iom.core.learning.examples import parse_entities

router = APIRouter(tags=["conversations"])
REVEAL_SECONDS = 15 * 60
NO_CONVERSATION = "No conversation with this id."


@dataclass
class Filters:
    """The list's filters as given in the query string (empty: not filtered)."""

    q: str = ""
    date_from: str = ""
    date_to: str = ""
    language: str = ""
    intent: str = ""
    tag: str = ""
    reviewed: str = ""
    low_confidence: str = ""
    fallback: str = ""
    handoff: str = ""
    safety: str = ""

    def given(self) -> dict[str, str]:
        """The filters that are set, for the form and the page links."""
        return {name: value for name, value in asdict(self).items() if value}

    def to_query(self, low_confidence: float) -> tuple[queries.ListFilter, list[str]]:
        """The database filter, and an error message for each date not understood."""
        errors: list[str] = []
        bounds: dict[str, float | None] = {"since": None, "before": None}
        for value, bound in ((self.date_from, "since"), (self.date_to, "before")):
            if value:
                try:
                    start = day_start(value)
                except ValueError:
                    errors.append(f"Not a date: {value!r} (use YYYY-MM-DD).")
                    continue
                bounds[bound] = start if bound == "since" else start + DAY_SECONDS
        where = queries.ListFilter(
            search=self.q.strip().lower()[:200],
            since=bounds["since"],
            before=bounds["before"],
            language=self.language if self.language in SUPPORTED else None,
            intent=self.intent,
            tag=self.tag,
            reviewed={"yes": True, "no": False}.get(self.reviewed),
            below_confidence=low_confidence if self.low_confidence else None,
            fallback=bool(self.fallback),
            handoff=bool(self.handoff),
            safety=bool(self.safety),
        )
        return where, errors


def back(sender_id: str) -> RedirectResponse:
    """Back to the conversation after a form."""
    return RedirectResponse(f"/conversations/{sender_id}", status_code=303)


def must_exist(engine: Engine, sender_id: str) -> None:
    """404 unless the tracker store has this conversation."""
    if not queries.conversation_exists(engine, sender_id):
        raise HTTPException(404, NO_CONVERSATION)


@router.get("/")
def home(user: Operator) -> Response:
    """The conversation list is the start page."""
    return RedirectResponse("/conversations", status_code=303)


@router.get("/conversations", response_class=HTMLResponse)
def conversation_list(
    request: Request,
    user: Operator,
    engine: Db,
    settings: ConsoleSettings,
    intents: Intents,
    filters: Annotated[Filters, Depends()],
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Conversations, newest first, filtered and paged."""
    where, errors = filters.to_query(settings.low_confidence)
    total, rows = queries.list_conversations(
        engine,
        where,
        limit=settings.page_size,
        offset=(page_no - 1) * settings.page_size,
    )
    given = filters.given()
    return render(
        request,
        "conversations.html",
        user=user,
        rows=rows,
        total=total,
        page=page_no,
        pages=max(1, math.ceil(total / settings.page_size)),
        filters=given,
        query_string=lambda **extra: urlencode({**given, **extra}),
        intents=intents,
        tags=queries.all_tags(engine),
        errors=errors,
        threshold=settings.low_confidence,
    )


@router.get("/conversations/{sender_id}", response_class=HTMLResponse)
def conversation(
    request: Request,
    sender_id: str,
    user: Operator,
    engine: Db,
    settings: ConsoleSettings,
    intents: Intents,
    entity_types: Entities,
) -> Response:
    """One transcript, personal data masked unless this user revealed it lately."""
    turns = tracker.transcript(engine, sender_id)
    if not turns:
        raise HTTPException(
            404, "No conversation with this id (it may have been deleted)."
        )
    notes = queries.conversation_notes(engine, sender_id)
    revealed = queries.revealed_since(
        engine, user.username, sender_id, time.time() - REVEAL_SECONDS
    )
    marks = {
        t.event_id: marking.marks_of(
            t.text,
            parse_entities(notes.corrected_entities[t.event_id])
            if t.event_id in notes.corrected
            else t.spans,
        )
        for t in turns
        if t.kind == "user"
    }
    return render(
        request,
        "conversation.html",
        user=user,
        sender_id=sender_id,
        turns=turns,
        review=notes.review,
        tags=notes.tags,
        corrected=notes.corrected,
        intents=intents,
        entity_types=entity_types,
        marks=marks,
        max_marks=marking.MAX_MARKS,
        revealed=revealed,
        summary=notes.summary,
        has_pii=any(
            t.kind == "user" and masking.has_personal_data(t.text) for t in turns
        ),
        threshold=settings.low_confidence,
        live_holder=takeover.holder(engine, sender_id),
        widget_open=takeover.widget_open(engine, sender_id),
    )


def entity_marks(
    types: list[str] | None, words: list[str] | None, values: list[str] | None
) -> list[marking.Mark] | None:
    """The form's entity rows (None when the form sent none); 400 on a half row."""
    if types is None and words is None:
        return None
    marks = []
    for entity, text, value in zip_longest(
        types or [], words or [], values or [], fillvalue=""
    ):
        if not entity.strip() and not text.strip():
            continue
        if not entity.strip() or not text.strip():
            raise HTTPException(400, "Give both the entity type and the words.")
        marks.append(marking.Mark(entity, text, value))
    return marks


@router.post("/conversations/{sender_id}/reveal")
def reveal(
    sender_id: str,
    user: OperatorForm,
    engine: Db,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Show this conversation's personal data to this user for 15 minutes (audited)."""
    must_exist(engine, sender_id)
    if len(reason.strip()) < 5:
        raise HTTPException(
            400, "Give a reason (at least 5 characters) to reveal personal data."
        )
    auth.record(engine, user.username, "reveal", sender_id, reason.strip()[:500])
    return back(sender_id)


@router.post("/conversations/{sender_id}/review")
def review(
    sender_id: str,
    user: OperatorForm,
    engine: Db,
    reviewed: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Mark the conversation reviewed (or not), with a note."""
    must_exist(engine, sender_id)
    done = reviewed == "1"
    queries.save_review(
        engine, sender_id, done, user.username, note.strip()[:5000] or None
    )
    auth.record(engine, user.username, "review", sender_id, f"reviewed={done}")
    return back(sender_id)


@router.post("/conversations/{sender_id}/tags")
def add_tag(
    sender_id: str,
    user: OperatorForm,
    engine: Db,
    tag: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
) -> Response:
    """Add a tag, or remove it when `remove` is set."""
    must_exist(engine, sender_id)
    name = " ".join(tag.split())[:64].lower()
    if not name:
        raise HTTPException(400, "A tag cannot be empty.")
    if remove:
        queries.remove_tag(engine, sender_id, name)
    else:
        queries.add_tag(engine, sender_id, name)
    auth.record(engine, user.username, "untag" if remove else "tag", sender_id, name)
    return back(sender_id)


@router.post("/conversations/{sender_id}/correct")
def correct(
    sender_id: str,
    user: OperatorForm,
    engine: Db,
    intents: Intents,
    entity_types: Entities,
    event_id: Annotated[int | None, Form()] = None,
    intent: Annotated[str, Form()] = "",
    entity_type: Annotated[list[str] | None, Form()] = None,
    entity_text: Annotated[list[str] | None, Form()] = None,
    entity_value: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Record the right intent of one user message, with its entities (an example).

    The form's entity rows (type, the exact words, a value if it differs) replace
    the entities Rasa found; a form without entity rows keeps Rasa's.
    """
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
    if turn is None or event_id is None:
        raise HTTPException(404, "No such user message in this conversation.")
    if turn.text.startswith("/"):
        raise HTTPException(400, "Button clicks are not training examples.")
    marks = entity_marks(entity_type, entity_text, entity_value)
    spans: tuple[dict[str, Any], ...] = tuple(turn.spans)
    if marks is not None:
        try:
            spans = marking.place(turn.text, marks, entity_types)
        except marking.MarkError as error:
            raise HTTPException(400, str(error)) from None
    queries.save_correction(
        engine,
        queries.Correction(
            event_id=event_id,
            sender_id=sender_id,
            text=turn.text,
            language=turn.language or queries.conversation_language(engine, sender_id),
            predicted_intent=turn.intent,
            corrected_intent=intent,
            username=user.username,
            entities=json.dumps(list(spans), ensure_ascii=False) if spans else None,
        ),
    )
    auth.record(
        engine,
        user.username,
        "correct",
        sender_id,
        f"event {event_id}: {turn.intent} -> {intent}"
        + (f"; entities {', '.join(str(s['entity']) for s in spans)}" if spans else ""),
    )
    return back(sender_id)


@router.post("/conversations/{sender_id}/erase")
def erase(
    sender_id: str,
    user: AdminForm,
    engine: Db,
    settings: ConsoleSettings,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Delete the conversation everywhere (GDPR); admins only, id typed to confirm.

    Everywhere includes the learning loop: its corrections, and the training examples
    made of them in every model folder; a model trained with them is marked on
    /models and in the audit log (iom.core.learning.erasure). While a retrain runs the
    erasure is refused (409) and nothing is deleted.
    """
    if confirm != sender_id:
        raise HTTPException(400, "Type the conversation id to confirm the erasure.")
    try:
        deleted = retention.erase(
            engine, sender_id, settings.candidates_dir, user.username
        )
    except LearningBusy as busy:
        raise HTTPException(409, str(busy)) from None
    if not deleted.conversations:
        raise HTTPException(404, NO_CONVERSATION)
    examples = sum(deleted.examples.values())
    auth.record(
        engine,
        user.username,
        "erase",
        sender_id,
        f"{deleted.events} events, {examples} training examples",
    )
    return RedirectResponse("/conversations", status_code=303)
