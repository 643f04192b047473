"""The contact directory: schema, provenance against the shared facts, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from iom.core.contacts import DirectoryError, load_directory, parse_directory
from tests.conftest import ROOT, SHARED_FACTS, SOURCES, fact_phone_status

DIRECTORY_FILE = ROOT / "knowledge" / "contacts.yml"


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DIRECTORY_FILE.read_text("utf-8"))


def test_directory_file_is_valid() -> None:
    directory = load_directory(DIRECTORY_FILE)
    assert {"kcik", "la_strada", "emergency_112", "iom_migrant_info"} <= {
        c.id for c in directory.contacts
    }


def test_in_repo_sources_equal_the_shared_facts_when_present() -> None:
    """knowledge/sources.yml is the shared facts file, byte for byte.

    The shared file changes over time (re-checks, new entries); when it is beside the
    repository (always in CI) a difference fails here until the copy, the directory
    and the responses follow it.
    """
    if not SHARED_FACTS.exists():
        pytest.skip("../shared is not beside this clone: the in-repo copy is used")
    assert SOURCES.read_bytes() == SHARED_FACTS.read_bytes(), (
        f"{SHARED_FACTS} changed: copy it to {SOURCES} and bring "
        "knowledge/contacts.yml and domain.yml in line with it"
    )


def test_every_directory_phone_traces_to_the_facts_with_its_status(facts: dict) -> None:
    known = fact_phone_status(facts)
    for contact in load_directory(DIRECTORY_FILE).contacts:
        for phone in contact.phones:
            assert phone.number in known, f"{contact.id}: {phone.number} not sourced"
            if phone.status == "verified":
                assert known[
                    phone.number
                ], f"{contact.id}: {phone.number} is unconfirmed"


def test_unconfirmed_entries_have_no_verified_phone() -> None:
    for contact in load_directory(DIRECTORY_FILE).contacts:
        if contact.status == "unconfirmed":
            assert all(p.status == "unconfirmed" for p in contact.phones), contact.id


def _broken(raw: dict, index: int, **changes: object) -> str:
    data = yaml.safe_load(yaml.safe_dump(raw))
    data["contacts"][index].update(changes)
    return yaml.safe_dump(data, allow_unicode=True)


def test_bad_phone_number_names_the_entry_and_field(raw: dict) -> None:
    index = [c["id"] for c in raw["contacts"]].index("kcik")
    phones = raw["contacts"][index]["phones"]
    bad = [{**phones[0], "number": "+48 22 62X"}]
    with pytest.raises(DirectoryError, match=r"entry 'kcik' .*field phones\.0\.number"):
        parse_directory(_broken(raw, index, phones=bad))


def test_unconfirmed_without_reason_is_rejected(raw: dict) -> None:
    with pytest.raises(DirectoryError, match="needs a `reason`"):
        parse_directory(_broken(raw, 0, status="unconfirmed"))


def test_unknown_field_and_unknown_city_are_rejected(raw: dict) -> None:
    with pytest.raises(DirectoryError, match="extra fields not permitted"):
        parse_directory(_broken(raw, 0, telephone="112"))
    with pytest.raises(DirectoryError, match="unknown city 'Atlantis'"):
        parse_directory(_broken(raw, 0, cities=["Atlantis"]))


def test_hours_closing_before_opening_is_rejected(raw: dict) -> None:
    hours = {
        "weekly": [{"days": ["mon"], "open": "17:00", "close": "09:00"}],
        "source_url": "https://example.org",
        "status": "verified",
    }
    with pytest.raises(DirectoryError, match="opens 17:00 after it closes 09:00"):
        parse_directory(_broken(raw, 0, hours=hours))


def test_not_yaml_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="not valid YAML"):
        parse_directory("contacts: [unclosed")
    with pytest.raises(DirectoryError, match="cannot read"):
        load_directory(tmp_path / "missing.yml")
