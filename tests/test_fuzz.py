"""A short fuzz run in `make test` (the 10,000-input run is `make fuzz`, bench/fuzz.py).

Same Hypothesis strategies and checks as the benchmark: NLU results stay inside the
domain, and the REST channel answers every body politely (a 200 with a message or a
4xx with a JSON error), never a 5xx or a stack trace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import given

from bench.fuzz import (
    bodies,
    check_parse,
    check_rest_answer,
    content_types,
    fuzz_settings,
    messages,
    post,
)
from iom.tools.launch import LiveBot
from tests.conftest import MODEL


@pytest.fixture(scope="module")
def parser() -> Iterator[tuple]:
    from rasa.core.agent import Agent

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    agent = Agent.load(str(MODEL))
    loop = asyncio.new_event_loop()
    yield agent, loop, set(agent.domain.intents) | {"nlu_fallback"}
    loop.close()


def test_nlu_parse_path_survives_any_text(parser: tuple) -> None:
    agent, loop, intents = parser

    @fuzz_settings(300)
    @given(messages)
    def one(text: str) -> None:
        check_parse(loop.run_until_complete(agent.parse_message(text)), text, intents)

    one()


def test_rest_channel_answers_any_body_politely(live_bot: LiveBot) -> None:
    @fuzz_settings(300)
    @given(bodies, content_types)
    def one(body: bytes, content_type: str) -> None:
        check_rest_answer(*post(live_bot.rasa_port, body, content_type))

    one()
