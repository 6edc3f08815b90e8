"""Incremental Chorus Pro sync against the simulator over loopback: watermark, landing, resume."""

import datetime as dt
import json

import duckdb
import pytest
import requests

from connectors.chorus_pro import ChorusError, ChorusProClient
from connectors.landing_store import LocalLandingStore
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.ingest.chorus_pro import REPEAT, VALIDATE_BATCH, WATERMARK, ChorusSync
from mediarecon.state.manifest import Manifest
from mediarecon.settings import ChorusSettings, Settings
from simulators.chorus_pro import ChorusProSimulator, Faults


@pytest.fixture
def sim(state_year):
    with ChorusProSimulator(state_year, ChorusSettings.from_env().client_config(), faults=Faults()) as s:
        yield s


def syncer(sim, home, run_id):
    s = ChorusSettings.from_env().model_copy(update=dict(
        api_url=sim.url, token_url=sim.url + "/api/oauth/token", page_size=10, backoff_s=0.01, max_attempts=3,
        read_timeout_s=5))
    return ChorusSync(home, ChorusProClient(requests.Session(), s.client_config()), LocalLandingStore(home.landing),
                      Manifest(home.manifest), s, run_id)


def validated(home, source, columns):
    return duckdb.sql(f"select {columns} from read_parquet('{home.validated}/{source}/*.parquet')").fetchall()


def expected(state_year):
    return json.loads((state_year / "chorus" / "invoices.json").read_text(encoding="utf-8"))["invoices"]


