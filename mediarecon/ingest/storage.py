"""Which landing store, sender inbox and validated location a run uses, from the settings."""

from __future__ import annotations

import glob
import os

import boto3

from connectors.landing_store import LandingStore, LocalLandingStore
from connectors.s3 import S3Inbox, S3LandingStore, S3Mirror, S3Url, make_client
from mediarecon.settings import Settings


def _client(settings: Settings):
    return make_client(settings.storage.endpoint_url, settings.storage.region)


def landing_store(settings: Settings) -> LandingStore:
    st = settings.storage
    if st.landing_url:
        return S3LandingStore(_client(settings), S3Url.parse(st.landing_url),
                              cache_dir=settings.home.root / "landing_cache")
    return LocalLandingStore(settings.home.landing)


def s3_inbox(settings: Settings) -> S3Inbox | None:
    st = settings.storage
    return S3Inbox(_client(settings), S3Url.parse(st.inbox_url)) if st.inbox_url else None


def validated_mirror(settings: Settings) -> S3Mirror | None:
    st = settings.storage
    return S3Mirror(_client(settings), S3Url.parse(st.validated_url)) if st.validated_url else None


def validated_location(settings: Settings) -> str:
    """What dbt's sources read: the local validated folder, or its S3 mirror."""
    return str(S3Url.parse(settings.storage.validated_url)) if settings.storage.validated_url \
        else str(settings.home.validated)


def install_httpfs() -> None:
    """DuckDB cannot download extensions here: install httpfs from the duckdb-extension-httpfs package
    (same version as duckdb); DuckDB then autoloads it for s3:// paths."""
    import duckdb
    import duckdb_extension_httpfs

    found = glob.glob(os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "**",
                                   "httpfs.duckdb_extension"), recursive=True)
    if not found:
        raise RuntimeError("duckdb-extension-httpfs is installed but carries no httpfs.duckdb_extension")
    con = duckdb.connect()
    try:
        con.execute(f"install '{found[0]}'")
    finally:
        con.close()


def duckdb_s3_environment(settings: Settings) -> dict[str, str]:
    """DuckDB S3 settings for dbt, with credentials resolved by boto3's standard chain (blank when the
    validated Parquet is local, so that nothing of an earlier run lingers in the process)."""
    st = settings.storage
    if not st.validated_url:
        return {k: "" for k in ("MEDIARECON_DUCKDB_S3_ACCESS_KEY_ID", "MEDIARECON_DUCKDB_S3_SECRET_ACCESS_KEY",
                                "MEDIARECON_DUCKDB_S3_SESSION_TOKEN")}
    creds = boto3.session.Session().get_credentials()
    if creds is None:
        raise RuntimeError("MEDIARECON_VALIDATED_URL is on S3 but no AWS credentials were found in the standard"
                           " chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance role)")
    frozen = creds.get_frozen_credentials()
    endpoint = st.endpoint_url or ""
    return {
        "MEDIARECON_DUCKDB_S3_ACCESS_KEY_ID": frozen.access_key,
        "MEDIARECON_DUCKDB_S3_SECRET_ACCESS_KEY": frozen.secret_key,
        "MEDIARECON_DUCKDB_S3_SESSION_TOKEN": frozen.token or "",
        "MEDIARECON_DUCKDB_S3_REGION": st.region or "us-east-1",
        "MEDIARECON_DUCKDB_S3_ENDPOINT": endpoint.split("://", 1)[-1] if endpoint else "s3.amazonaws.com",
        "MEDIARECON_DUCKDB_S3_USE_SSL": "false" if endpoint.startswith("http://") else "true",
        "MEDIARECON_DUCKDB_S3_URL_STYLE": "path" if endpoint else "vhost",
    }
