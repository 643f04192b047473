"""The learning loop: reviewed corrections -> candidate model -> gate -> live swap.

Usage (Rasa's venv; `make retrain` runs the first)::

    python -m iom.tools.retrain run [--by NAME] [--no-promote]
    python -m iom.tools.retrain rollback [--by NAME]

`run`:

1. registers the live model (`models/iom.tar.gz`) if the registry has none;
2. gathers the accepted corrections (`console_corrections.status = 'accepted'`) and
   the examples the live model was trained with beyond `data/`, and selects the
   candidates (`iom.core.learning.examples`: language, topic file, deduplication
   against the data, the held-out and the safety regression sets, personal data);
3. writes them to `models/candidates/<id>/data/nlu/<lang>/<topic>.yml` and trains
   `models/candidates/<id>/model.tar.gz` on `data/` plus that directory (in full, or
   fine-tuned from the live model when RETRAIN_FINETUNE is above 0);
4. evaluates the live model (cached beside it) and the candidate on every held-out
   set, the safety regression set (`tests/safety_regression/`) and, for the
   candidate, the test stories (`rasa test core --fail-on-prediction-errors`) and
   the examples beyond `data/` (whether it learned them);
5. applies the gate (`iom.core.learning.gate`) and writes `report.json` and
   `report.md` beside the candidate;
6. if it passed: loads the candidate into every running instance through Rasa's
   HTTP API (`PUT /model` with the token, one instance after the other, checked
   with `GET /status`), replaces `models/iom.tar.gz` (what a restart loads), marks it
   live in the registry and prunes retired models beyond MODELS_KEEP.

`rollback` loads the most recent former live model the same way. Every step that
changes what answers users is written to the audit log (`console_audit`).

The registry's `stage` column is the progress the console shows.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from iom.core import db, rasa_http, settings
from iom.core.language import SUPPORTED
from iom.core.learning import examples, gate, registry
from iom.core.redaction import default_redactor
from iom.core.safety import SAFETY_INTENTS

ROOT = settings.ROOT
logger = logging.getLogger("retrain")

HELDOUT_SETS = {"v1": "tests/nlu_heldout", "v2": "tests/nlu_heldout/v2"}
HELDOUT_SETS["v3"] = "tests/nlu_heldout/v3"
HELDOUT_SETS["v4"] = "tests/nlu_heldout/v4"
REGRESSION_DIR = "tests/safety_regression"
STORIES = "tests/stories"


@dataclass
class Paths:
    """Where the loop reads and writes (tests point them at a temporary folder)."""

    root: Path = ROOT
    live_model: Path = ROOT / "models" / "iom.tar.gz"
    candidates: Path = ROOT / "models" / "candidates"

    @property
    def data(self) -> Path:
        """The repository's training data."""
        return self.root / "data"

    def heldout_files(self) -> list[Path]:
        """Every held-out file (v1-v4, each language)."""
        return [
            self.root / folder / f"{language}.yml"
            for folder in HELDOUT_SETS.values()
            for language in SUPPORTED
        ]

    def regression_files(self) -> list[Path]:
        """The safety regression set, one file per language."""
        return [self.root / REGRESSION_DIR / f"{lang}.yml" for lang in SUPPORTED]


