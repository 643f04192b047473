"""Mask personal data in user messages for display (the stored text is unchanged).

Phone numbers, e-mail addresses, PESEL numbers, IBAN / account numbers, and passport
or ID-card numbers. Revealing needs a reason, written to the audit log (app.py).
"""

from __future__ import annotations

import re

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?\d{4}){3,7}(?:[ ]?\d{1,4})?\b")),
    ("account", re.compile(r"\b\d{2}(?:[ ]?\d{4}){6}\b")),
    ("pesel", re.compile(r"\b\d{11}\b")),
    ("document", re.compile(r"\b[A-Z]{2,3}[ ]?\d{6,7}\b")),
    ("phone", re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ()-]{7,16}\d\b")),
)
LABELS = {
    "email": "[e-mail]",
    "iban": "[account]",
    "account": "[account]",
    "pesel": "[PESEL]",
    "document": "[document no.]",
    "phone": "[phone]",
}


def mask(text: str) -> str:
    """The text with every personal-data match replaced by a label."""
    for kind, pattern in PATTERNS:
        text = pattern.sub(LABELS[kind], text)
    return text


def has_personal_data(text: str) -> bool:
    """Whether masking would change the text."""
    return mask(text) != text
