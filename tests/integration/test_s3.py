"""S3 through boto3 against a real S3 server on loopback (moto in server mode, started here)."""

import gzip
import hashlib
import os
import shutil

import duckdb
import pytest

from connectors.s3 import S3Inbox, S3LandingStore, S3Url, StorageError, make_client
from mediarecon.alerts.store import store_for
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.ingest.tabular import land_remote_source, validate_source
from mediarecon.state.home import Home
from mediarecon.state.manifest import Manifest
from mediarecon.settings import Settings
from mediarecon.ingest.sources import LANDED_ONLY, SOURCES
from simulators.s3_demo import SENDER_BUCKET, WAREHOUSE_BUCKET, LocalS3
from tests.conftest import copy_inbox

CM360 = ("Report Name,test\n\nReport Fields\n"
         "Date,Advertiser,Advertiser ID,Campaign,Campaign External ID,Placement,Placement ID,Placement External ID,"
         "Site (CM360),Creative,Creative ID,Impressions,Clicks,Active View: Viewable Impressions,Media Cost\n"
         "2025-03-01,SPF,7000015,Grippe,CMP-2025-0001,P1,300000001,2500000001-001,Teads,V1,150000001,1000,3,600,8.00\n")


@pytest.fixture(scope="module")
def s3():
    with LocalS3() as server:
        yield server


@pytest.fixture
def clean_buckets(s3):
    for bucket in (SENDER_BUCKET, WAREHOUSE_BUCKET):
        for page in s3.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.client.delete_object(Bucket=bucket, Key=obj["Key"])
    return s3


def test_landing_store_no_op_on_same_bytes_and_multipart_for_a_50_mb_file(clean_buckets, tmp_path):
    s3 = clean_buckets
    store = S3LandingStore(s3.client, S3Url.parse(s3.landing_url), tmp_path / "cache",
                           multipart_threshold=8 * 2**20, multipart_chunk=8 * 2**20)
    big = tmp_path / "big.csv"
    big.write_bytes(os.urandom(50 * 2**20))
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    obj = store.put("ad_server", big, sha)
    assert obj.is_new and obj.key == f"landing/ad_server/{sha}.csv"
    head = s3.client.head_object(Bucket=WAREHOUSE_BUCKET, Key=obj.key)
    assert head["ContentLength"] == 50 * 2**20 and head["ETag"].strip('"').endswith("-7")  # 7 parts of 8 MiB
    assert head["Metadata"]["sha256"] == sha
    assert not store.put("ad_server", big, sha).is_new
    assert hashlib.sha256(store.fetch(obj.key).read_bytes()).hexdigest() == sha


def test_sender_objects_are_ingested_once_per_content(clean_buckets, tmp_path):
    s3 = clean_buckets
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest = Manifest(home.manifest)
    store = S3LandingStore(s3.client, S3Url.parse(s3.landing_url), tmp_path / "cache")
    inbox = S3Inbox(s3.client, S3Url.parse(s3.inbox_url))
    spec = SOURCES["ad_server"]
    key = "inbox/ad_server/cm360_spf_2025-03.csv.gz"
    s3.client.put_object(Bucket=SENDER_BUCKET, Key=key, Body=gzip.compress(CM360.encode(), mtime=0))

    def land():
        return land_remote_source(spec, inbox, store, manifest, "r", tmp_path / "scratch")

    assert land() == 1
    assert land() == 0  # same object, same ETag: not even downloaded again
    s3.client.put_object(Bucket=SENDER_BUCKET, Key=key, Body=gzip.compress(CM360.encode(), mtime=0))
    assert land() == 0  # re-uploaded with the same bytes: nothing new
    s3.client.put_object(Bucket=SENDER_BUCKET, Key=key, Body=gzip.compress(CM360.replace("1000,3", "1200,4")
                                                                          .encode(), mtime=0))
    assert land() == 1  # different bytes: a new version, the old one kept
    landed = s3.client.list_objects_v2(Bucket=WAREHOUSE_BUCKET, Prefix="landing/ad_server/")["Contents"]
    assert len(landed) == 2 and all(o["Key"].endswith(".csv.gz") for o in landed)
    assert s3.client.head_object(Bucket=SENDER_BUCKET, Key=key)  # the sender's object is untouched
    outcomes = validate_source(home, spec, manifest, store, "r")
    assert [o.status for o in outcomes] == ["validated", "validated"]  # the gzipped reports parse
    # e-invoice copies are landed as received, for the e-invoice step to parse
    s3.client.put_object(Bucket=SENDER_BUCKET, Key="inbox/einvoices/F-2025-001.xml", Body=b"<Invoice/>")
    s3.client.put_object(Bucket=SENDER_BUCKET, Key="inbox/einvoices/notes.txt", Body=b"not an invoice")
    assert land_remote_source(LANDED_ONLY["einvoices"], inbox, store, manifest, "r", tmp_path / "scratch") == 1
    assert [r["status"] for r in manifest.files() if r["source"] == "einvoices"] == ["landed"]
    impressions = duckdb.sql(f"select impressions from read_parquet('{home.validated}/ad_server/*.parquet')"
                             " order by 1").fetchall()
    assert impressions == [(1000,), (1200,)]


