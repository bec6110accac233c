"""Configuration, read once from environment variables into a frozen value.

Nothing here imports Flask: the CLI, the app factory, the tests and the benchmarks all
build a :class:`Settings` the same way, and a bad value fails at start-up with a message
that names the variable, rather than at the first request.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from limits import parse_many
from publicsuffixlist import PublicSuffixList

from authsvc import algorithms

DEFAULT_DATA_DIR = Path("var")
#: GlobalSign Root CA - R3, the root FIDO's metadata BLOBs chain to (SHA-256 CB:B5:22:D7:...).
FIDO_MDS_ROOT = Path(__file__).resolve().parent / "trust" / "roots" / "globalsign-root-r3.pem"


#: Seconds. An idle timeout under a minute would end sessions between the clicks of one task
#: (and ``last_seen`` is only written once a minute); a lifetime over 30 days is no longer a
#: session. The tests configure short ones through Settings directly.
SESSION_IDLE_RANGE: Final = (60, 86_400)
SESSION_LIFETIME_RANGE: Final = (300, 30 * 86_400)
#: Seconds. A recovery link must outlive the phone call that verified the person, and stays
#: a one-day door at most.
RECOVERY_LINK_TTL_RANGE: Final = (300, 86_400)
#: Seconds a registration token (an admin's or an app back end's) may wait to be redeemed.
REGISTRATION_TOKEN_TTL_RANGE: Final = (300, 7 * 86_400)
#: WebAuthn's related-origin validation lets a browser stop reading ``/.well-known/webauthn``
#: after this many distinct registrable-domain labels ("example" of example.com and
#: example.co.uk); Chrome and Firefox stop at 5, so origins past it would fail in browsers.
MAX_RELATED_ORIGIN_LABELS: Final = 5
#: Seconds. Token sessions (README "Token sessions"): an access token is checked by resource
#: servers without asking us, so it must be short-lived; a refresh token unused this long
#: dies (idle); a token session ends this long after its sign-in, refreshed or not.
ACCESS_TOKEN_TTL_RANGE: Final = (60, 3600)
REFRESH_TOKEN_TTL_RANGE: Final = (3600, 90 * 86_400)
TOKEN_SESSION_LIFETIME_RANGE: Final = (3600, 365 * 86_400)


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


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
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


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit in ``limits`` notation; :meth:`Settings.check` parses it."""
    return env.get(name, "").strip() or default


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


def _web(origins: Iterable[str]) -> tuple[str, ...]:
    """The http(s) origins among ``origins``: those a browser, and so a cookie, lives on.

    An app origin (``android:apk-key-hash:…``) has no scheme a cookie could be sent over,
    so it must weigh neither way on cookie security: only the web origins decide it.
    """
    return tuple(o for o in origins if o.startswith(("https://", "http://")))