@dataclass
class Swap:
    """The outcome of loading a model into the running instances."""

    loaded: list[str] = field(default_factory=list)
    not_running: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the registry and the audit log."""
        parts = []
        if self.loaded:
            parts.append("loaded into " + ", ".join(self.loaded))
        if self.not_running:
            parts.append(
                "not running (loads it at start): " + ", ".join(self.not_running)
            )
        return "; ".join(parts) or "no instance configured"


class SwapError(RuntimeError):
    """A running instance refused the model (the others were put back)."""


# ---- evaluation -------------------------------------------------------------------
def _rasa_cli() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def evaluate(
    model: Path,
    paths: Paths,
    stories: bool,
    out: Path,
    learned: Sequence[examples.Candidate] = (),
) -> dict[str, Any]:
    """Held-out and safety regression results of `model` (and its test stories).

    `learned`: the examples trained beyond data/; the report's `learned` lists each
    with the intent the model now gives it (a correction the candidate did not learn
    is visible in the gate report).
    """
    from rasa.core.agent import Agent

    from bench.nlu_heldout import SAFETY_GROUP, predict
    from bench.nlu_heldout import evaluate as scores

    agent = Agent.load(str(model))
    report: dict[str, Any] = {"model": str(model), "languages": {}, "predictions": {}}
    for language in SUPPORTED:
        pooled: list[tuple[str, str]] = []
        predicted: list[str] = []
        for name, folder in HELDOUT_SETS.items():
            pairs = examples.nlu_examples(paths.root / folder / f"{language}.yml")
            got = [i for i, _ in asyncio.run(predict(agent, [t for t, _ in pairs]))]
            report["predictions"][f"{name}/{language}"] = [
                [t, g, p] for (t, g), p in zip(pairs, got, strict=True)
            ]
            pooled += pairs
            predicted += got
        heldout = scores(pooled, predicted)
        regression = examples.nlu_examples(
            paths.root / REGRESSION_DIR / f"{language}.yml"
        )
        got = [i for i, _ in asyncio.run(predict(agent, [t for t, _ in regression]))]
        report["predictions"][f"safety/{language}"] = [
            [t, g, p] for (t, g), p in zip(regression, got, strict=True)
        ]
        caught = [p in SAFETY_GROUP for p in got]
        report["languages"][language] = {
            "n": heldout["n"],
            "macro_f1": heldout["macro_f1"],
            "safety_recall": heldout["safety_group_recall"],
            "regression_n": len(regression),
            "regression_recall": sum(caught) / len(caught) if caught else None,
        }
    texts = [examples.plain(c.text) for c in learned]
    got = [i for i, _ in asyncio.run(predict(agent, texts))]
    report["learned"] = [
        [text, c.intent, p] for text, c, p in zip(texts, learned, got, strict=True)
    ]
    if stories:
        report["stories"] = test_stories(model, paths, out / "stories")
    return report


def answers(model: Path, texts: Sequence[str]) -> list[str]:
    """The intent `model` (with the safety net) gives each text."""
    if not texts:
        return []
    from rasa.core.agent import Agent

    from bench.nlu_heldout import predict

    agent = Agent.load(str(model))
    return [intent for intent, _ in asyncio.run(predict(agent, list(texts)))]


def test_stories(model: Path, paths: Paths, out: Path) -> dict[str, Any]:
    """`rasa test core` on the test stories, failing on any prediction error."""
    done = subprocess.run(
        [
            _rasa_cli(),
            *("test", "core", "--stories", str(paths.root / STORIES)),
            *("--model", str(model), "--out", str(out)),
            "--fail-on-prediction-errors",
        ],
        cwd=paths.root,
        capture_output=True,
        text=True,
    )
    failed = out / "failed_test_stories.yml"
    detail = "every story passed"
    if done.returncode != 0:
        text = failed.read_text("utf-8") if failed.exists() else done.stderr[-2000:]
        names = [
            ln.split(":", 1)[1].strip() for ln in text.splitlines() if "story:" in ln
        ]
        detail = "failed: " + ("; ".join(names) or text[-500:])
    return {"passed": done.returncode == 0, "detail": detail}


def live_evaluation(model: registry.Model, paths: Paths) -> dict[str, Any]:
    """The live model's results, computed once and kept beside it."""
    folder = Path(model.report_dir or paths.candidates / model.id)
    cache = folder / "evaluation.json"
    if cache.exists():
        return dict(json.loads(cache.read_text("utf-8")))
    report = evaluate(Path(model.path or paths.live_model), paths, False, folder)
    folder.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(report, ensure_ascii=False), "utf-8")
    return report


