"""Corrections as Rasa 3 NLU training data (YAML, version 3.1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


class _Literal(str):
    """A string dumped as a YAML block literal (`examples: |`)."""


class _NluDumper(yaml.SafeDumper):
    """PyYAML's safe dumper plus block literals, without changing SafeDumper."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


_NluDumper.add_representer(_Literal, _literal)


def nlu_yaml(rows: Iterable[Any]) -> str:
    """Corrections as Rasa 3 NLU training data (version 3.1, a block per intent).

    Each row has `.text` and `.corrected_intent`; repeated texts are kept once.
    """
    by_intent: dict[str, list[str]] = {}
    for row in rows:
        text = " ".join(str(row.text).split())
        if text and text not in by_intent.setdefault(row.corrected_intent, []):
            by_intent[row.corrected_intent].append(text)
    data = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": _Literal("".join(f"- {t}\n" for t in texts))}
            for intent, texts in sorted(by_intent.items())
        ],
    }
    return yaml.dump(data, Dumper=_NluDumper, allow_unicode=True, sort_keys=False)
