"""Corrections as Rasa 3 NLU training data (YAML, version 3.1).

The YAML itself is written by `iom.core.learning.examples.nlu_yaml`, which also
writes the learning loop's candidate files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from iom.core.learning.examples import annotate, parse_entities
from iom.core.learning.examples import nlu_yaml as _nlu_yaml


def nlu_yaml(rows: Iterable[Any]) -> str:
    """Corrections as Rasa 3 NLU training data (version 3.1, a block per intent).

    Each row has `.text`, `.corrected_intent` and `.entities` (JSON spans, written as
    Rasa annotations: `[Kraków](city)`); texts that are the same without their
    annotations are kept once.
    """
    return _nlu_yaml(
        (annotate(str(row.text), parse_entities(row.entities)), row.corrected_intent)
        for row in rows
    )
