"""Both association files against the shapes Apple and Google document.

The checks are written from the documentation, not from our code: Apple's "Supporting
associated domains" (``webcredentials.apps``: app IDs, ``<team ID>.<bundle ID>``) and
Android's Credential Manager prerequisites and Digital Asset Links (a JSON list of
statements; ``relation``, ``target.namespace`` ``android_app``, ``package_name``,
``sha256_cert_fingerprints`` upper-case colon-separated).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mobile_bridge.apps import AndroidApp, IosApp
from mobile_bridge.association import apple_app_site_association, asset_links

APP_ID = re.compile(r"^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$")
FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
GET_LOGIN_CREDS = "delegate_permission/common.get_login_creds"


def check_apple(document: Any) -> None:
    """Apple: an object whose ``webcredentials.apps`` is a list of app IDs, nothing else."""
    assert isinstance(document, dict) and set(document) == {"webcredentials"}
    service = document["webcredentials"]
    assert isinstance(service, dict) and set(service) == {"apps"}
    assert isinstance(service["apps"], list)
    for app_id in service["apps"]:
        assert isinstance(app_id, str) and APP_ID.fullmatch(app_id), app_id


def check_google(document: Any) -> None:
    """Digital Asset Links: a list of statements, each a relation list and an app target."""
    assert isinstance(document, list)
    for statement in document:
        assert set(statement) == {"relation", "target"}
        assert statement["relation"] == [GET_LOGIN_CREDS]
        target = statement["target"]
        assert set(target) == {"namespace", "package_name", "sha256_cert_fingerprints"}
        assert target["namespace"] == "android_app"
        assert PACKAGE.fullmatch(target["package_name"])
        prints = target["sha256_cert_fingerprints"]
        assert isinstance(prints, list) and prints
        assert all(isinstance(fp, str) and FINGERPRINT.fullmatch(fp) for fp in prints)


def _digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def test_apple_file_lists_every_ios_app_id() -> None:
    document = apple_app_site_association(
        [IosApp("ABCDE12345", "com.example.app"), IosApp("ZYXWV98765", "com.example.beta-2")]
    )
    check_apple(document)
    assert document == {
        "webcredentials": {"apps": ["ABCDE12345.com.example.app", "ZYXWV98765.com.example.beta-2"]}
    }


def test_google_file_has_every_fingerprint_of_an_app_in_one_statement() -> None:
    upload, play = _digest("upload key"), _digest("play app signing key")
    document = asset_links([AndroidApp("com.example.app", (upload, play))])
    check_google(document)
    assert document[0]["target"]["sha256_cert_fingerprints"] == [
        upload.hex(":").upper(),
        play.hex(":").upper(),
    ]


def test_no_apps_are_empty_but_well_formed_files() -> None:
    check_apple(apple_app_site_association([]))
    check_google(asset_links([]))
    assert json.dumps(asset_links([])) == "[]"


team_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=10, max_size=10)
segments = st.text("abcXYZ019-", min_size=1, max_size=12)
bundle_ids = st.lists(segments, min_size=1, max_size=5).map(".".join)
letters = st.sampled_from("abcdefghijklmnopqrstuvwxyzABC")
package_segments = st.tuples(letters, st.text("abz019_XY", max_size=8)).map("".join)
packages = st.lists(package_segments, min_size=2, max_size=5).map(".".join)


@given(st.lists(st.tuples(team_ids, bundle_ids), max_size=6))
def test_any_registered_ios_apps_make_a_valid_apple_file(apps: list[tuple[str, str]]) -> None:
    document = apple_app_site_association(IosApp(t, b) for t, b in apps)
    check_apple(document)
    assert sorted(set(document["webcredentials"]["apps"])) == sorted({f"{t}.{b}" for t, b in apps})


@given(
    st.lists(
        st.tuples(
            packages,
            st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=4, unique=True),
        ),
        max_size=5,
        unique_by=lambda a: a[0],
    )
)
def test_any_registered_android_apps_make_a_valid_google_file(
    apps: list[tuple[str, list[bytes]]],
) -> None:
    document = asset_links(AndroidApp(p, tuple(fps)) for p, fps in apps)
    check_google(document)
    assert [s["target"]["package_name"] for s in document] == sorted(p for p, _ in apps)
