"""`sync_chorus_pro`: the invoices received in Chorus Pro since the last watermark (a task of the nightly,
in its own process beside the door, or a flow on its own)."""

from __future__ import annotations

import time

import requests
import requests.adapters
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from connectors.chorus_pro import ChorusProClient
from mediarecon.ingest import storage
from mediarecon.ingest.chorus_pro import ChorusSync
from mediarecon.state.manifest import Manifest
from mediarecon.settings import Settings


@task(name="chorus-pro-sync", cache_policy=NO_CACHE)
def chorus_sync_task(home: str, run_id: str) -> dict:
    settings = Settings.from_env(home)  # the credentials are read here, never passed as parameters
    home = settings.home
    with requests.Session() as session:
        # a connection per call in flight (requests keeps 10 by default)
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=settings.chorus.concurrency)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        client = ChorusProClient(session, settings.chorus.client_config())
        started = time.perf_counter()
        result = ChorusSync(home, client, storage.landing_store(settings), Manifest(home.manifest),
                            settings.chorus, run_id).run()
        elapsed = time.perf_counter() - started
    logger = get_run_logger()
    for o in result.outcomes:
        if o.status != "validated":
            logger.warning("chorus_pro: %s: %s", o.file_name, o.reason)
    logger.info("Chorus Pro: %d page(s), %d invoice(s), %d status event(s), %d new answer(s), %d document"
                " batch(es); watermark now %s", result.pages, result.invoices, result.status_events,
                result.new_answers, result.documents, result.watermark)
    return {"pages": result.pages, "invoices": result.invoices, "status_events": result.status_events,
            "new_answers": result.new_answers, "documents": result.documents, "watermark": result.watermark,
            "elapsed_s": round(elapsed, 2),
            "files": [{k: v for k, v in o.__dict__.items() if k != "quarantine"} for o in result.outcomes]}


@flow(name="sync_chorus_pro", flow_run_name="chorus-pro-sync-{run_id}")
def sync_chorus_pro(home: str, run_id: str) -> dict:
    return chorus_sync_task(home, run_id)
