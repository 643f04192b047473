"""The model registry (`console_models`): every model the learning loop trained.

`erased_examples` counts the examples of conversations erased after the model was
trained (`iom.core.learning.erasure`): weights cannot be edited, so the model says so.

Statuses: `training` and `evaluating` while `iom/tools/retrain.py` works (its
`stage` says how far it got, which the console shows as progress), then `live`
(exactly one), `retired` (a former live model, kept for rollback), `refused` (the
gate said no), `failed` (training or evaluation broke), `deleted` (its files were
pruned, only the history row stays).
"""

from __future__ import annotations

import fcntl
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from iom.core import db

WORKING = ("training", "evaluating")
LOCK_FILE = ".lock"  # in the candidates directory, held by a running retrain
# Rasa's training cache of the candidates (RASA_CACHE_DIRECTORY of their `rasa
# train`): it holds featurised training examples, so erasure empties it
TRAIN_CACHE = ".train-cache"


def run_in_progress(candidates_dir: Path) -> bool:
    """Whether a retrain or rollback holds the lock (any process on this machine)."""
    lock = candidates_dir / LOCK_FILE
    if not lock.exists():
        return False
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


KEPT = ("live", "retired")


@dataclass(frozen=True)
class Model:
    """One registry row, with its JSON columns decoded."""

    id: str
    created_at: float
    created_by: str
    status: str
    stage: str | None
    path: str | None
    parent_id: str | None
    data_diff: dict[str, Any]
    gate: dict[str, Any]
    report_dir: str | None
    promoted_at: float | None
    promoted_by: str | None
    erased_examples: int = 0  # examples of erased conversations it was trained with


def _model(row: Any) -> Model:
    return Model(
        id=row.id,
        created_at=row.created_at,
        created_by=row.created_by,
        status=row.status,
        stage=row.stage,
        path=row.path,
        parent_id=row.parent_id,
        data_diff=json.loads(row.data_diff) if row.data_diff else {},
        gate=json.loads(row.gate) if row.gate else {},
        report_dir=row.report_dir,
        promoted_at=row.promoted_at,
        promoted_by=row.promoted_by,
        erased_examples=row.erased_examples or 0,
    )


def new_id(now: float | None = None) -> str:
    """A sortable id from the time (UTC), e.g. 20261130-071502."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now or time.time()))


def create(engine: sa.engine.Engine, model_id: str, by: str, **values: Any) -> None:
    """Add a model (status `training` unless given)."""
    values.setdefault("status", "training")
    for key in ("data_diff", "gate"):
        if key in values and not isinstance(values[key], str):
            values[key] = json.dumps(values[key], ensure_ascii=False)
    with engine.begin() as connection:
        connection.execute(
            db.models.insert().values(
                id=model_id, created_at=time.time(), created_by=by, **values
            )
        )


def update(engine: sa.engine.Engine, model_id: str, **values: Any) -> None:
    """Change a model's columns (JSON columns may be given as dicts)."""
    for key in ("data_diff", "gate"):
        if key in values and not isinstance(values[key], str):
            values[key] = json.dumps(values[key], ensure_ascii=False)
    with engine.begin() as connection:
        connection.execute(
            db.models.update().where(db.models.c.id == model_id).values(**values)
        )


def get(engine: sa.engine.Engine, model_id: str) -> Model | None:
    """One model, or None."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(db.models).where(db.models.c.id == model_id)
        ).first()
    return _model(row) if row is not None else None


def all_models(engine: sa.engine.Engine) -> list[Model]:
    """Every model, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(db.models).order_by(
                db.models.c.created_at.desc(), db.models.c.id.desc()
            )
        ).all()
    return [_model(r) for r in rows]


def live(engine: sa.engine.Engine) -> Model | None:
    """The live model, if the registry knows one."""
    return next((m for m in all_models(engine) if m.status == "live"), None)


def working(engine: sa.engine.Engine, stale_after: float = 3 * 3600) -> Model | None:
    """A retrain in progress (younger than `stale_after` seconds), if any."""
    now = time.time()
    return next(
        (
            m
            for m in all_models(engine)
            if m.status in WORKING and now - m.created_at < stale_after
        ),
        None,
    )


def promote(engine: sa.engine.Engine, model_id: str, by: str) -> str | None:
    """Make `model_id` live and the live one retired; returns the former live id."""
    former = live(engine)
    with engine.begin() as connection:
        if former is not None and former.id != model_id:
            connection.execute(
                db.models.update()
                .where(db.models.c.id == former.id)
                .values(status="retired")
            )
        connection.execute(
            db.models.update()
            .where(db.models.c.id == model_id)
            .values(
                status="live", promoted_at=time.time(), promoted_by=by, stage="live"
            )
        )
    return former.id if former is not None and former.id != model_id else None


def rollback_target(engine: sa.engine.Engine) -> Model | None:
    """The model a rollback goes back to: the most recently live retired one."""
    retired = [m for m in all_models(engine) if m.status == "retired" and m.path]
    retired.sort(key=lambda m: (m.promoted_at or m.created_at), reverse=True)
    return retired[0] if retired else None


def to_prune(engine: sa.engine.Engine, keep: int) -> list[Model]:
    """Retired models beyond the `keep` most recent ones (their files may go)."""
    retired = [m for m in all_models(engine) if m.status == "retired"]
    retired.sort(key=lambda m: (m.promoted_at or m.created_at), reverse=True)
    return retired[keep:]


def interrupted(engine: sa.engine.Engine) -> list[str]:
    """Mark models left `training` or `evaluating` by a run that died as `failed`.

    Called by the retrain tool once it holds the one-run lock: no other run can be
    working, so such rows are leftovers (a killed process, a reboot).
    """
    left = [m.id for m in all_models(engine) if m.status in WORKING]
    for model_id in left:
        update(engine, model_id, status="failed", stage="interrupted (the run died)")
    return left
