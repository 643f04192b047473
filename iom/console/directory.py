"""The contact directory as operators see and edit it.

Edits keep the file's comments and layout (ruamel.yaml round trip), are validated with
the action server's own schema (`iom.core.contacts.parse_directory`, through pydantic's
v1 namespace) before anything is written, and replace the file atomically; the action
server notices the new mtime and reloads (iom/core/directory_store.py).
"""

from __future__ import annotations

import io
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from iom.core import settings
from iom.core.contacts import Directory, DirectoryError, parse_directory

ROOT = settings.ROOT


def directory_path() -> Path:
    """CONTACTS_FILE, default knowledge/contacts.yml (as the action server)."""
    return settings.current().contacts_file


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load() -> Directory:
    """The directory, validated."""
    path = directory_path()
    return parse_directory(path.read_text("utf-8"), str(path))


def entry_yaml(entry_id: str) -> str:
    """One entry as YAML text, for the edit form."""
    data = _yaml().load(directory_path().read_text("utf-8"))
    for entry in data["contacts"]:
        if entry.get("id") == entry_id:
            out = io.StringIO()
            _yaml().dump(entry, out)
            return out.getvalue()
    raise KeyError(entry_id)


def _write(data: Any) -> None:
    out = io.StringIO()
    _yaml().dump(data, out)
    text = out.getvalue()
    path = directory_path()
    parse_directory(text, str(path))  # raises DirectoryError: nothing is written
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".contacts-", suffix=".yml")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _entries(data: Any, entry_id: str) -> int:
    for index, entry in enumerate(data["contacts"]):
        if entry.get("id") == entry_id:
            return index
    raise KeyError(entry_id)


def replace_entry(entry_id: str, text: str) -> None:
    """Replace one entry with edited YAML (same id); validated before writing."""
    yaml = _yaml()
    data = yaml.load(directory_path().read_text("utf-8"))
    index = _entries(data, entry_id)
    try:
        new = yaml.load(text)
    except Exception as error:  # ruamel raises many kinds of YAML errors
        raise DirectoryError(f"not valid YAML: {error}") from error
    if not isinstance(new, dict) or new.get("id") != entry_id:
        raise DirectoryError(f"the entry must be a mapping with id: {entry_id}")
    data["contacts"][index] = new
    _write(data)


def mark_verified(
    entry_id: str, source_url: str, username: str, today: date | None = None
) -> None:
    """Record that staff re-checked the entry on its official source today."""
    data = _yaml().load(directory_path().read_text("utf-8"))
    entry = data["contacts"][_entries(data, entry_id)]
    entry["verify_at"] = source_url
    entry["verified_on"] = (today or date.today()).isoformat()
    entry["verified_by"] = username
    _write(data)