def test_sync_twice_gives_the_same_rows(sim, tmp_path, state_year):
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    first = syncer(sim, home, "r1").run()
    invoices = expected(state_year)
    assert first.invoices == len(invoices) and first.pages == -(-len(invoices) // 10)
    ids = sorted(r[0] for r in validated(home, "chorus_invoices", "distinct invoice_id"))
    assert ids == sorted(i["idFacture"] for i in invoices)
    events = validated(home, "chorus_status_events", "count(*), count(distinct status_event_id)")[0]
    assert events[0] == events[1] == sum(len(i["historique"]) for i in invoices)
    assert Manifest(home.manifest).watermark(WATERMARK) == first.watermark
    # validated in a few door passes of up to VALIDATE_BATCH answers (one Parquet file each), not one per page
    passes = -(-(first.pages + first.invoices) // VALIDATE_BATCH)
    assert len(list((home.validated / "chorus_status_events").glob("*.parquet"))) <= passes < first.pages
    landed = sorted(p.name for p in (home.landing / "chorus_pro").iterdir())
    second = syncer(sim, home, "r2").run()
    assert second.watermark == first.watermark
    assert second.invoices < first.invoices  # only the overlap window is asked again
    assert sorted(r[0] for r in validated(home, "chorus_invoices", "distinct invoice_id")) == ids
    assert validated(home, "chorus_status_events", "count(*)")[0][0] == events[0]  # histories unchanged
    new = sorted(set(p.name for p in (home.landing / "chorus_pro").iterdir()) - set(landed))
    assert len(new) <= 1  # at most the overlap page, whose bytes differ from the full first page
    # kept as received, and marked as bringing nothing: the nightly then keeps its warehouse
    manifest = Manifest(home.manifest)
    by_r2 = manifest.processed_after("r1")
    assert len(by_r2) == len(new) and all(f["reason"] == REPEAT for f in by_r2)
    assert not any(f["reason"] == REPEAT for f in manifest.processed_after("r0") if f not in by_r2)
    docs = list((home.landing / "chorus_pro_documents").iterdir())
    assert docs and all(p.suffix in (".zip", ".xml") for p in docs)


def test_failure_mid_sync_keeps_the_watermark_and_the_next_run_resumes(sim, tmp_path, state_year):
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    manifest = Manifest(home.manifest)
    calls_before_fault = 40
    sync = syncer(sim, home, "r1")
    original = sync.client.invoice_history

    def flaky(id_facture, _count=[0]):
        _count[0] += 1
        if _count[0] == calls_before_fault:
            sim.faults.server_errors = 100  # the gateway goes down mid-run
        return original(id_facture)

    sync.client.invoice_history = flaky
    with pytest.raises(ChorusError, match="invoice_history: HTTP 500 after 3 attempts"):
        sync.run()
    assert manifest.watermark(WATERMARK) is None
    partial = validated(home, "chorus_status_events", "count(distinct invoice_id)")[0][0]
    assert 0 < partial < len(expected(state_year))
    sim.faults.server_errors = 0
    result = syncer(sim, home, "r2").run()
    assert result.watermark is not None
    ids = validated(home, "chorus_invoices", "distinct invoice_id")
    assert len(ids) == len(expected(state_year))  # no gap
    n, rows = validated(home, "chorus_status_events", "count(distinct status_event_id), count(*)")[0]
    # what the first run had landed came back with the same bytes: a no-op, so no duplicate either
    assert n == rows == sum(len(i["historique"]) for i in expected(state_year))


def test_invoices_moving_on_mid_read_shift_the_pages_and_none_is_missed(sim, tmp_path, state_year):
    """Page 1's invoices take a new status while the window is read: what was page 2 becomes page 1 of
    the shrunk list, and the last page disappears. Reading by page number would skip a whole page and
    move the watermark past it for ever."""
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    sim.faults.moving_page = 1
    first = syncer(sim, home, "r1").run()
    window = sorted(i["idFacture"] for i in expected(state_year))
    moved = sorted(i["idFacture"] for i in sim.invoices if i["statut"] == "PRISE_EN_COMPTE_DESTINATAIRE")
    assert len(moved) == 10
    assert sorted(r[0] for r in validated(home, "chorus_invoices", "distinct invoice_id")) == window
    assert first.invoices == len(window)  # each once, though the rows at a page's edge are read again
    # the moved ones come back with their new status in a later run: one whose window ends after their new
    # status time (a window ends on a whole second; a fast first run may leave the next in the same second,
    # which rightly leaves them to the run after it)
    syncer(sim, home, "r2").run(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))
    changed = [f for f in Manifest(home.manifest).processed_after("r1") if f["original_name"].startswith("search")]
    # the page showing the new statuses is news (a page of the overlap may still repeat)
    assert any(f["reason"] != REPEAT for f in changed)
    statuses = dict(duckdb.sql(f"select invoice_id, max_by(current_status, current_status_at) from read_parquet("
                               f"'{home.validated}/chorus_invoices/*.parquet') group by invoice_id").fetchall())
    assert sorted(i for i, s in statuses.items() if s == "PRISE_EN_COMPTE_DESTINATAIRE") == moved
    n, rows = validated(home, "chorus_status_events", "count(distinct status_event_id), count(*)")[0]
    assert n == rows == sum(len(i["historique"]) for i in sim.invoices)


def parallel_syncer(sim, home, run_id, concurrency):
    sync = syncer(sim, home, run_id)
    sync.s = sync.s.model_copy(update={"concurrency": concurrency})
    return sync


def test_calls_run_concurrency_at_a_time_and_land_the_same_rows(sim, tmp_path, state_year):
    """With 50 ms of latency per call, four calls in flight: the same rows as one at a time, in a
    fraction of the time, never more than four at once."""
    import time

    sim.faults.slow_s = 0.05
    one = Settings.from_env(tmp_path / "one").home.ensure(INBOX_FOLDERS)
    t = time.perf_counter()
    parallel_syncer(sim, one, "r1", 1).run()
    sequential_s = time.perf_counter() - t
    assert sim.faults.max_in_flight == 1
    four = Settings.from_env(tmp_path / "four").home.ensure(INBOX_FOLDERS)
    t = time.perf_counter()
    result = parallel_syncer(sim, four, "r1", 4).run()
    parallel_s = time.perf_counter() - t
    assert sim.faults.max_in_flight == 4
    # the calls' waits overlap (about a third of the time here); the door's work per page does not,
    # and a busy machine slows that part alone: a margin, not a benchmark
    assert parallel_s < sequential_s * 0.7, (parallel_s, sequential_s)
    assert result.invoices == len(expected(state_year))
    for source, columns in [("chorus_invoices", "invoice_id, current_status, current_status_at"),
                            ("chorus_status_events", "status_event_id, invoice_id, status_code, status_at")]:
        assert sorted(validated(four, source, columns)) == sorted(validated(one, source, columns)), source
    def documents(home):  # the ZIPs' bytes carry the time they were made: compare what they hold
        import zipfile

        return sorted(n for p in (home.landing / "chorus_pro_documents").iterdir() if p.suffix == ".zip"
                      for n in zipfile.ZipFile(p).namelist())

    assert documents(four) == documents(one) and documents(one)


def test_a_retry_after_holds_every_call_in_flight(sim, tmp_path, state_year):
    """One call told to wait (429, Retry-After: 1) while others run: no call reaches the service again
    before the second is over, whichever thread sends it."""
    home = Settings.from_env(tmp_path).home.ensure(INBOX_FOLDERS)
    sim.faults.slow_s, sim.faults.retry_after_s = 0.02, 1
    sync = parallel_syncer(sim, home, "r1", 4)
    original = sync.client.invoice_history

    def throttled(id_facture, _count=[0]):
        _count[0] += 1
        if _count[0] == 20:
            sim.faults.too_many_requests = 1  # the gateway throttles in the middle of the histories
        return original(id_facture)

    sync.client.invoice_history = throttled
    result = sync.run()
    assert result.invoices == len(expected(state_year))
    [at] = sim.faults.throttled_at
    # calls already in flight were answered; any that arrived afterwards waited out the second
    after = [t for t, _ in sim.faults.arrivals if t > at + 0.05]
    assert after and min(after) >= at + 0.95, min(after) - at
    assert not [t for t, _ in sim.faults.arrivals if at + 0.05 < t < at + 0.95]
