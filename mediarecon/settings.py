"""One settings object, read from MEDIARECON_* environment variables (see .env.example)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
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


DEMO_CHORUS = {
    "TOKEN_URL": "http://127.0.0.1:8765/api/oauth/token",
    "API_URL": "http://127.0.0.1:8765",
    "CLIENT_ID": "mediarecon-demo",
    "CLIENT_SECRET": "demo-client-secret",
    "LOGIN": "TECH_mediarecon_demo@cpro.fr",
    "PASSWORD": "demo-technical-password",
}


@dataclass(frozen=True)
class ChorusSettings:
    """PISTE OAuth2 application + Chorus Pro technical account; the demo defaults are the simulator's."""

    enabled: bool
    token_url: str
    api_url: str
    client_id: str
    client_secret: str
    login: str
    password: str
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
        def val(name):
            return _env("CHORUS_" + name, DEMO_CHORUS.get(name))

        return cls(
            enabled=(_env("CHORUS_ENABLED", "false") or "").lower() in ("1", "true", "yes"),
            token_url=val("TOKEN_URL"),
            api_url=val("API_URL").rstrip("/"),
            client_id=val("CLIENT_ID"),
            client_secret=val("CLIENT_SECRET"),
            login=val("LOGIN"),
            password=val("PASSWORD"),
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

    def __repr__(self) -> str:  # never print a secret
        return (f"ChorusSettings(enabled={self.enabled}, token_url={self.token_url!r}, api_url={self.api_url!r},"
                f" client_id={self.client_id!r}, login=***, password=***, client_secret=***)")


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
    alert_urls: str = field(default="", repr=False)  # apprise URLs, comma-separated, optionally `name=url` (never printed: secrets)

    @property
    def alert_channels(self) -> dict[str, str]:
        from mediarecon.alert_rules import parse_channels

        return parse_channels(self.alert_urls)

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
            alert_urls=_env("ALERT_URLS", "") or "",
        )

    def dbt_vars(self) -> dict:
        return {
            **self.alert_rules().dbt_vars(),
            "under_delivery_tolerance_pct": self.under_delivery_tolerance_pct,
            "invoice_tolerance_pct": self.invoice_tolerance_pct,
            "invoice_tolerance_eur": self.invoice_tolerance_eur,
            "as_of_date": (self.as_of_date or dt.date.today()).isoformat(),
        }
