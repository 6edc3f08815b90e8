"""One settings object, read from MEDIARECON_* environment variables (see .env.example)."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from schemas.sources import LANDED_ONLY, SOURCES

PREFIX = "MEDIARECON_"


class SettingsError(ValueError):
    pass


def _env(name: str, default: str | None) -> str | None:
    return os.environ.get(PREFIX + name, default)


def _number(name: str, default: str, cast=float, lo=None, hi=None):
    raw = _env(name, default)
    try:
        value = cast(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name}={raw!r} is not a number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise SettingsError(f"{PREFIX}{name}={raw!r} must be between {lo} and {hi}")
    return value


@dataclass(frozen=True)
class Home:
    """The one folder that holds all state."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def manifest(self) -> Path:
        return self.landing / "manifest.sqlite"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def validated(self) -> Path:
        return self.root / "validated"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def published_db(self) -> Path:
        return self.warehouse_dir / "mediarecon.duckdb"

    @property
    def previous_db(self) -> Path:
        return self.warehouse_dir / "mediarecon.prev.duckdb"

    @property
    def build_db(self) -> Path:
        # Same basename as the published file: DuckDB catalogs are named after it (views keep the name).
        return self.warehouse_dir / "build" / "mediarecon.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def ensure(self) -> "Home":
        for d in [self.landing, self.quarantine, self.validated, self.warehouse_dir / "build",
                  self.exports, self.runs] + [self.inbox / s for s in [*SOURCES, *LANDED_ONLY]]:
            d.mkdir(parents=True, exist_ok=True)
        return self


