"""Mask personal data in user messages for display (the stored text is unchanged).

The console uses the tracker store's own detector (`iom.core.redaction`), so an
operator sees exactly what the bot would have redacted before storage: phone numbers,
e-mail addresses, PESEL, IBAN / Polish account numbers, payment cards, passport, ID-card
and other document numbers, each replaced by the same placeholder (`[PHONE]`,
`[EMAIL]`, ...). The contact directory's own public numbers and addresses (e.g. the
22 628 01 20 hotline) are not personal data and stay readable. Revealing needs a
reason, written to the audit log (routes/conversations.py).
"""

from __future__ import annotations

from iom.core.redaction import default_redactor


def mask(text: str) -> str:
    """The text with every piece of personal data replaced by its placeholder."""
    return default_redactor().redact(text)


def has_personal_data(text: str) -> bool:
    """Whether masking would hide anything in the text."""
    return bool(default_redactor().find(text))
