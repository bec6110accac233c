"""Community passkey provider names, and the lookup that prefers FIDO MDS over them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authsvc.trust.aaguid_names import load_aaguid_names
from authsvc.trust.metadata import MetadataRefused
from tests.shared import SHARED

AAGUIDS = SHARED / "aaguids" / "aaguid.json"
ONE_PASSWORD = "bada5566-a7aa-401f-bd96-45619a55120d"
APPLE = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
WINDOWS_HELLO = "08987058-cadc-4b81-b6e1-30de50dcbe96"


def test_community_names_load() -> None:
    names = load_aaguid_names(AAGUIDS)
    assert len(names) == 52
    one = names[ONE_PASSWORD]
    assert (one.description, one.aaguid, one.from_mds) == ("1Password", ONE_PASSWORD, False)
    assert one.icon is not None and one.icon.startswith("data:image/svg+xml;base64,")
    assert names[APPLE].description == "Apple Passwords"  # formerly "iCloud Keychain"
    # names only: nothing a policy could count as proof or certification
    assert (one.statuses, one.latest_status, one.certification_level) == ((), None, 0)
    assert (one.modalities, one.worst_far) == (frozenset(), None)


def test_older_list_still_says_icloud_keychain() -> None:
    names = load_aaguid_names(SHARED / "aaguids" / "combined.json")
    assert names[APPLE].description == "iCloud Keychain"


def test_a_name_without_icons(tmp_path: Path) -> None:
    path = tmp_path / "aaguid.json"
    path.write_text(json.dumps({"B5397666-4885-AA6B-CEBF-E52262A439A2": {"name": "Chromium"}}))
    names = load_aaguid_names(path)
    assert names["b5397666-4885-aa6b-cebf-e52262a439a2"].icon is None


def test_a_retired_list_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "aaguid.json"
    path.write_text("{}")
    assert load_aaguid_names(path) == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]", "is not a JSON object"),
        ("{", "is not JSON"),
        ('{"not-an-aaguid": {"name": "x"}}', "'not-an-aaguid' is not a dashed AAGUID"),
        (f'{{"{ONE_PASSWORD}": "1Password"}}', f"{ONE_PASSWORD} has no name"),
        (f'{{"{ONE_PASSWORD}": {{"name": "  "}}}}', f"{ONE_PASSWORD} has no name"),
    ],
)
def test_malformed_lists_are_refused(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "aaguid.json"
    path.write_text(text)
    with pytest.raises(MetadataRefused, match=reason):
        load_aaguid_names(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MetadataRefused, match="cannot read the AAGUID names"):
        load_aaguid_names(tmp_path / "missing.json")