# ---- the live swap ----------------------------------------------------------------
def _request(
    method: str, url: str, token: str, body: dict[str, Any] | None = None
) -> Any:
    return rasa_http.call(method, url, token, body, timeout=600)


def _running(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def model_id_of(model: Path) -> str:
    """The id Rasa gives a trained model (its `metadata.json`), as `/status` shows."""
    with tarfile.open(model, "r:gz") as archive:
        for member in archive:
            if member.name.lstrip("/") == "metadata.json":
                handle = archive.extractfile(member)
                if handle is not None:
                    return str(json.load(handle).get("model_id", ""))
    return ""


def load_into_instances(
    model: Path, urls: Sequence[str], token: str, previous: Path | None
) -> Swap:
    """`PUT /model` on each running instance, one after the other.

    Rasa loads the new model, then replaces its agent: requests in flight finish on
    the old one, later ones get the new one, none is refused (measured in
    tests/test_learning_e2e.py). If an instance refuses, the instances already
    switched are put back on `previous` and SwapError is raised.
    """
    swap = Swap()
    expected = model_id_of(model)
    for url in urls:
        if not _running(url):
            swap.not_running.append(url)
            continue
        try:
            _request("PUT", f"{url}/model", token, {"model_file": str(model)})
            status = _request("GET", f"{url}/status", token)
            if status.get("model_id") != expected:
                raise SwapError(f"{url} reports model {status.get('model_id')}")
        except (urllib.error.URLError, OSError, SwapError, ValueError) as error:
            for done in swap.loaded:
                if previous is not None:
                    _request(
                        "PUT", f"{done}/model", token, {"model_file": str(previous)}
                    )
            hint = ""
            if isinstance(error, urllib.error.HTTPError) and error.code in (
                401,
                403,
                404,
            ):
                hint = " (is RASA_ENABLE_API=1 with the same RASA_API_TOKEN?)"
            raise SwapError(f"{url} did not load {model}: {error}{hint}") from error
        swap.loaded.append(url)
    return swap


def _replace_file(source: Path, target: Path) -> None:
    """Copy `source` over `target` atomically (a restart never sees half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def go_live(
    engine: sa.engine.Engine,
    model: registry.Model,
    by: str,
    paths: Paths,
    config: settings.Settings,
    action: str,
) -> Swap:
    """Load `model` into the instances, make it what a restart loads, mark it live."""
    assert model.path
    former = registry.live(engine)
    previous = Path(former.path) if former is not None and former.path else None
    swap = load_into_instances(
        Path(model.path), config.rasa_api_urls, config.rasa_api_token, previous
    )
    _replace_file(Path(model.path), paths.live_model)
    registry.promote(engine, model.id, by)
    registry.update(engine, model.id, stage="live: " + swap.describe())
    db.append_audit(engine, by, action, model.id, swap.describe())
    return swap


def prune(engine: sa.engine.Engine, keep: int, by: str) -> list[str]:
    """Delete the files of retired models beyond the `keep` newest; their ids."""
    pruned = []
    for model in registry.to_prune(engine, keep):
        if model.path:
            Path(model.path).unlink(missing_ok=True)
        registry.update(engine, model.id, status="deleted", stage="files pruned")
        pruned.append(model.id)
    if pruned:
        db.append_audit(engine, by, "prune models", ",".join(pruned), f"keep {keep}")
    return pruned


# ---- the steps --------------------------------------------------------------------
@contextmanager
def single_run(paths: Paths) -> Iterator[None]:
    """One retrain or rollback at a time (the console and `make retrain` share it)."""
    paths.candidates.mkdir(parents=True, exist_ok=True)
    with open(paths.candidates / registry.LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit("another retrain or rollback is running") from None
        yield


def ensure_baseline(engine: sa.engine.Engine, paths: Paths) -> registry.Model:
    """The live model; `models/iom.tar.gz` is registered when the registry lacks it.

    The first time, or after someone replaced the file by hand (`make train`): the
    file in place is what a restart serves, so it is what a candidate must beat. The
    registry's former live model becomes `retired` (kept for rollback).
    """
    live = registry.live(engine)
    if not paths.live_model.exists():
        if live is not None:
            return live
        raise SystemExit(f"{paths.live_model} missing: run `make train` first")
    in_place = model_id_of(paths.live_model)
    if live is not None and live.path and Path(live.path).exists():
        if model_id_of(Path(live.path)) == in_place:
            return live
    model_id = "base-" + registry.new_id(paths.live_model.stat().st_mtime)
    if registry.get(engine, model_id) is not None:
        model_id += "-" + in_place[:6]
    folder = paths.candidates / model_id
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / "model.tar.gz"
    shutil.copyfile(paths.live_model, kept)
    registry.create(
        engine,
        model_id,
        "make train",
        status="evaluating",
        stage=f"{paths.live_model.name} as found (trained outside the loop)",
        path=str(kept),
        report_dir=str(folder),
        data_diff=examples.diff_summary([]),
    )
    registry.promote(engine, model_id, "make train")
    registry.update(
        engine,
        model_id,
        promoted_at=paths.live_model.stat().st_mtime,
        stage=f"{paths.live_model.name} as found (trained outside the loop)",
    )
    (folder / "candidates.json").write_text("[]", "utf-8")
    db.append_audit(engine, "make train", "register model", model_id, in_place)
    baseline = registry.get(engine, model_id)
    assert baseline is not None
    return baseline


def accepted_corrections(engine: sa.engine.Engine) -> list[examples.Correction]:
    """Corrections an admin accepted, oldest first."""
    table = db.corrections
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table).where(table.c.status == "accepted").order_by(table.c.id)
        ).all()
    return [
        examples.Correction(
            id=row.id,
            text=row.text,
            language=row.language,
            intent=row.corrected_intent,
            entities=examples.parse_entities(row.entities),
            username=row.username,
            conversation=row.sender_id,
        )
        for row in rows
    ]


def carried_examples(model: registry.Model, paths: Paths) -> list[examples.Candidate]:
    """The examples `model` was trained on beyond `data/` (carried to the next)."""
    file = Path(model.report_dir or paths.candidates / model.id) / "candidates.json"
    if not file.exists():
        return []
    return examples.from_json(json.loads(file.read_text("utf-8")), f"model {model.id}")


def _rasa_train(
    staging: Path, folder: Path, paths: Paths, log: Path, extra: Sequence[str]
) -> int:
    with open(log, "a") as output:
        return subprocess.run(
            [
                _rasa_cli(),
                *("train", "--config", str(paths.root / "config.yml")),
                *("--domain", str(paths.root / "domain.yml")),
                *("--data", str(paths.data), str(staging)),
                *("--out", str(folder), "--fixed-model-name", "model"),
                *extra,
            ],
            cwd=paths.root,
            # its own cache, which erasure can empty (iom.core.learning.erasure)
            env={
                **os.environ,
                "RASA_CACHE_DIRECTORY": str(paths.candidates / registry.TRAIN_CACHE),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        ).returncode


def train(
    staging: Path,
    folder: Path,
    paths: Paths,
    log: Path,
    finetune_from: Path | None = None,
    epoch_fraction: float = 0.0,
) -> tuple[Path, str]:
    """`rasa train` on data/ plus the staging directory; the model and how it trained.

    With `finetune_from` and an `epoch_fraction` above 0, the live model is fine-tuned
    (`rasa train --finetune --epoch-fraction`); Rasa refuses when config.yml, the
    domain's core keys or the set of labels changed since that model was trained,
    and then the candidate is trained in full (logged, and named in the report).
    """
    log.write_text("", "utf-8")
    model = folder / "model.tar.gz"
    if finetune_from is not None and epoch_fraction > 0:
        how = f"fine-tuned from {finetune_from.name}, epoch fraction {epoch_fraction}"
        extra = ("--finetune", str(finetune_from), "--epoch-fraction")
        code = _rasa_train(staging, folder, paths, log, (*extra, str(epoch_fraction)))
        if code == 0 and model.exists():
            return model, how
        logger.warning(
            "fine-tuning refused or failed (exit %s, see %s): full training instead",
            code,
            log,
        )
        with open(log, "a") as output:
            output.write("\n--- fine-tuning failed: full training follows ---\n")
    code = _rasa_train(staging, folder, paths, log, ())
    if code != 0 or not model.exists():
        raise RuntimeError(f"rasa train failed (exit {code}); see {log}")
    return model, "full training"


def run(
    engine: sa.engine.Engine,
    by: str,
    paths: Paths,
    config: settings.Settings,
    thresholds: gate.Thresholds,
    promote: bool = True,
) -> registry.Model:
    """One pass of the loop (see the module docstring); the candidate's registry row."""
    live = ensure_baseline(engine, paths)
    model_id = registry.new_id()
    while registry.get(engine, model_id) is not None:
        time.sleep(1)
        model_id = registry.new_id()
    folder = paths.candidates / model_id
    folder.mkdir(parents=True)
    registry.create(
        engine,
        model_id,
        by,
        stage="1/5 gathering corrections",
        parent_id=live.id,
        report_dir=str(folder),
    )
    db.append_audit(engine, by, "retrain", model_id, f"against live {live.id}")
    started = time.monotonic()
    try:
        existing = examples.load_existing(
            paths.data, paths.heldout_files() + paths.regression_files()
        )
        redactor = default_redactor()
        selection = examples.select(
            accepted_corrections(engine),
            existing,
            lambda text: bool(redactor.find(text)),
            carried_examples(live, paths),
        )
        staging = folder / "data"
        examples.write(selection.candidates, staging)
        (folder / "candidates.json").write_text(
            json.dumps(
                examples.to_json(selection.candidates), ensure_ascii=False, indent=1
            ),
            "utf-8",
        )
        refused = [
            {
                "correction": r.correction.id,
                "text": r.correction.text,
                "reason": r.reason,
            }
            for r in selection.refused
        ]
        (folder / "refused.json").write_text(
            json.dumps(refused, ensure_ascii=False, indent=1), "utf-8"
        )
        diff = examples.diff_summary(selection.candidates)
        diff["refused"] = len(refused)
        registry.update(
            engine,
            model_id,
            data_diff=diff,
            stage=f"2/5 training ({len(selection.candidates)} examples beyond data/)",
        )
        train_started = time.monotonic()
        model, how = train(
            staging,
            folder,
            paths,
            folder / "train.log",
            Path(live.path) if live.path else None,
            config.retrain_finetune,
        )
        train_seconds = time.monotonic() - train_started
        logger.info("candidate %s: %s (%.0f s)", model_id, how, train_seconds)
        registry.update(engine, model_id, path=str(model), status="evaluating")
        registry.update(engine, model_id, stage="3/5 evaluating the live model")
        live_report = live_evaluation(live, paths)
        registry.update(engine, model_id, stage="4/5 evaluating the candidate")
        candidate_report = evaluate(model, paths, True, folder, selection.candidates)
        (folder / "evaluation.json").write_text(
            json.dumps(candidate_report, ensure_ascii=False), "utf-8"
        )
        # the live bot's answers to what the candidate learns: a correction that
        # takes a message out of the safety answers is the gate's first refusal
        texts = [examples.plain(c.text) for c in selection.candidates]
        live_answers = answers(Path(live.path or paths.live_model), texts)
        taught = [
            gate.Example(text, c.intent, answer)
            for text, c, answer in zip(
                texts, selection.candidates, live_answers, strict=True
            )
        ]
        decision = gate.decide(live_report, candidate_report, thresholds, taught)
        changed = gate.changes(live_report, candidate_report)
        sets = (
            gate.set_scores(live_report, SAFETY_INTENTS),
            gate.set_scores(candidate_report, SAFETY_INTENTS),
        )
        report = {
            "candidate": model_id,
            "live": live.id,
            "decision": decision.as_dict(),
            "changed": [c.__dict__ for c in changed],
            "sets": {"live": sets[0], "candidate": sets[1]},
            "refused_corrections": refused,
            "training": how,
            "train_seconds": round(train_seconds, 1),
            "learned": candidate_report["learned"],
            "live_answers": live_answers,
            "seconds": round(time.monotonic() - started, 1),
        }
        (folder / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1), "utf-8"
        )
        (folder / "report.md").write_text(
            gate.markdown(
                decision,
                live.id,
                model_id,
                changed,
                candidate_report.get("stories"),
                sets,
                f"{how} ({train_seconds:.0f} s)",
                candidate_report["learned"],
            ),
            "utf-8",
        )
        summary = {
            "passed": decision.passed,
            "reasons": decision.reasons,
            "rows": [r.__dict__ for r in decision.rows],
            "stories": candidate_report.get("stories"),
            "changed": len(changed),
            "training": how,
            "learned": sum(
                1 for _, gold, got in candidate_report["learned"] if gold == got
            ),
            "examples": len(candidate_report["learned"]),
            "seconds": report["seconds"],
        }
        registry.update(engine, model_id, gate=summary)
        if not decision.passed:
            registry.update(
                engine, model_id, status="refused", stage="refused by the gate"
            )
            db.append_audit(
                engine, by, "gate refused", model_id, "; ".join(decision.reasons)[:2000]
            )
            model.unlink(missing_ok=True)  # the report stays; the weights are useless
            registry.update(engine, model_id, path=None)
        elif promote:
            registry.update(engine, model_id, stage="5/5 loading into the live bot")
            candidate = registry.get(engine, model_id)
            assert candidate is not None
            go_live(engine, candidate, by, paths, config, "promote model")
            prune(engine, config.models_keep, by)
        else:
            registry.update(
                engine, model_id, status="passed", stage="passed the gate, not promoted"
            )
    except Exception as error:
        registry.update(
            engine, model_id, status="failed", stage=f"failed: {error}"[:255]
        )
        db.append_audit(engine, by, "retrain failed", model_id, str(error)[:2000])
        raise
    result = registry.get(engine, model_id)
    assert result is not None
    return result


