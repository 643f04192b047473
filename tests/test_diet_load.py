"""iom.rasa.nlu.diet: the trained model loaded lean predicts exactly what Rasa's loading does.

Loads models/iom.tar.gz twice (about a minute): as shipped, and with the
classifier's model class set back to Rasa's `DIET`, whose `load` trains one step
before restoring the checkpoint.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.nlu.classifiers.diet_classifier import DIET

from iom.rasa.nlu.diet import LeanDIET, LeanDIETClassifier
from tests.conftest import MODEL, ROOT


def heldout_messages(per_language: int = 40) -> list[str]:
    """Every few held-out examples of each language, so every intent is there."""
    messages: list[str] = []
    for language in ("pl", "en"):
        data = yaml.safe_load(
            (ROOT / f"tests/nlu_heldout/v2/{language}.yml").read_text()
        )
        lines = [
            line[2:].strip()
            for block in data["nlu"]
            for line in block["examples"].splitlines()
            if line.startswith("- ")
        ]
        step = max(1, len(lines) // per_language)
        messages += lines[::step][:per_language]
    return messages


def parse_all(agent: Agent, messages: list[str]) -> list[dict[str, Any]]:
    async def parse() -> list[dict[str, Any]]:
        return [await agent.parse_message(message) for message in messages]

    return asyncio.run(parse())


def diet_of(agent: Agent) -> Any:
    runner: Any = agent.processor.graph_runner  # type: ignore[union-attr]
    nodes = runner._instantiated_nodes.values()
    return next(
        n._component for n in nodes if isinstance(n._component, LeanDIETClassifier)
    )


def test_the_config_uses_the_lean_classifier() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    names = [component["name"] for component in config["pipeline"]]
    assert "iom.rasa.nlu.diet.LeanDIETClassifier" in names
    assert "DIETClassifier" not in names


def test_lean_loading_predicts_exactly_what_rasas_loading_predicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    messages = heldout_messages()
    lean = Agent.load(str(MODEL))
    assert type(diet_of(lean).model) is LeanDIET
    lean_parses = parse_all(lean, messages)
    lean_variables = {v.name: v.numpy() for v in diet_of(lean).model.variables}

    monkeypatch.setattr(LeanDIETClassifier, "model_class", staticmethod(lambda: DIET))
    rasa = Agent.load(str(MODEL))
    assert type(diet_of(rasa).model) is DIET
    rasa_parses = parse_all(rasa, messages)
    rasa_variables = {v.name: v.numpy() for v in diet_of(rasa).model.variables}

    assert len(messages) == 80
    for lean_parse, rasa_parse in zip(lean_parses, rasa_parses, strict=True):
        assert lean_parse["intent"] == rasa_parse["intent"], lean_parse["text"]
        assert lean_parse["intent_ranking"] == rasa_parse["intent_ranking"]
        assert lean_parse["entities"] == rasa_parse["entities"]
    # the same variables with the same trained values (what the lean load skips is
    # the training graph and the optimizer's state, which are not model variables)
    assert lean_variables and set(lean_variables) == set(rasa_variables)
    for name, value in lean_variables.items():
        assert (value == rasa_variables[name]).all(), name
