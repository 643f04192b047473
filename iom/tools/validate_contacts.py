"""Validate knowledge/contacts.yml against its schema (make validate-contacts)."""

from __future__ import annotations

import sys
from pathlib import Path

from iom.core.contacts import DirectoryError, load_directory
from iom.core.settings import ROOT


def main() -> int:
    """Exit 0 when the file is valid, 1 with the error otherwise."""
    path = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "knowledge" / "contacts.yml"
    )
    try:
        directory = load_directory(path)
    except DirectoryError as error:
        print(f"INVALID {error}", file=sys.stderr)
        return 1
    phones = sum(len(c.phones) for c in directory.contacts)
    print(f"OK {path}: {len(directory.contacts)} entries, {phones} phone numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
