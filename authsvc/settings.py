"""Configuration, read once from environment variables into a frozen value.

Nothing here imports Flask: the CLI, the app factory, the tests and the benchmarks all
build a :class:`Settings` the same way, and a bad value fails at start-up with a message
that names the variable, rather than at the first request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from authsvc import algorithms

DEFAULT_DATA_DIR = Path("var")
#: GlobalSign Root CA - R3, the root FIDO's metadata BLOBs chain to (SHA-256 CB:B5:22:D7:...).
FIDO_MDS_ROOT = Path(__file__).resolve().parent / "trust" / "roots" / "globalsign-root-r3.pem"


class ConfigError(ValueError):
    """A configuration value is missing or invalid."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _algorithms(env: Mapping[str, str]) -> tuple[int, ...]:
    names = _list(env, "ALGORITHMS")
    if not names:
        return algorithms.DEFAULT
    try:
        return algorithms.parse_names(names)
    except ValueError as exc:
        raise ConfigError(f"ALGORITHMS: {exc}") from exc


def _check_origin(name: str, origin: str) -> str:
    """An origin is scheme://host[:port] with nothing after it, or an Android app origin."""
    if origin.startswith("android:apk-key-hash:"):
        return origin
    parts = urlsplit(origin)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfigError(f"{name}: {origin!r} is not an http(s) origin")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"{name}: {origin!r} must be scheme://host[:port] only")
    if parts.scheme == "http" and parts.hostname not in {"localhost", "127.0.0.1", "::1"}:
        raise ConfigError(f"{name}: {origin!r} uses http, allowed for localhost only")
    return origin.rstrip("/")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the service can be configured with (the README lists each variable)."""

    rp_id: str = "localhost"
    rp_name: str = "authsvc"
    origins: tuple[str, ...] = ("http://localhost:5000",)
    top_origins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 5000
    database_url: str = "sqlite:///var/authsvc.db"
    redis_url: str | None = None
    redis_prefix: str = "authsvc:"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    challenge_ttl: int = 300
    max_body_bytes: int = 64 * 1024
    trust_roots: tuple[Path, ...] = ()
    algorithms: tuple[int, ...] = algorithms.DEFAULT
    require_trusted_attestation: bool = False
    mds_root: Path = FIDO_MDS_ROOT
    aaguid_names: Path | None = None
    trusted_proxies: int = 0
    secure_cookies: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); raise ConfigError if invalid."""
        env = os.environ if env is None else env
        port = _int(env, "PORT", 5000, 1, 65535)
        rp_id = env.get("RP_ID", "").strip().lower() or "localhost"
        origins = _list(env, "ORIGINS") or (f"http://localhost:{port}",)
        data_dir = Path(env.get("DATA_DIR", str(DEFAULT_DATA_DIR)))
        settings = cls(
            rp_id=rp_id,
            rp_name=env.get("RP_NAME", "").strip() or rp_id,
            origins=tuple(_check_origin("ORIGINS", o) for o in origins),
            top_origins=tuple(_check_origin("TOP_ORIGINS", o) for o in _list(env, "TOP_ORIGINS")),
            host=env.get("HOST", "").strip() or "127.0.0.1",
            port=port,
            database_url=env.get("DATABASE_URL", "").strip()
            or f"sqlite:///{(data_dir / 'authsvc.db').as_posix()}",
            redis_url=env.get("REDIS_URL", "").strip() or None,
            redis_prefix=env.get("REDIS_PREFIX", "").strip() or "authsvc:",
            secret_key=env.get("SECRET_KEY", "") or _persistent_secret(data_dir),
            challenge_ttl=_int(env, "CHALLENGE_TTL", 300, 10, 3600),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024, 4096, 1024 * 1024),
            trust_roots=tuple(Path(p) for p in _list(env, "TRUST_ROOTS")),
            algorithms=_algorithms(env),
            require_trusted_attestation=_bool(env, "REQUIRE_TRUSTED_ATTESTATION", False),
            mds_root=Path(env.get("MDS_ROOT", "").strip() or FIDO_MDS_ROOT),
            aaguid_names=Path(names) if (names := env.get("AAGUID_NAMES", "").strip()) else None,
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0, 0, 10),
            secure_cookies=_bool(
                env, "SECURE_COOKIES", all(o.startswith("https://") for o in origins)
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigError if the values cannot work together."""
        if not self.rp_id or any(c in self.rp_id for c in "/: "):
            raise ConfigError(f"RP_ID must be a bare domain, got {self.rp_id!r}")
        for origin in self.origins:
            host = urlsplit(origin).hostname or ""
            if origin.startswith("http") and not (
                host == self.rp_id or host.endswith("." + self.rp_id)
            ):
                raise ConfigError(f"ORIGINS: {origin!r} is not within RP_ID {self.rp_id!r}")
        for path in self.trust_roots:
            if not path.is_file():
                raise ConfigError(f"TRUST_ROOTS: {path} is not a file")
        if not self.mds_root.is_file():
            raise ConfigError(f"MDS_ROOT: {self.mds_root} is not a file")
        if self.aaguid_names is not None and not self.aaguid_names.is_file():
            raise ConfigError(f"AAGUID_NAMES: {self.aaguid_names} is not a file")
        if not self.algorithms or any(a not in algorithms.NAMES for a in self.algorithms):
            raise ConfigError("ALGORITHMS must name supported algorithms")
        if (
            algorithms.POST_QUANTUM.intersection(self.algorithms)
            and not algorithms.ml_dsa_available()
        ):
            raise ConfigError(
                "ALGORITHMS: ML-DSA needs cryptography on an OpenSSL with ML-DSA (3.5 or later)"
            )
        if len(self.secret_key) < 16:
            raise ConfigError("SECRET_KEY must be at least 16 characters")

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some values replaced (tests and benchmarks use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _persistent_secret(data_dir: Path) -> str:
    """A random key kept in ``DATA_DIR/secret_key``, so sessions survive a restart.

    Zero set-up needs a key nobody has to choose; every worker of one deployment reads the
    same file. Production sets SECRET_KEY instead.
    """
    path = data_dir / "secret_key"
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