@cache
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List the package ships (never fetched), loaded on first use.

    ``accept_unknown=False``: a host under no listed suffix (``localhost``, ``.internal``)
    has no registrable domain, so it is refused rather than guessed at.
    """
    return PublicSuffixList(accept_unknown=False)


def registrable_label(host: str) -> str | None:
    """The label browsers count for a related origin: "example" for ``shop.example.co.uk``.

    ``None`` for a host with no registrable domain (an IP address, ``localhost``), which
    browsers skip when they read ``/.well-known/webauthn``.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        domain = _public_suffixes().privatesuffix(host)
        return None if domain is None else domain.split(".", 1)[0]
    return None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the service can be configured with (the README lists each variable)."""

    rp_id: str = "localhost"
    rp_name: str = "authsvc"
    origins: tuple[str, ...] = ("http://localhost:5000",)
    top_origins: tuple[str, ...] = ()
    #: other sites' origins that may use RP_ID (WebAuthn related origin requests)
    related_origins: tuple[str, ...] = ()
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
    #: Rate limits (README "Security model"), in ``limits`` notation ("30/minute;300/hour").
    #: Per client address: each ceremony endpoint, sign-up, the admin API. Per account *and*
    #: address: sign-in options, adding passkeys; so a stranger never locks a victim out.
    #: Two windows where a burst must pass but a steady rate must not: the short one lets a
    #: person retry, or a few people behind one NAT sign in, at once; the long one holds a
    #: script that keeps going to a sixth of what the short one alone allows (300 ceremony
    #: requests an hour, not 1,800). All windows of a limit are one storage call, so the
    #: second adds no statement and no round trip (authsvc.web.limits).
    rate_limits: bool = True
    rate_limit_ceremony: str = "30/minute;300/hour"
    rate_limit_signup: str = "10/hour;50/day"
    rate_limit_account: str = "10/minute;100/hour"
    rate_limit_passkeys: str = "10/hour"
    rate_limit_admin: str = "120/minute;2000/hour"
    #: failed sign-ins with one credential from one address before each further one waits
    #: a delay that doubles from ``rate_limit_credential_delay`` up to ``…_delay_max`` seconds
    rate_limit_credential_failures: int = 5
    rate_limit_credential_delay: int = 1
    rate_limit_credential_delay_max: int = 900
    #: Recovery attempts (codes and links), per client address and per account + address
    rate_limit_recovery: str = "20/hour;100/day"
    rate_limit_recovery_account: str = "5/hour;20/day"
    #: how long an admin's recovery link works (seconds); a day at most
    recovery_link_ttl: int = 86_400
    registration_token_ttl: int = 3600
    #: NIST SP 800-63B AAL2: reauthenticate after 30 minutes idle and 12 hours in any case
    session_idle_timeout: int = 1800
    session_lifetime: int = 43_200
    #: Token sessions: the ``iss`` and ``aud`` of access tokens (None: the first web origin
    #: in ORIGINS, and the issuer), and the three lifetimes (seconds)
    token_issuer: str | None = None
    token_audience: str | None = None
    access_token_ttl: int = 300
    refresh_token_ttl: int = 14 * 86_400
    token_session_lifetime: int = 30 * 86_400

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
            related_origins=tuple(
                _check_origin("RELATED_ORIGINS", o) for o in _list(env, "RELATED_ORIGINS")
            ),
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
            require_trusted_attestation=_bool(env, "REQUIRE_TRUSTED_ATTESTATION", default=False),
            mds_root=Path(env.get("MDS_ROOT", "").strip() or FIDO_MDS_ROOT),
            aaguid_names=Path(names) if (names := env.get("AAGUID_NAMES", "").strip()) else None,
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0, 0, 10),
            rate_limits=_bool(env, "RATE_LIMITS", default=True),
            rate_limit_ceremony=_rate(env, "RATE_LIMIT_CEREMONY", cls.rate_limit_ceremony),
            rate_limit_signup=_rate(env, "RATE_LIMIT_SIGNUP", cls.rate_limit_signup),
            rate_limit_account=_rate(env, "RATE_LIMIT_ACCOUNT", cls.rate_limit_account),
            rate_limit_passkeys=_rate(env, "RATE_LIMIT_PASSKEYS", cls.rate_limit_passkeys),
            rate_limit_admin=_rate(env, "RATE_LIMIT_ADMIN", cls.rate_limit_admin),
            rate_limit_credential_failures=_int(env, "RATE_LIMIT_CREDENTIAL_FAILURES", 5, 1, 1000),
            rate_limit_credential_delay=_int(env, "RATE_LIMIT_CREDENTIAL_DELAY", 1, 1, 3600),
            rate_limit_credential_delay_max=_int(
                env, "RATE_LIMIT_CREDENTIAL_DELAY_MAX", 900, 1, 86_400
            ),
            rate_limit_recovery=_rate(env, "RATE_LIMIT_RECOVERY", cls.rate_limit_recovery),
            rate_limit_recovery_account=_rate(
                env, "RATE_LIMIT_RECOVERY_ACCOUNT", cls.rate_limit_recovery_account
            ),
            recovery_link_ttl=_int(env, "RECOVERY_LINK_TTL", 86_400, *RECOVERY_LINK_TTL_RANGE),
            registration_token_ttl=_int(
                env, "REGISTRATION_TOKEN_TTL", 3600, *REGISTRATION_TOKEN_TTL_RANGE
            ),
            secure_cookies=_bool(
                env,
                "SECURE_COOKIES",
                default=all(o.startswith("https://") for o in _web(origins)),
            ),
            session_idle_timeout=_int(env, "SESSION_IDLE_TIMEOUT", 1800, *SESSION_IDLE_RANGE),
            session_lifetime=_int(env, "SESSION_LIFETIME", 43_200, *SESSION_LIFETIME_RANGE),
            token_issuer=env.get("TOKEN_ISSUER", "").strip() or None,
            token_audience=env.get("TOKEN_AUDIENCE", "").strip() or None,
            access_token_ttl=_int(env, "ACCESS_TOKEN_TTL", 300, *ACCESS_TOKEN_TTL_RANGE),
            refresh_token_ttl=_int(env, "REFRESH_TOKEN_TTL", 14 * 86_400, *REFRESH_TOKEN_TTL_RANGE),
            token_session_lifetime=_int(
                env, "TOKEN_SESSION_LIFETIME", 30 * 86_400, *TOKEN_SESSION_LIFETIME_RANGE
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
        self._check_sessions()
        self._check_rate_limits()
        low, high = RECOVERY_LINK_TTL_RANGE
        if not low <= self.recovery_link_ttl <= high:
            raise ConfigError(f"RECOVERY_LINK_TTL must be between {low} and {high} seconds")
        low, high = REGISTRATION_TOKEN_TTL_RANGE
        if not low <= self.registration_token_ttl <= high:
            raise ConfigError(f"REGISTRATION_TOKEN_TTL must be between {low} and {high} seconds")
        self._check_related_origins()
        self._check_tokens()

    @property
    def issuer(self) -> str:
        """The access tokens' ``iss``: TOKEN_ISSUER, else the first web origin in ORIGINS."""
        if self.token_issuer:
            return self.token_issuer
        return next(iter(_web(self.origins)), "")

    @property
    def audience(self) -> str:
        """The access tokens' ``aud``: TOKEN_AUDIENCE, else the issuer (this service's API)."""
        return self.token_audience or self.issuer

    def _check_tokens(self) -> None:
        if not self.issuer:
            raise ConfigError("TOKEN_ISSUER must be set when ORIGINS lists no web origin")
        parts = urlsplit(self.issuer)
        if parts.scheme not in {"https", "http"} or not parts.hostname or parts.query:
            raise ConfigError(f"TOKEN_ISSUER must be an http(s) URL, got {self.issuer!r}")
        if any(c.isspace() for c in self.audience) or len(self.audience) > 255:
            raise ConfigError("TOKEN_AUDIENCE must be a URI without white space")
        for name, value, (low, high) in (
            ("ACCESS_TOKEN_TTL", self.access_token_ttl, ACCESS_TOKEN_TTL_RANGE),
            ("REFRESH_TOKEN_TTL", self.refresh_token_ttl, REFRESH_TOKEN_TTL_RANGE),
            ("TOKEN_SESSION_LIFETIME", self.token_session_lifetime, TOKEN_SESSION_LIFETIME_RANGE),
        ):
            if not low <= value <= high:
                raise ConfigError(f"{name} must be between {low} and {high} seconds")
        if self.refresh_token_ttl > self.token_session_lifetime:
            raise ConfigError("REFRESH_TOKEN_TTL must not be longer than TOKEN_SESSION_LIFETIME")

    def _check_related_origins(self) -> None:
        """Each a web origin outside RP_ID on a registrable domain; at most 5 labels in all.

        Each rule refuses a list that browsers would quietly not honour (in part), which
        would show only as a SecurityError in a user's browser, while our ceremonies
        accepted the origin: better to fail at start-up, naming the rule.
        """
        labels: set[str] = set()
        for origin in self.related_origins:
            host = urlsplit(origin).hostname or ""
            if not origin.startswith(("https://", "http://")):
                raise ConfigError(f"RELATED_ORIGINS: {origin!r} is not a web origin")
            if host == self.rp_id or host.endswith("." + self.rp_id):
                raise ConfigError(
                    f"RELATED_ORIGINS: {origin!r} is within RP_ID {self.rp_id!r}; "
                    "list it in ORIGINS"
                )
            label = registrable_label(host)
            if label is None:
                raise ConfigError(
                    f"RELATED_ORIGINS: {origin!r} has no registrable domain (a name under a "
                    "public suffix), so browsers never honour it as a related origin"
                )
            labels.add(label)
        if len(labels) > MAX_RELATED_ORIGIN_LABELS:
            raise ConfigError(
                f"RELATED_ORIGINS: {len(labels)} registrable-domain labels "
                f"({', '.join(sorted(labels))}); browsers honour at most "
                f"{MAX_RELATED_ORIGIN_LABELS} (WebAuthn related origins, maxLabels)"
            )

    def _check_rate_limits(self) -> None:
        for name, value in (
            ("RATE_LIMIT_CEREMONY", self.rate_limit_ceremony),
            ("RATE_LIMIT_SIGNUP", self.rate_limit_signup),
            ("RATE_LIMIT_ACCOUNT", self.rate_limit_account),
            ("RATE_LIMIT_PASSKEYS", self.rate_limit_passkeys),
            ("RATE_LIMIT_ADMIN", self.rate_limit_admin),
            ("RATE_LIMIT_RECOVERY", self.rate_limit_recovery),
            ("RATE_LIMIT_RECOVERY_ACCOUNT", self.rate_limit_recovery_account),
        ):
            try:
                items = parse_many(value)
            except ValueError as exc:
                raise ConfigError(
                    f"{name} must be rate limits like '30/minute;300/hour', got {value!r}"
                ) from exc
            if any(item.amount < 1 for item in items):
                raise ConfigError(f"{name} must allow at least 1 request per window")
        if not 1 <= self.rate_limit_credential_failures <= 1000:
            raise ConfigError("RATE_LIMIT_CREDENTIAL_FAILURES must be between 1 and 1000")
        if not 1 <= self.rate_limit_credential_delay <= self.rate_limit_credential_delay_max:
            raise ConfigError(
                "RATE_LIMIT_CREDENTIAL_DELAY must be at least 1 and at most "
                "RATE_LIMIT_CREDENTIAL_DELAY_MAX"
            )
        if self.rate_limit_credential_delay_max > 86_400:
            raise ConfigError("RATE_LIMIT_CREDENTIAL_DELAY_MAX must be at most 86400 seconds")

    def _check_sessions(self) -> None:
        low, high = SESSION_IDLE_RANGE
        if not low <= self.session_idle_timeout <= high:
            raise ConfigError(f"SESSION_IDLE_TIMEOUT must be between {low} and {high} seconds")
        low, high = SESSION_LIFETIME_RANGE
        if not low <= self.session_lifetime <= high:
            raise ConfigError(f"SESSION_LIFETIME must be between {low} and {high} seconds")
        if self.session_idle_timeout > self.session_lifetime:
            raise ConfigError("SESSION_IDLE_TIMEOUT must not be longer than SESSION_LIFETIME")

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