class Secret:
    """A secret value (a password, a client secret, an alert URL that may carry one). It prints as ***
    everywhere (repr, str, f-strings, logs, exceptions) and refuses to be pickled, so that it can never
    be stored by Prefect or sent to another process by accident; `reveal()` where it is used."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None):
        self._value = value or ""

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce_ex__(self, protocol):
        raise TypeError("a Secret is never serialised (pass plain parameters and rebuild the settings)")


# The Chorus Pro credentials: no default, the demo and the tests set their own.
CHORUS_CREDENTIALS = ("CLIENT_ID", "CLIENT_SECRET", "LOGIN", "PASSWORD")


@dataclass(frozen=True)
class ChorusSettings:
    """PISTE OAuth2 application + Chorus Pro technical account. The URLs default to the simulator on
    loopback; the credentials have no default."""

    enabled: bool
    token_url: str
    api_url: str
    client_id: Secret
    client_secret: Secret
    login: Secret
    password: Secret
    scope: str = "openid"
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_s: float = 1.0
    page_size: int = 100
    sync_overlap_minutes: int = 60
    sync_from: str = "2020-01-01T00:00:00+00:00"
    download_documents: bool = True

    @classmethod
    def from_env(cls) -> "ChorusSettings":
        settings = cls(
            enabled=(_env("CHORUS_ENABLED", "false") or "").lower() in ("1", "true", "yes"),
            token_url=_env("CHORUS_TOKEN_URL", "http://127.0.0.1:8765/api/oauth/token"),
            api_url=_env("CHORUS_API_URL", "http://127.0.0.1:8765").rstrip("/"),
            client_id=Secret(_env("CHORUS_CLIENT_ID", "")),
            client_secret=Secret(_env("CHORUS_CLIENT_SECRET", "")),
            login=Secret(_env("CHORUS_LOGIN", "")),
            password=Secret(_env("CHORUS_PASSWORD", "")),
            scope=_env("CHORUS_SCOPE", "openid"),
            connect_timeout_s=_number("CHORUS_CONNECT_TIMEOUT_S", "5", lo=0.1),
            read_timeout_s=_number("CHORUS_READ_TIMEOUT_S", "30", lo=0.1),
            max_attempts=_number("CHORUS_MAX_ATTEMPTS", "5", cast=int, lo=1, hi=20),
            backoff_s=_number("CHORUS_BACKOFF_S", "1", lo=0),
            page_size=_number("CHORUS_PAGE_SIZE", "100", cast=int, lo=1, hi=1000),
            sync_overlap_minutes=_number("CHORUS_SYNC_OVERLAP_MINUTES", "60", cast=int, lo=0),
            sync_from=_env("CHORUS_SYNC_FROM", "2020-01-01T00:00:00+00:00"),
            download_documents=(_env("CHORUS_DOWNLOAD_DOCUMENTS", "true") or "").lower() in ("1", "true", "yes"),
        )
        if settings.enabled:
            settings.require_credentials("MEDIARECON_CHORUS_ENABLED=true")
        return settings

    def require_credentials(self, why: str) -> None:
        """Stop, naming every credential variable that is not set."""
        missing = [PREFIX + "CHORUS_" + n for n in CHORUS_CREDENTIALS if not getattr(self, n.lower())]
        if missing:
            raise SettingsError(f"{why} needs {', '.join(missing)}: {'it is' if len(missing) == 1 else 'they are'}"
                                " not set (the Chorus Pro credentials have no default; docs/chorus_pro.md)")

    def __repr__(self) -> str:  # never print a secret
        return (f"ChorusSettings(enabled={self.enabled}, token_url={self.token_url!r}, api_url={self.api_url!r},"
                f" client_id=***, login=***, password=***, client_secret=***)")


# a size as DuckDB reads it: KB, MB… are powers of 1000; KiB, MiB… of 1024
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT])(i?)B$", re.IGNORECASE)


@dataclass(frozen=True)
class ReaderSettings:
    """Limits of the one connection every read path uses on the published warehouse (mediarecon.reader)."""

    timeout_s: float = 300.0
    memory_limit: str = "2GB"
    threads: int = 2
    max_rows: int = 1_000_000

    @property
    def memory_limit_bytes(self) -> int:
        number, unit, binary = _MEMORY.match(self.memory_limit).groups()
        return int(float(number) * (1024 if binary else 1000) ** ("KMGT".index(unit.upper()) + 1))

    @classmethod
    def from_env(cls) -> "ReaderSettings":
        memory = (_env("QUERY_MEMORY_LIMIT", "2GB") or "").strip()
        if not _MEMORY.match(memory):
            raise SettingsError(f"{PREFIX}QUERY_MEMORY_LIMIT={memory!r} is not a size such as 2GB or 512MB")
        return cls(timeout_s=_number("QUERY_TIMEOUT_S", "300", lo=0.1, hi=86400),
                   memory_limit=memory,
                   threads=_number("QUERY_THREADS", "2", cast=int, lo=1, hi=64),
                   max_rows=_number("QUERY_MAX_ROWS", "1000000", cast=int, lo=1))


@dataclass(frozen=True)
class StorageSettings:
    """Where the landing zone, the senders' files and the validated Parquet live: local folders under
    the home (the default, nothing to set) or S3 URLs. Credentials come from the standard AWS chain."""

    landing_url: str | None = None  # s3://bucket/prefix for the landing zone
    inbox_url: str | None = None  # s3://sender-bucket/prefix, laid out like inbox/ (<source>/...)
    validated_url: str | None = None  # s3://bucket/prefix for the validated Parquet read by dbt
    endpoint_url: str | None = None  # any S3-compatible store
    region: str | None = None

    @classmethod
    def from_env(cls) -> "StorageSettings":
        def url(name):
            value = (_env(name, "") or "").strip()
            if value and not value.startswith("s3://"):
                raise SettingsError(f"{PREFIX}{name}={value!r} must be an s3://bucket/prefix URL (or unset)")
            return value or None

        return cls(
            landing_url=url("LANDING_URL"),
            inbox_url=url("S3_INBOX_URL"),
            validated_url=url("VALIDATED_URL"),
            endpoint_url=(_env("S3_ENDPOINT_URL", "") or None),
            region=_env("S3_REGION", os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")),
        )


@dataclass(frozen=True)
class Settings:
    home: Home
    under_delivery_tolerance_pct: float = 10.0
    invoice_tolerance_pct: float = 0.5
    invoice_tolerance_eur: float = 1.0
    as_of_date: dt.date | None = None
    dbt_threads: int = 1
    chorus: ChorusSettings | None = None
    storage: StorageSettings = StorageSettings()
    reader: ReaderSettings = ReaderSettings()
    alert_urls: Secret = Secret("")  # apprise URLs, comma-separated, optionally `name=url`: may carry passwords

    @property
    def alert_channels(self) -> dict[str, str]:
        from mediarecon.alert_rules import parse_channels

        return parse_channels(self.alert_urls.reveal())

    def alert_rules(self):
        """The alert rules file (MEDIARECON_ALERT_RULES, else <home>/alert_rules.yml, else the shipped
        default), checked against the configured channels."""
        from mediarecon.alert_rules import load_rules, rules_path

        return load_rules(rules_path(self.home.root), self.alert_channels)

    @classmethod
    def from_env(cls, home: str | Path | None = None) -> "Settings":
        root = Path(home or _env("HOME", "./var")).expanduser().resolve()
        as_of = _env("AS_OF_DATE", None)
        try:
            as_of_date = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise SettingsError(f"{PREFIX}AS_OF_DATE={as_of!r} is not a YYYY-MM-DD date")
        return cls(
            home=Home(root),
            under_delivery_tolerance_pct=_number("UNDER_DELIVERY_TOLERANCE_PCT", "10", lo=0, hi=100),
            invoice_tolerance_pct=_number("INVOICE_TOLERANCE_PCT", "0.5", lo=0, hi=100),
            invoice_tolerance_eur=_number("INVOICE_TOLERANCE_EUR", "1", lo=0),
            as_of_date=as_of_date,
            dbt_threads=_number("DBT_THREADS", "1", cast=int, lo=1, hi=16),
            chorus=ChorusSettings.from_env(),
            storage=StorageSettings.from_env(),
            reader=ReaderSettings.from_env(),
            alert_urls=Secret(_env("ALERT_URLS", "")),
        )

    def dbt_vars(self) -> dict:
        return {
            **self.alert_rules().dbt_vars(),
            "under_delivery_tolerance_pct": self.under_delivery_tolerance_pct,
            "invoice_tolerance_pct": self.invoice_tolerance_pct,
            "invoice_tolerance_eur": self.invoice_tolerance_eur,
            "as_of_date": (self.as_of_date or dt.date.today()).isoformat(),
        }