def rollback(
    engine: sa.engine.Engine, by: str, paths: Paths, config: settings.Settings
) -> registry.Model:
    """Put the most recent former live model back; the rolled-back one is kept."""
    target = registry.rollback_target(engine)
    if target is None:
        raise SystemExit("no former live model to roll back to")
    current = registry.live(engine)
    go_live(engine, target, by, paths, config, "rollback model")
    if current is not None:
        registry.update(
            engine, current.id, status="rolledback", stage=f"rolled back by {by}"
        )
    result = registry.get(engine, target.id)
    assert result is not None
    return result


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run | rollback."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", choices=("run", "rollback"), nargs="?", default="run"
    )
    parser.add_argument("--by", default="make retrain")
    parser.add_argument("--no-promote", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = settings.current()
    paths = Paths(live_model=config.live_model, candidates=config.candidates_dir)
    engine = db.migrated_engine(config.tracker_url)
    with single_run(paths):
        registry.interrupted(engine)
        if args.command == "rollback":
            model = rollback(engine, args.by, paths, config)
            print(f"rolled back: {model.id} is live ({model.stage})")
            return
        thresholds = gate.Thresholds(
            min_regression_recall=config.gate_min_safety_recall,
            max_safety_drop=config.gate_max_safety_drop,
            max_f1_drop=config.gate_max_f1_drop,
            safety_alpha=config.gate_safety_alpha,
        )
        model = run(engine, args.by, paths, config, thresholds, not args.no_promote)
    print(f"candidate {model.id}: {model.status} ({model.stage})")
    print(f"report: {Path(model.report_dir or '') / 'report.md'}")
    if model.status == "refused":
        sys.exit(3)


if __name__ == "__main__":
    main()
