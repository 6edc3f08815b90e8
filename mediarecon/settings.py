"""One typed settings object per process, read from MEDIARECON_* environment variables and from a `.env`
file in the working directory (the environment wins; every variable is listed in .env.example).

A wrong value stops at start with one line naming the variable: `MEDIARECON_CHORUS_ENABLED='ture' is not
true or false`. Each group is a pydantic-settings class; constructing one directly reads the environment
for the fields not given.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from connectors.chorus_pro import ChorusProConfig
from connectors.secret import Secret
from mediarecon.state.home import Home

PREFIX = "MEDIARECON_"
ENV_FILE = ".env"


class SettingsError(ValueError):
    pass


def _config(prefix: str) -> SettingsConfigDict:
    # empty values count as unset (`MEDIARECON_ALERT_URLS=` in .env.example); unknown variables are ignored
    return SettingsConfigDict(env_prefix=prefix, env_file=ENV_FILE, env_file_encoding="utf-8", env_ignore_empty=True,
                              extra="ignore", frozen=True, validate_default=True)


_WHAT = {"float_parsing": "is not a number", "int_parsing": "is not a whole number", "int_from_float": "is not a whole number",
         "bool_parsing": "is not true or false", "date_from_datetime_parsing": "is not a YYYY-MM-DD date",
         "date_parsing": "is not a YYYY-MM-DD date"}


def _explain(cls: type[BaseSettings], error: ValidationError) -> SettingsError:
    """The first error as `MEDIARECON_X='value' <what is wrong>`."""
    e = error.errors(include_url=False)[0]
    name = str(e["loc"][0]) if e["loc"] else ""
    aliases = {f.validation_alias.choices[0]: n for n, f in cls.model_fields.items()
               if isinstance(f.validation_alias, AliasChoices)}
    # an aliased field is reported under the variable's own name
    var = name if name in aliases else cls.model_config["env_prefix"] + name.upper()
    field = cls.model_fields.get(aliases.get(name, name))
    raw = e.get("input")
    if e["type"] in ("greater_than_equal", "less_than_equal") and field is not None:
        lo = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), None)
        hi = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
        what = (f"must be between {lo} and {hi}" if lo is not None and hi is not None
                else f"must be at least {lo}" if lo is not None else f"must be at most {hi}")
    else:
        what = _WHAT.get(e["type"]) or e["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    return SettingsError(f"{var}={raw!r} {what}")


class _Group(BaseSettings):
    @classmethod
    def from_env(cls, **given):
        try:
            return cls(**given)
        except ValidationError as e:
            raise _explain(cls, e) from None


class ChorusSettings(_Group):
    """PISTE OAuth2 application + Chorus Pro technical account (the connector's ChorusProConfig), and how
    the sync walks. The URLs default to the simulator on loopback; the credentials have no default."""

    model_config = _config(PREFIX + "CHORUS_")

    enabled: bool = False
    token_url: str = "http://127.0.0.1:8765/api/oauth/token"
    api_url: str = "http://127.0.0.1:8765"
    client_id: Secret = Secret("")
    client_secret: Secret = Secret("")
    login: Secret = Secret("")
    password: Secret = Secret("")
    scope: str = "openid"
    connect_timeout_s: Annotated[float, Field(ge=0.1)] = 5.0
    read_timeout_s: Annotated[float, Field(ge=0.1)] = 30.0
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    backoff_s: Annotated[float, Field(ge=0)] = 1.0
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100
    sync_overlap_minutes: Annotated[int, Field(ge=0)] = 60
    sync_from: str = "2020-01-01T00:00:00+00:00"
    download_documents: bool = True
    concurrency: Annotated[int, Field(ge=1, le=16)] = 4  # calls in flight at once (one token, one pause)

    @field_validator("api_url")
    @classmethod
    def _no_trailing_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @classmethod
    def from_env(cls, **given) -> "ChorusSettings":
        settings = super().from_env(**given)
        if settings.enabled:
            settings.require_credentials("MEDIARECON_CHORUS_ENABLED=true")
        return settings

    def require_credentials(self, why: str) -> None:
        """Stop, naming every credential variable that is not set (they have no default: the demo and the
        tests set their own)."""
        missing = [PREFIX + "CHORUS_" + n.upper() for n in self.client_config().missing_credentials()]
        if missing:
            raise SettingsError(f"{why} needs {', '.join(missing)}: {'it is' if len(missing) == 1 else 'they are'}"
                                " not set (the Chorus Pro credentials have no default; docs/chorus_pro.md)")

    def client_config(self) -> ChorusProConfig:
        return ChorusProConfig(**{name: getattr(self, name) for name in ChorusProConfig.__dataclass_fields__})


# a size as DuckDB reads it: KB, MB… are powers of 1000; KiB, MiB… of 1024
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT])(i?)B$", re.IGNORECASE)


def _size(v: str) -> str:
    if not _MEMORY.match(v.strip()):
        raise ValueError("is not a size such as 2GB or 512MB")
    return v.strip()


def size_bytes(v: str) -> int:
    """A size such as 2GB (10^9) or 2GiB (2^30) in bytes."""
    number, unit, binary = _MEMORY.match(v.strip()).groups()
    return int(float(number) * (1024 if binary else 1000) ** ("KMGT".index(unit.upper()) + 1))


class ReaderSettings(_Group):
    """Limits of the one connection every read path uses on the published warehouse (warehouse.reader)."""

    model_config = _config(PREFIX + "QUERY_")

    timeout_s: Annotated[float, Field(ge=0.1, le=86400)] = 300.0
    memory_limit: str = "2GB"
    threads: Annotated[int, Field(ge=1, le=64)] = 2
    max_rows: Annotated[int, Field(ge=1)] = 1_000_000

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, v: str) -> str:
        return _size(v)

    @property
    def memory_limit_bytes(self) -> int:
        return size_bytes(self.memory_limit)


class WebSettings(_Group):
    """The dashboard (`mediarecon web`, docs/dashboard.md)."""

    model_config = _config(PREFIX + "WEB_")

    session_hours: Annotated[float, Field(ge=0.01, le=168)] = 8.0  # a session cookie's lifetime
    login_delay_s: Annotated[float, Field(ge=0, le=30)] = 1.0  # every failed login waits this long
    # behind the ministry's TLS reverse proxy: the cookie is sent over HTTPS only
    secure_cookie: bool = False


class StorageSettings(_Group):
    """Where the landing zone, the senders' files and the validated Parquet live: local folders under
    the home (the default, nothing to set) or S3 URLs. Credentials come from the standard AWS chain."""

    model_config = _config(PREFIX)

    # s3://bucket/prefix for the landing zone; s3://sender-bucket/prefix laid out like inbox/; s3://bucket/prefix
    # for the validated Parquet read by dbt; any S3-compatible store; its region
    landing_url: str | None = Field(None, validation_alias=AliasChoices("MEDIARECON_LANDING_URL"))
    inbox_url: str | None = Field(None, validation_alias=AliasChoices("MEDIARECON_S3_INBOX_URL"))
    validated_url: str | None = Field(None, validation_alias=AliasChoices("MEDIARECON_VALIDATED_URL"))
    endpoint_url: str | None = Field(None, validation_alias=AliasChoices("MEDIARECON_S3_ENDPOINT_URL"))
    region: str | None = Field(None, validation_alias=AliasChoices("MEDIARECON_S3_REGION", "AWS_REGION",
                                                                   "AWS_DEFAULT_REGION"))

    @field_validator("landing_url", "inbox_url", "validated_url")
    @classmethod
    def _s3(cls, v: str | None) -> str | None:
        v = (v or "").strip()
        if v and not v.startswith("s3://"):
            raise ValueError("must be an s3://bucket/prefix URL (or unset)")
        return v or None


class Settings(_Group):
    model_config = _config(PREFIX)

    home: Annotated[Home, NoDecode] = Field(default_factory=lambda: Home(Path("./var").resolve()))  # a path, not JSON
    under_delivery_tolerance_pct: Annotated[float, Field(ge=0, le=100)] = 10.0
    invoice_tolerance_pct: Annotated[float, Field(ge=0, le=100)] = 0.5
    invoice_tolerance_eur: Annotated[float, Field(ge=0)] = 1.0
    as_of_date: dt.date | None = None
    # CCAP 11.10.2-11.10.3: days an advertiser has, from an order's first invoice, to admit, reduce or reject it
    admission_delay_days: Annotated[int, Field(ge=1, le=365)] = 30
    # dbt runs independent models side by side, two per core by default: much of a node's time is dbt's own
    # Python, which another node's query overlaps (scale 1, 2 cores, DuckDB: 25 s with 2 threads, 20 s with 4
    # or 6; Spark at scale 0.05: 104 s with 2, 93 s with 4, 96 s with 6)
    dbt_threads: Annotated[int, Field(ge=1, le=16)] = Field(default_factory=lambda: min(2 * (os.cpu_count() or 1), 16))
    # DuckDB's own default is 80 % of the machine: the build spills to warehouse/build/ beyond this
    build_memory_limit: str = "2GB"
    # dbt's unit tests check the project's SQL on fixed inputs, not the night's data: CI runs them on both
    # engines (`make test`), as dbt advises; a nightly runs them too only when this is true
    dbt_unit_tests: bool = False
    # the engine of the dbt build (docs/scale_out.md); readers always read the published DuckDB file
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[2]"  # local[N], local[*] or spark://host:port
    inbox_settle_s: Annotated[float, Field(ge=0, le=86400)] = 60.0  # a file modified more recently waits a run
    chorus: ChorusSettings = Field(default_factory=ChorusSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    reader: ReaderSettings = Field(default_factory=ReaderSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    alert_urls: Secret = Secret("")  # apprise URLs, comma-separated, optionally `name=url`: may carry passwords
    alert_rules: Path | None = None  # the rules file (alerts.rules.rules_path: else the home's, else the shipped one)

    @field_validator("home", mode="before")
    @classmethod
    def _home(cls, v) -> Home:
        return v if isinstance(v, Home) else Home(Path(v).expanduser().resolve())

    @field_validator("build_memory_limit")
    @classmethod
    def _build_size(cls, v: str) -> str:
        return _size(v)

    @field_validator("spark_master")
    @classmethod
    def _master(cls, v: str) -> str:
        if not re.fullmatch(r"local(\[(\d+|\*)\])?|spark://[\w.-]+:\d+(,[\w.-]+:\d+)*", v.strip()):
            raise ValueError("is not local[N], local[*] or spark://host:port")
        return v.strip()

    @field_validator("alert_rules")
    @classmethod
    def _absolute(cls, v: Path | None) -> Path | None:
        return v.expanduser().resolve() if v else None

    @classmethod
    def from_env(cls, home: str | Path | None = None) -> "Settings":
        """The settings of this process; `home` (the --home option) wins over MEDIARECON_HOME."""
        groups = {"chorus": ChorusSettings.from_env(), "storage": StorageSettings.from_env(),
                  "reader": ReaderSettings.from_env(), "web": WebSettings.from_env()}
        return super().from_env(**groups, **({"home": home} if home else {}))

    def dbt_vars(self, alert_rules) -> dict:
        """The vars of a build: the thresholds of the alert rules file (alerts.rules.AlertRules), the
        tolerances and the as-of date."""
        return {
            **alert_rules.dbt_vars(),
            "under_delivery_tolerance_pct": self.under_delivery_tolerance_pct,
            "invoice_tolerance_pct": self.invoice_tolerance_pct,
            "invoice_tolerance_eur": self.invoice_tolerance_eur,
            "admission_delay_days": self.admission_delay_days,
            "as_of_date": (self.as_of_date or dt.date.today()).isoformat(),
        }
