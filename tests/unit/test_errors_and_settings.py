"""Error codes are stable and documented; settings fail loudly and name the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from authsvc import algorithms
from authsvc.errors import AuthError, all_error_classes
from authsvc.settings import ConfigError, Settings

README = Path(__file__).resolve().parents[2] / "README.md"
API_CODES = {
    "malformed",
    "payload_too_large",
    "challenge_unknown",
    "challenge_expired",
    "challenge_mismatch",
    "type_mismatch",
    "origin_mismatch",
    "rp_id_mismatch",
    "user_not_present",
    "user_not_verified",
    "backup_state_invalid",
    "unsupported_algorithm",
    "attestation_invalid",
    "attestation_untrusted",
    "credential_excluded",
    "credential_unknown",
    "user_handle_mismatch",
    "signature_invalid",
    "sign_count_regressed",
    "policy_denied",
    "unauthenticated",
    "step_up_required",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "unavailable",
}


def test_every_code_of_the_contract_has_its_class_and_status() -> None:
    codes = {cls.code: cls.status for cls in all_error_classes()}
    assert set(codes) >= API_CODES
    assert len(codes) == len(all_error_classes())  # no two classes share a code
    assert codes["payload_too_large"] == 413
    assert codes["policy_denied"] == 403
    assert codes["step_up_required"] == 401


def test_readme_lists_every_code() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", README.read_text(), re.MULTILINE))
    classes: list[type[AuthError]] = [*all_error_classes(), AuthError]
    expected = {(cls.code, str(cls.status)) for cls in classes}
    assert expected <= documented


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    assert settings.rp_id == "localhost"
    assert settings.origins == ("http://localhost:5000",)
    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/authsvc.db"
    assert settings.challenge_ttl == 300
    # the generated secret is kept, so a restart keeps sessions
    assert Settings.from_env({"DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key


def test_port_changes_the_default_origin(tmp_path: Path) -> None:
    settings = Settings.from_env({"PORT": "8080", "DATA_DIR": str(tmp_path)})
    assert settings.origins == ("http://localhost:8080",)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"PORT": "x"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"CHALLENGE_TTL": "1"}, "CHALLENGE_TTL"),
        ({"ORIGINS": "https://example.com/path"}, "ORIGINS"),
        ({"ORIGINS": "http://example.com"}, "ORIGINS"),
        ({"RP_ID": "example.com", "ORIGINS": "https://example.org"}, "ORIGINS"),
        ({"RP_ID": "https://example.com"}, "RP_ID"),
        ({"REQUIRE_TRUSTED_ATTESTATION": "maybe"}, "REQUIRE_TRUSTED_ATTESTATION"),
        ({"TRUST_ROOTS": "/no/such/file.pem"}, "TRUST_ROOTS"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALGORITHMS": "ES256,RS1"}, "ALGORITHMS: unknown algorithm 'RS1'"),
        ({"ALGORITHMS": "ES256, es256"}, "ALGORITHMS: algorithm ES256 is listed twice"),
        ({"ALGORITHMS": "-7"}, "ALGORITHMS"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], names: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_env({"DATA_DIR": str(tmp_path), **env})


def test_algorithms_are_named_in_preference_order(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).algorithms == (-7, -8, -257, -37)
    assert Settings.from_env({**env, "ALGORITHMS": " "}).algorithms == (-7, -8, -257, -37)
    chosen = Settings.from_env({**env, "ALGORITHMS": "ml-dsa-65, ES256,EdDSA , ES512"})
    assert chosen.algorithms == (-49, -7, -8, -36)
    every = ",".join(algorithms.NAMES.values())
    assert Settings.from_env({**env, "ALGORITHMS": every}).algorithms == algorithms.SUPPORTED


def test_settings_built_in_code_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="ALGORITHMS"):
        Settings(algorithms=()).check()
    with pytest.raises(ConfigError, match="ALGORITHMS"):
        Settings(algorithms=(-7, -65535)).check()


def test_subdomain_origin_within_the_rp_id(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "RP_ID": "example.com",
            "DATA_DIR": str(tmp_path),
            "ORIGINS": "https://example.com,https://login.example.com,android:apk-key-hash:abc",
        }
    )
    assert settings.secure_cookies is True  # an app origin carries no cookie: the web ones decide
    assert len(settings.origins) == 3


def test_cookie_security_follows_the_web_origins_only(tmp_path: Path) -> None:
    def secure(origins: str, **extra: str) -> bool:
        env = {"DATA_DIR": str(tmp_path), "ORIGINS": origins, **extra}
        return Settings.from_env(env).secure_cookies

    app = "android:apk-key-hash:abc"
    assert secure(f"https://localhost,{app}") is True
    assert secure(f"{app},https://localhost") is True
    assert secure(f"http://localhost:5000,{app}") is False
    assert secure(f"https://localhost,http://localhost:5000,{app}") is False
    assert secure(app, TOKEN_ISSUER="https://localhost") is True  # no browser at all
    assert secure(f"https://localhost,{app}", SECURE_COOKIES="false") is False


def _related(tmp_path: Path, related: str) -> Settings:
    return Settings.from_env(
        {
            "RP_ID": "example.com",
            "ORIGINS": "https://example.com",
            "RELATED_ORIGINS": related,
            "DATA_DIR": str(tmp_path),
        }
    )


def test_related_origins_are_read_in_order(tmp_path: Path) -> None:
    assert _related(tmp_path, "").related_origins == ()
    settings = _related(tmp_path, " https://example.co.uk/ ,https://shop.example-brand.de:8443")
    assert settings.related_origins == (
        "https://example.co.uk",
        "https://shop.example-brand.de:8443",
    )
    assert settings.origins == ("https://example.com",)  # they are not the RP's own origins


@pytest.mark.parametrize(
    ("related", "rule"),
    [
        ("https://example.co.uk/login", "must be scheme://host"),
        ("http://example.co.uk", "uses http"),
        ("android:apk-key-hash:abc", "is not a web origin"),
        ("https://example.com", "is within RP_ID"),
        ("https://login.example.com", "is within RP_ID"),
        ("http://localhost:5001", "has no registrable domain"),
        ("https://192.0.2.7", "has no registrable domain"),
        ("https://co.uk", "has no registrable domain"),  # a public suffix itself
        ("https://intranet.internal", "has no registrable domain"),
    ],
)
def test_bad_related_origins_name_the_rule(tmp_path: Path, related: str, rule: str) -> None:
    with pytest.raises(ConfigError, match=f"^RELATED_ORIGINS: .*{rule}"):
        _related(tmp_path, related)


def test_related_origins_may_span_five_labels_and_no_more(tmp_path: Path) -> None:
    # example.co.uk, example.de and shop.example.fr share the label "example" (browsers
    # count the registrable domain's first label), so these are five labels, not seven
    five = (
        "https://example.co.uk,https://example.de,https://shop.example.fr,"
        "https://a-brand.com,https://b-brand.net,https://c-brand.org,https://user.github.io"
    )
    assert len(_related(tmp_path, five).related_origins) == 7
    with pytest.raises(ConfigError, match=r"6 registrable-domain labels .*at most 5"):
        _related(tmp_path, five + ",https://d-brand.io")


def test_related_origins_set_in_code_are_checked_too() -> None:
    settings = Settings(
        rp_id="example.com",
        origins=("https://example.com",),
        related_origins=("https://www.example.com",),
    )
    with pytest.raises(ConfigError, match="RELATED_ORIGINS"):
        settings.check()
