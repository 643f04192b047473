"""Fuzz the NLU parse path and the public REST channel with Hypothesis.

    make fuzz                      # 10,000 inputs each, writes bench/results/fuzz.md
    python -m bench.fuzz --nlu 500 --rest 500 --out -

NLU: the trained model in process (`Agent.parse_message`), whose result must name a
domain intent (or nlu_fallback) with a confidence in [0, 1] and entity spans inside
the text. REST: the real Rasa server and action server (iom/tools/launch.py), with
Hypothesis-made bodies: every answer must be a 200 with at least one message, or a
4xx with a JSON error; never a 5xx, a stack trace, or an empty answer. The strategies
are shared with tests/test_fuzz.py, which runs a few hundred of each in `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bench.report import head_commit, machine

ROOT = Path(__file__).resolve().parent.parent

REAL = [
    "dzień dobry",
    "szef zabrał mi paszport",
    "gdzie mogę się nauczyć polskiego w Krakowie",
    "numer do biura IOM",
    "how do I get a residence card",
    "help they locked me in a room",
    "can I work legally in Poland",
    "chcę rozmawiać z człowiekiem",
]
SPECIAL = [
    "",
    " ",
    "\t\n",
    "\x00\x01\x1b[31m",
    "🙏🙏🙏",
    "ﷺ" * 50,
    "Zażółć gęślą jaźń Привіт مرحبا 你好",
    "a" * 20_000,
    "/restart",
    '/report_trafficking{"city": "Atlantis", "language": "xx"}',
    "/nlu_fallback",
    "/session_start",
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "${jndi:ldap://x}",
    "\ud7ff\ue000\uffff",
]


def _noisy(real: str, noise: str, where: int) -> str:
    return real[:where] + noise + real[where:]


# What a user (or an attacker) can type.
messages = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=3000),
    st.builds(_noisy, st.sampled_from(REAL), st.text(max_size=30), st.integers(0, 40)),
    st.from_regex(r"/[a-z_]{0,30}(\{[^\n]{0,80}\})?", fullmatch=True),
    st.sampled_from(SPECIAL),
)

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
senders = st.one_of(
    st.uuids().map(lambda u: u.hex),
    st.text(min_size=0, max_size=200),
    _json,
)


def _body(sender: Any, message: Any, extra: dict) -> bytes:
    payload = {"sender": sender, "message": message, **extra}
    return json.dumps(payload).encode("utf-8", "surrogatepass")


# Request bodies for POST /webhooks/rest/webhook: mostly well-formed with odd
# messages, then odd senders and fields, then any JSON, then any bytes.
bodies = st.one_of(
    st.builds(_body, st.uuids().map(lambda u: u.hex), messages, st.just({})),
    st.builds(
        _body,
        senders,
        st.one_of(messages, _json),
        st.dictionaries(st.sampled_from(["metadata", "input_channel", "x"]), _json),
    ),
    _json.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=300),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
    ]
)


def check_rest_answer(status: int, body: str) -> str:
    """Raise AssertionError unless the answer is polite; return a category."""
    assert status < 500, f"{status}: {body[:300]}"
    assert "Traceback" not in body and 'File "' not in body, body[:300]
    decoded = json.loads(body)  # always JSON
    if status == 200:
        assert isinstance(decoded, list) and decoded, f"silent turn: {body[:200]}"
        assert all(m.get("text") or m.get("buttons") for m in decoded), body[:300]
        return "200 answered"
    assert 400 <= status < 500
    return f"{status}"


def post(port: int, body: bytes, content_type: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def check_parse(result: dict, text: str, intents: set[str]) -> str:
    """Raise AssertionError unless the NLU result is well-formed; return the intent."""
    intent = result["intent"]
    assert intent["name"] in intents, intent
    assert 0.0 <= float(intent["confidence"]) <= 1.0
    for entity in result.get("entities", []):
        assert 0 <= entity["start"] <= entity["end"] <= len(result["text"]), entity
    return str(intent["name"])


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.generate],  # report every failure, no shrinking time
        suppress_health_check=list(HealthCheck),
    )


def run_nlu(examples: int) -> dict[str, Any]:
    from rasa.core.agent import Agent

    MODEL = ROOT / "models" / "iom.tar.gz"

    agent = Agent.load(str(MODEL))
    intents = set(agent.domain.intents) | {"nlu_fallback"}
    loop = asyncio.new_event_loop()
    seen: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    times: list[float] = []

    @fuzz_settings(examples)
    @given(messages)
    def one(text: str) -> None:
        start = time.perf_counter()
        try:
            result = loop.run_until_complete(agent.parse_message(text))
            seen[check_parse(result, text, intents)] += 1
        except Exception as error:  # noqa: BLE001 - every failure is reported
            failures.append(f"{type(error).__name__}: {error!s:.200} for {text[:80]!r}")
        times.append(time.perf_counter() - start)

    started = time.perf_counter()
    one()
    return {
        "inputs": len(times),
        "failures": failures,
        "categories": dict(seen.most_common(6)),
        "distinct": len(seen),
        "seconds": time.perf_counter() - started,
        "p50_ms": 1000 * sorted(times)[len(times) // 2] if times else 0,
    }


def run_rest(examples: int, port: int) -> dict[str, Any]:
    seen: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    times: list[float] = []

    @fuzz_settings(examples)
    @given(bodies, content_types)
    def one(body: bytes, content_type: str) -> None:
        start = time.perf_counter()
        try:
            seen[check_rest_answer(*post(port, body, content_type))] += 1
        except Exception as error:  # noqa: BLE001 - every failure is reported
            failures.append(f"{type(error).__name__}: {error!s:.200} for {body[:80]!r}")
        times.append(time.perf_counter() - start)

    started = time.perf_counter()
    one()
    return {
        "inputs": len(times),
        "failures": failures,
        "categories": dict(seen.most_common()),
        "distinct": len(seen),
        "seconds": time.perf_counter() - started,
        "p50_ms": 1000 * sorted(times)[len(times) // 2] if times else 0,
    }


def report(nlu: dict, rest: dict) -> str:
    commit = head_commit()
    lines = [
        "# Fuzz run: NLU parse path and REST channel",
        "",
        f"Machine: {machine()}. Commit `{commit}`. Hypothesis {__import__('hypothesis').__version__},"
        " generate phase only (every failure is listed, none shrunk). `make fuzz`.",
        "",
        "| target | inputs | failures | outcomes | time | median per input |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in (
        ("NLU `Agent.parse_message`", nlu),
        ("REST `POST /webhooks/rest/webhook`", rest),
    ):
        if not result:
            continue
        outcomes = ", ".join(f"{k}: {v}" for k, v in result["categories"].items())
        lines.append(
            f"| {name} | {result['inputs']:,} | {len(result['failures'])} | {outcomes}"
            f" | {result['seconds']:.0f} s | {result['p50_ms']:.1f} ms |"
        )
    lines += [
        "",
        "NLU outcomes are the most frequent intents (of "
        f"{nlu.get('distinct', 0)} seen); REST outcomes are status codes.",
        "A failure is an exception, an intent outside the domain, a confidence outside"
        " [0, 1], an entity span outside the text; for REST a 5xx, a stack trace, a body"
        " that is not JSON, or a 200 without any message.",
        "",
    ]
    for name, result in (("NLU", nlu), ("REST", rest)):
        for failure in (result or {}).get("failures", [])[:20]:
            lines.append(f"- {name} failure: `{failure}`")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nlu", type=int, default=10_000, help="NLU inputs (0: skip)")
    parser.add_argument(
        "--rest", type=int, default=10_000, help="REST inputs (0: skip)"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "fuzz.md"))
    args = parser.parse_args()

    nlu = run_nlu(args.nlu) if args.nlu else {}
    rest: dict[str, Any] = {}
    if args.rest:
        from iom.tools.launch import LiveBot

        with tempfile.TemporaryDirectory() as tmp:
            bot = LiveBot(Path(tmp))
            try:
                rest = run_rest(args.rest, bot.rasa_port)
            finally:
                bot.close()
    text = report(nlu, rest)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(text)
    return 1 if nlu.get("failures") or rest.get("failures") else 0


if __name__ == "__main__":
    sys.exit(main())
