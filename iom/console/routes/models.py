"""The learning loop's pages: model history, gate reports, retrain and rollback.

Everyone signed in sees the history and the reports; only admins start a retrain
or a rollback (CSRF-checked forms, audited). The work runs in the background
(`iom/console/learning.py`); the page shows its progress and refreshes itself.
"""

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.console import auth
from iom.console.deps import AdminForm, Db, Operator
from iom.console.learning import LearningJob
from iom.console.templating import render
from iom.core.learning import registry

router = APIRouter(tags=["models"])
BUSY = "A retrain or rollback is already running; wait for it to finish."


def job_of(request: Request) -> LearningJob:
    """The app's learning job (created on first use)."""
    job: LearningJob | None = getattr(request.app.state, "learning_job", None)
    if job is None:
        job = LearningJob(request.app.state.settings)
        request.app.state.learning_job = job
    return job


@router.get("/models", response_class=HTMLResponse)
def model_list(request: Request, user: Operator, engine: Db) -> Response:
    """Every model: when, by whom, data changed, the gate's numbers, which is live."""
    job = job_of(request)
    models = registry.all_models(engine)
    working = _working(request, engine)
    return render(
        request,
        "models.html",
        user=user,
        models=models,
        working=working,
        busy=job.running() or working is not None,
        job=job.state,
        log=job.tail() if user.is_admin else "",
        rollback_to=registry.rollback_target(engine),
    )


def _report(model: registry.Model) -> dict[str, Any]:
    if not model.report_dir:
        return {}
    path = Path(model.report_dir) / "report.json"
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text("utf-8")))


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_report(
    request: Request, model_id: str, user: Operator, engine: Db
) -> Response:
    """One model's gate report: both models' numbers and the changed predictions."""
    model = registry.get(engine, model_id)
    if model is None:
        raise HTTPException(404, "No such model.")
    return render(request, "model.html", user=user, model=model, report=_report(model))


def _working(request: Request, engine: Db) -> registry.Model | None:
    """The model a run is working on; a row left by a run that died does not count."""
    working = registry.working(engine)
    if working is None or job_of(request).running():
        return working
    candidates = request.app.state.settings.candidates_dir
    return working if registry.run_in_progress(candidates) else None


def _start(request: Request, kind: str, username: str, engine: Db) -> Response:
    job = job_of(request)
    if _working(request, engine) is not None or not job.start(kind, username):
        raise HTTPException(409, BUSY)
    return RedirectResponse("/models", status_code=303)


@router.post("/models/retrain")
def retrain(request: Request, user: AdminForm, engine: Db) -> Response:
    """Train a candidate from the accepted corrections; promoted if the gate passes."""
    response = _start(request, "run", user.username, engine)
    auth.record(engine, user.username, "retrain requested", None, "from the console")
    return response


@router.post("/models/rollback")
def rollback(request: Request, user: AdminForm, engine: Db) -> Response:
    """Put the previous live model back (a live swap)."""
    target = registry.rollback_target(engine)
    if target is None:
        raise HTTPException(400, "There is no former live model to roll back to.")
    response = _start(request, "rollback", user.username, engine)
    auth.record(engine, user.username, "rollback requested", target.id, None)
    return response
