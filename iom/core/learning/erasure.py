"""Erasure reaches the learning loop: a person's examples leave the training data.

When a conversation is erased (`iom.core.retention.erase`, the console's erase
button), its corrections are deleted with it, pending or accepted. What the learning
loop already made of them lives on in the model folders
(`models/candidates/<id>/`):

- `candidates.json`, the examples a model was trained with beyond `data/`, which the
  next retrain carries forward, and the staging files written from it
  (`data/nlu/<lang>/<topic>.yml`);
- `refused.json` and `report.json`, the corrections a retrain refused, with their text;
- Rasa's training cache of the candidates (`models/candidates/.train-cache`, their
  `RASA_CACHE_DIRECTORY`), which holds featurised training examples: emptied whenever
  an erasure removes an example (the next retrain fills it again).

:func:`scrub` removes the conversation's examples from all of them. An example is the
conversation's when it carries the conversation's key
(:func:`iom.core.learning.examples.conversation_key`), or, for examples written before
the key existed, when its text is one of the conversation's corrections.

A trained model cannot be edited: every model trained with a removed example gets its
`erased_examples` count raised in the registry (the console's model pages show it) and
an audit line; the next retrain no longer has the example, since it gathers from the
scrubbed `candidates.json` and the remaining corrections.

The scrub holds the learning loop's lock (`registry.LOCK_FILE`): while a retrain or a
rollback runs it raises :class:`LearningBusy` and nothing is erased, so a retrain
never writes back an example read before the erasure.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from iom.core import db
from iom.core.learning import examples, registry


class LearningBusy(RuntimeError):
    """A retrain or rollback holds the lock: erase again when it has finished."""


@dataclass
class Scrubbed:
    """What :func:`scrub` removed."""

    examples: dict[str, int] = field(default_factory=dict)  # model id -> examples
    refused: int = 0  # refused corrections removed from reports

    @property
    def total(self) -> int:
        """Examples removed, over every model folder."""
        return sum(self.examples.values())


@contextmanager
def learning_lock(candidates_dir: Path) -> Iterator[None]:
    """Hold the retrain tool's lock; LearningBusy if a run holds it."""
    candidates_dir.mkdir(parents=True, exist_ok=True)
    with open(candidates_dir / registry.LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LearningBusy(
                "A retrain or rollback is running; erase again when it has finished."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def correction_texts(connection: sa.engine.Connection, sender_id: str) -> set[str]:
    """The normalised texts of one conversation's corrections."""
    table = db.corrections
    return {
        examples.normalise(text)
        for text in connection.execute(
            sa.select(table.c.text).where(table.c.sender_id == sender_id)
        ).scalars()
    }


def _is_theirs(item: dict[str, Any], key: str, texts: Collection[str]) -> bool:
    if item.get("conversation"):
        return bool(item["conversation"] == key)
    return examples.normalise(str(item.get("text", ""))) in texts


def scrub_folder(folder: Path, key: str, texts: Collection[str]) -> tuple[int, int]:
    """Remove one conversation's examples from one model folder.

    Returns (examples removed from `candidates.json` and the staging data, refused
    corrections removed from `refused.json` / `report.json`).
    """
    removed = _drop_from_list(folder / "candidates.json", key, texts)
    if removed:
        staging = folder / "data"
        if staging.exists():
            shutil.rmtree(staging)
        kept = json.loads((folder / "candidates.json").read_text("utf-8"))
        examples.write(examples.from_json(kept, ""), staging)
    refused = _drop_from_list(folder / "refused.json", key, texts)
    report_file = folder / "report.json"
    if report_file.exists():
        report = json.loads(report_file.read_text("utf-8"))
        items = report.get("refused_corrections") or []
        kept = [i for i in items if not _is_theirs(i, key, texts)]
        if len(kept) != len(items):
            report["refused_corrections"] = kept
            _write_json(report_file, report)
    return removed, refused


def _drop_from_list(path: Path, key: str, texts: Collection[str]) -> int:
    """Remove the conversation's items from a JSON list file; how many went."""
    if not path.exists():
        return 0
    items = json.loads(path.read_text("utf-8"))
    kept = [i for i in items if not _is_theirs(i, key, texts)]
    if len(kept) != len(items):
        _write_json(path, kept)
    return len(items) - len(kept)


def _write_json(path: Path, value: object) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, ensure_ascii=False, indent=1), "utf-8")
    partial.replace(path)


def scrub(
    engine: sa.engine.Engine,
    candidates_dir: Path,
    sender_id: str,
    by: str,
    texts: Collection[str] = (),
) -> Scrubbed:
    """Remove `sender_id`'s examples from every model folder; record trained models.

    `texts` are the normalised texts of the conversation's corrections (read before
    they are deleted, :func:`correction_texts`). Call it under :func:`learning_lock`.
    """
    key = examples.conversation_key(sender_id)
    result = Scrubbed()
    if not candidates_dir.is_dir():
        return result
    folders = (p for p in candidates_dir.iterdir() if p.is_dir())
    for folder in sorted(p for p in folders if p.name != registry.TRAIN_CACHE):
        removed, refused = scrub_folder(folder, key, texts)
        result.refused += refused
        if removed:
            result.examples[folder.name] = removed
    if result.examples:
        # Rasa's training cache keeps the featurised examples of past candidates
        shutil.rmtree(candidates_dir / registry.TRAIN_CACHE, ignore_errors=True)
    for model_id, removed in result.examples.items():
        model = registry.get(engine, model_id)
        if model is None:
            continue
        registry.update(
            engine, model_id, erased_examples=model.erased_examples + removed
        )
        if model.path and Path(model.path).exists():
            db.append_audit(
                engine,
                by,
                "erased data in model",
                model_id,
                f"{model.status}: trained with {removed} example(s) of an erased"
                " conversation; its weights cannot be edited, the next retrain"
                " leaves them out",
            )
    return result
