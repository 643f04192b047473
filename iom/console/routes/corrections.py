"""Intent corrections and their export as Rasa NLU training data."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.console import auth, queries
from iom.console.deps import AdminForm, Db, Operator
from iom.console.export import nlu_yaml
from iom.console.templating import render
from iom.core.language import SUPPORTED
from iom.core.learning.entities import marks_of
from iom.core.learning.examples import parse_entities
from iom.core.learning.gate import Example

router = APIRouter(tags=["corrections"])


@router.get("/corrections", response_class=HTMLResponse)
def correction_list(request: Request, user: Operator, engine: Db) -> Response:
    """Every correction, newest first.

    A correction that takes a message the bot answered with a safety intent out of
    the safety intents is flagged: the gate refuses a model that learns it.
    """
    rows = queries.all_corrections(engine)
    marks = {row.id: marks_of(row.text, parse_entities(row.entities)) for row in rows}
    leaves_safety = {
        row.id
        for row in rows
        if Example(row.text, row.corrected_intent, row.predicted_intent).leaves_safety
    }
    return render(
        request,
        "corrections.html",
        user=user,
        rows=rows,
        marks=marks,
        leaves_safety=leaves_safety,
    )


@router.get("/corrections/export")
def export(user: Operator, engine: Db, language: str = "pl") -> Response:
    """One language's corrections as a Rasa NLU YAML download.

    The only GET that writes: the audit log records who took which training data
    (user messages leave the console), as it records every reveal.
    """
    if language not in SUPPORTED:
        raise HTTPException(400, f"language must be one of {', '.join(SUPPORTED)}")
    rows = queries.corrections_in(engine, language)
    auth.record(engine, user.username, "export", language, f"{len(rows)} examples")
    return Response(
        nlu_yaml(rows),
        media_type="application/x-yaml",
        headers={
            "Content-Disposition": f'attachment; filename="corrections-{language}.yml"'
        },
    )


@router.post("/corrections/{correction_id}/review")
def review(
    correction_id: int,
    user: AdminForm,
    engine: Db,
    status: Annotated[str, Form()] = "",
) -> Response:
    """An admin accepts or rejects a correction as a training example (audited).

    Accepted corrections are what the learning loop trains on (`/models`).
    """
    if status not in queries.REVIEW_STATUSES:
        raise HTTPException(400, "Choose accepted, rejected or pending.")
    if not queries.review_correction(engine, correction_id, status, user.username):
        raise HTTPException(404, "No such correction.")
    auth.record(engine, user.username, "review correction", str(correction_id), status)
    return RedirectResponse("/corrections", status_code=303)