def test_s3_down_mid_run_is_a_clear_error_then_the_next_run_completes(clean_buckets, tmp_path):
    s3 = clean_buckets
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest = Manifest(home.manifest)
    for n in range(5):
        s3.client.put_object(Bucket=SENDER_BUCKET, Key=f"inbox/ad_server/r{n}.csv",
                             Body=CM360.replace("1000,3", f"{1000 + n},3").encode())
    # the landing zone is on a second S3 server that goes away after two uploads
    down = LocalS3().start()
    try:
        down_client = make_client(down.endpoint_url, os.environ["AWS_REGION"])
        puts = []

        def outage(**_):
            puts.append(1)
            if len(puts) == 3:
                down.server.stop()

        down_client.meta.events.register("before-send.s3.PutObject", outage)
        store = S3LandingStore(down_client, S3Url.parse(down.landing_url), tmp_path / "cache")
        inbox = S3Inbox(s3.client, S3Url.parse(s3.inbox_url))
        with pytest.raises(StorageError, match=r"S3 upload to s3://mediarecon-landing/landing/ad_server/\w+\.csv"):
            land_remote_source(SOURCES["ad_server"], inbox, store, manifest, "r1", tmp_path / "scratch")
    finally:
        down.stop()
    assert len([r for r in manifest.files() if r["source"] == "ad_server"]) == 2  # only complete uploads count
    store = S3LandingStore(s3.client, S3Url.parse(s3.landing_url), tmp_path / "cache2")
    assert land_remote_source(SOURCES["ad_server"], inbox, store, manifest, "r2", tmp_path / "scratch") == 3
    assert len(manifest.files()) == 5


@pytest.mark.usefixtures("prefect_server")
def test_nightly_on_s3_gives_the_same_marts_as_local(clean_buckets, state_year, tmp_path):
    from mediarecon.flows.nightly_reconciliation import nightly_reconciliation
    from tests.integration.nightly import marts

    s3 = clean_buckets
    local_home = copy_inbox(state_year, tmp_path / "local")
    saved = {k: os.environ.pop(k) for k in list(s3.env)}  # the local run uses no S3 at all
    try:
        nightly_reconciliation(home=str(local_home))
    finally:
        os.environ.update(saved)
    s3.upload_inbox(state_year / "inbox")
    s3_home = tmp_path / "s3"
    first = nightly_reconciliation(home=str(s3_home))
    assert not (s3_home / "inbox").exists() or not any((s3_home / "inbox").rglob("*.csv"))
    assert not any((s3_home / "landing").glob("*/*.csv"))  # landed in the bucket, not locally
    landed = sum(1 for page in s3.client.get_paginator("list_objects_v2").paginate(
        Bucket=WAREHOUSE_BUCKET, Prefix="landing/") for _ in page.get("Contents", []))
    received = [p for p in (state_year / "inbox").rglob("*") if p.is_file()]  # CSV, XLSX, Factur-X PDF
    assert landed == first["files_processed"] == len(received)
    compiled = next((s3_home / "runs" / "dbt" / "target").rglob("stg_ad_server__deliveries.sql")).read_text()
    assert "read_parquet('s3://mediarecon-landing/validated/ad_server/*.parquet'" in compiled
    assert marts(s3_home) == marts(local_home)
    second = nightly_reconciliation(home=str(s3_home))
    assert second["files_processed"] == 0 and marts(s3_home) == marts(local_home)
    shutil.rmtree(tmp_path / "local", ignore_errors=True)


@pytest.mark.usefixtures("prefect_server")
def test_an_unreachable_sender_bucket_does_not_hold_back_the_rest_of_the_night(clean_buckets, state_year, tmp_path,
                                                                                monkeypatch):
    from mediarecon.flows.nightly_reconciliation import nightly_reconciliation

    home = copy_inbox(state_year, tmp_path / "home")  # the files dropped locally arrive as usual...
    monkeypatch.setenv("MEDIARECON_S3_INBOX_URL", "s3://no-such-sender-bucket/inbox")  # ...the bucket is gone
    summary = nightly_reconciliation(home=str(home))
    received = [p for p in (state_year / "inbox").rglob("*") if p.is_file()]
    assert summary["files_processed"] == len(received)
    [(source, reason)] = summary["sources_unavailable"].items()  # one bucket, one entry: not one per folder
    assert source == "s3_inbox" and reason.startswith("S3 inbox s3://no-such-sender-bucket/inbox: ")
    assert reason.endswith("not landed from it tonight: " + ", ".join(INBOX_FOLDERS))
    [alert] = store_for(Home(home)).alerts(status="open", rule="source_unavailable")
    assert alert["entity_key"] == "s3_inbox"
    assert "## Sources not reached tonight" in (home / "runs" / f"{summary['run_id']}.md").read_text(encoding="utf-8")
