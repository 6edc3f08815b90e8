"""Incremental sync of the invoices received in Chorus Pro.

By watermark on the current-status timestamp (`dateHeureEtatCourant`): each run asks for the window
[watermark - overlap, start of this run], lands every raw answer as received (content hash: a page
seen again is a no-op), validates it, and moves the watermark only once every page of the window is
safely landed. An interrupted run therefore resumes from the old watermark: no gap; the overlap and
the warehouse's de-duplication (latest status per invoice, one row per status event) leave no
duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from connectors.chorus_pro import ChorusProClient
from connectors.landing_store import LandedObject, LandingStore
from mediarecon import drills
from mediarecon.ingest.outcomes import FileOutcome
from mediarecon.ingest.tabular import validate_answers
from mediarecon.workers import ahead
from mediarecon.state.manifest import Manifest
from mediarecon.settings import ChorusSettings
from mediarecon.state.home import Home
from mediarecon.ingest.sources import API_SOURCES

log = logging.getLogger(__name__)

RAW_SOURCE = "chorus_pro"  # landing folder and manifest source of the raw answers
DOCUMENT_SOURCE = "chorus_pro_documents"
WATERMARK = "chorus_pro.current_status_at"
DOCUMENT_BATCH = 50
VALIDATE_BATCH = 2000  # landed answers validated in one door pass
# a search page that only shows invoice versions already received (the window's overlap shows the last
# ones again every night): kept as received, and the nightly knows it brings the warehouse nothing
REPEAT = "nothing new: every invoice on this page was already received at this status"


@dataclass
class SyncResult:
    window_from: str
    window_to: str
    pages: int = 0
    invoices: int = 0
    status_events: int = 0
    documents: int = 0
    new_answers: int = 0
    watermark: str | None = None
    outcomes: list[FileOutcome] = field(default_factory=list)


def _history_name(invoice: dict) -> str:
    return f"invoice_history {invoice['idFacture']} at {invoice['dateHeureEtatCourant']}"


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def _parse(value: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


class ChorusSync:
    def __init__(self, home: Home, client: ChorusProClient, store: LandingStore, manifest: Manifest,
                 settings: ChorusSettings, run_id: str):
        self.home, self.client, self.store, self.manifest = home, client, store, manifest
        self.s, self.run_id = settings, run_id
        # landed answers waiting for their door pass, by (source, page only repeats), and their hashes
        self._pending: dict[tuple[str, bool], list] = {("chorus_invoices", False): [], ("chorus_invoices", True): [],
                                                       ("chorus_status_events", False): []}
        self._pending_shas: set[str] = set()

    def _land(self, name: str, raw: bytes, obj: LandedObject | None = None) -> str | None:
        """Land one raw answer as received (unless a worker already stored it: `obj`). Its sha256 while it
        still has to be validated (first arrival, or landed by a run that stopped before validating it);
        None once validated or already waiting for the next flush."""
        obj = obj or self.store.put_bytes(RAW_SOURCE, raw, ".json")
        self.manifest.record_receipt(RAW_SOURCE, obj.sha256, name, self.run_id)
        status = self.manifest.status(RAW_SOURCE, obj.sha256)
        if status is None:
            self.manifest.record_landed(RAW_SOURCE, obj.sha256, name, obj.key, obj.size_bytes, self.run_id)
        elif status != "landed" or obj.sha256 in self._pending_shas:  # validated, or waiting for it already
            return None
        self._pending_shas.add(obj.sha256)
        return obj.sha256

    def _validate(self, source: str, answers: list[tuple[str, str, list[dict]]], result: SyncResult,
                  repeat: bool = False) -> None:
        outcomes = validate_answers(self.home, API_SOURCES[source], answers, dt.datetime.now(dt.timezone.utc))
        for o in outcomes:
            if repeat and o.status == "validated":
                o.reason = REPEAT
            self.manifest.record_outcome(RAW_SOURCE, o.sha256, o.status, o.reason, o.rows_read, o.rows_valid,
                                         o.rows_quarantined, self.run_id)
        result.new_answers += len(outcomes)
        result.outcomes += outcomes

    def _flush(self, result: SyncResult) -> None:
        """Validate the answers landed since the last flush: a few big door passes rather than one per page
        (each pass has a fixed cost, about 0.1 s). An answer landed and not yet validated when a run stops
        is validated by the next run, which lands it again (it stays "landed" in the manifest)."""
        with self.manifest.transaction():
            for (source, repeat), answers in self._pending.items():
                if answers:
                    self._validate(source, answers, result, repeat=repeat)
        self._pending = {key: [] for key in self._pending}
        self._pending_shas.clear()

    def run(self, now: dt.datetime | None = None) -> SyncResult:
        now = now or dt.datetime.now(dt.timezone.utc)
        mark = self.manifest.watermark(WATERMARK) or self.s.sync_from
        since = _parse(mark) - dt.timedelta(minutes=self.s.sync_overlap_minutes)
        result = SyncResult(window_from=_iso(since), window_to=_iso(now))
        with self.manifest.held(), ThreadPoolExecutor(self.s.concurrency) as pool:
            try:
                self._walk(result, mark, now, pool)
            finally:  # what was fetched before a failure is in tonight's warehouse all the same
                self._flush(result)
        return result

    def _walk(self, result: SyncResult, mark: str, now: dt.datetime, pool: ThreadPoolExecutor) -> None:
        """The window page by page; a page's histories, and the documents, fetched and stored
        `concurrency` at a time (the manifest is written on this thread, in order, a page at a time)."""
        newest = _parse(mark)
        seen: set[tuple[int, str]] = set()  # a search that starts again re-reads the rows at its start
        for page in self.client.search_invoices(since=result.window_from, until=result.window_to):
            # the calls first, the records after: the page's write transaction never waits on the network
            # (the door writes to the same manifest meanwhile, in the nightly)
            fetched = self._fetch_page(page, result, seen, pool)
            with self.manifest.transaction():  # a page's records at once: landing again is a no-op
                self._record_page(*fetched, result)
            drills.checkpoint("chorus:page")
            if sum(len(answers) for answers in self._pending.values()) >= VALIDATE_BATCH:
                self._flush(result)
            newest = max([newest, *(_parse(i["dateHeureEtatCourant"]) for i in page.data.get("listeFactures") or [])])
        self._flush(result)
        if self.s.download_documents:
            result.documents = self._download(self.manifest.pending_documents(), pool)
        # only now is the whole window landed: the next run may start after it
        result.watermark = _iso(min(newest, now))
        self.manifest.set_watermark(WATERMARK, result.watermark, self.run_id)
        log.info("Chorus Pro sync %s..%s: %d page(s), %d invoice(s), %d status event(s), %d document(s),"
                 " %d new answer(s); watermark %s", result.window_from, result.window_to, result.pages,
                 result.invoices, result.status_events, result.documents, result.new_answers, result.watermark)

    def _fetch_page(self, page, result: SyncResult, seen: set, pool: ThreadPoolExecutor):
        """One search page's calls: the page stored, then its new invoices' histories fetched and stored
        `concurrency` at a time. Nothing is written to the manifest here."""
        number = page.data.get("pageCourante") or result.pages + 1
        invoices = page.data.get("listeFactures") or []
        result.pages += 1
        since = page.request.get("periodeDateHeureEtatCourantDu", result.window_from)
        page_name = f"search_invoices {since}..{result.window_to} page {number}"
        stored = self.store.put_bytes(RAW_SOURCE, page.raw, ".json")
        new = [inv for inv in invoices if (inv["idFacture"], inv["dateHeureEtatCourant"]) not in seen]
        seen.update((inv["idFacture"], inv["dateHeureEtatCourant"]) for inv in new)
        result.invoices += len(new)
        histories = list(pool.map(self._fetch_history, [inv["idFacture"] for inv in new]))
        return (page_name, page.raw, stored, invoices), list(zip(new, histories))

    def _record_page(self, page: tuple, histories: list, result: SyncResult) -> None:
        """One search page landed, then its invoices' histories; their records wait for the next flush."""
        page_name, raw, stored, invoices = page
        if sha := self._land(page_name, raw, stored):
            # a version (invoice, status time) was received before if its history was
            versions = {_history_name(inv) for inv in invoices}
            repeat = self.manifest.received_names(RAW_SOURCE, list(versions)) == versions
            self._pending["chorus_invoices", repeat].append((sha, page_name, invoices))
        answers = []
        for inv, (history, stored) in histories:
            events = [{**e, "idFacture": inv["idFacture"]}
                      for e in (history.data.get("historiquesDesStatuts") or {}).get("histoStatut") or []]
            result.status_events += len(events)
            name = _history_name(inv)
            if sha := self._land(name, history.raw, stored):
                answers.append((sha, name, events))
                # its document is due, even if this run stops before downloading it
                self.manifest.add_pending_documents([inv["idFacture"]], self.run_id)
        self._pending["chorus_status_events", False] += answers

    def _fetch_history(self, invoice_id: int):
        """On a worker: the call, and its answer stored as received (the write and its fsync overlap the
        other calls; the manifest is written on the sync's thread)."""
        history = self.client.invoice_history(invoice_id)
        return history, self.store.put_bytes(RAW_SOURCE, history.raw, ".json")

    def _fetch_documents(self, batch: list[int]):
        _, data, kind = self.client.download_invoices(batch)
        return kind, self.store.put_bytes(DOCUMENT_SOURCE, data, f".{kind}")

    def _download(self, ids: list[int], pool: ThreadPoolExecutor) -> int:
        """The invoice documents (structured PIVOT) of invoices whose history changed (in this run or in one
        stopped before downloading them), landed as received."""
        landed = 0
        batches = [sorted(set(ids[i:i + DOCUMENT_BATCH])) for i in range(0, len(ids), DOCUMENT_BATCH)]
        # a few ZIPs ahead of the landing, not a whole year of them in memory
        for batch, (kind, obj) in zip(batches, ahead(pool, self._fetch_documents, batches, 2 * self.s.concurrency)):
            name = f"documents {batch[0]}..{batch[-1]}.{kind}"
            self.manifest.record_receipt(DOCUMENT_SOURCE, obj.sha256, name, self.run_id)
            # kept as landed: parsing the e-invoices is a later step
            self.manifest.record_landed(DOCUMENT_SOURCE, obj.sha256, name, obj.key, obj.size_bytes, self.run_id)
            self.manifest.clear_pending_documents(batch)
            landed += 1
        return landed


