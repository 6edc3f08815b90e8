"""Chorus Pro, recipient side, through the PISTE gateway (facts: shared/reference/chorus_pro_api.md).

Two credentials on every call: a PISTE OAuth2 application (client credentials -> Bearer token) and a
Chorus Pro technical account (`cpro-account: base64(login:password)`). All operations are POST with a
JSON body; every answer carries `codeRetour` (0 = success) and `libelle`.

A plain class: the `requests.Session` is injected, nothing global, no Prefect. Secrets, tokens and the
`cpro-account` value never appear in a log line or an exception message.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import requests

from connectors.secret import Secret

log = logging.getLogger(__name__)

# renew the token this long before it expires (OCA's client uses 240 s)
TOKEN_MARGIN_S = 240
EMPTY_SEARCH_CODE = 20000


class ChorusError(RuntimeError):
    """A Chorus Pro / PISTE call failed; the message names the operation and never a secret."""


class ChorusAuthError(ChorusError):
    pass


@dataclass
class Response:
    """One raw answer, kept as received (bytes) for landing, and decoded."""

    operation: str
    request: dict
    raw: bytes
    data: dict


def detect_document_type(data: bytes) -> str:
    """Chorus Pro only says 'XML, PDF or ZIP': tell them apart by their magic bytes."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5]
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        return "xml"
    return "bin"


@dataclass(frozen=True)
class ChorusProConfig:
    """What the client needs: the PISTE OAuth2 application, the Chorus Pro technical account, and how
    patient to be."""

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

    def missing_credentials(self) -> list[str]:
        return [n for n in ("client_id", "client_secret", "login", "password") if not getattr(self, n)]


class ChorusProClient:
    def __init__(self, session: requests.Session, settings: ChorusProConfig,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.session = session
        self.s = settings
        self.sleep = sleep
        self.clock = clock
        self._token: str | None = None
        self._token_expiry = 0.0
        # shared by the threads of a parallel sync: one token renewal at a time, and one pause for all
        # when the service asks for one (429 Retry-After)
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self._account = base64.b64encode(f"{settings.login.reveal()}:{settings.password.reveal()}".encode()).decode()

    # ------------------------------------------------------------------ auth
    def _new_token(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.s.client_id.reveal(),
                "client_secret": self.s.client_secret.reveal()}
        if self.s.scope:
            form["scope"] = self.s.scope
        try:
            r = self.session.post(self.s.token_url, data=form,
                                  timeout=(self.s.connect_timeout_s, self.s.read_timeout_s))
        except requests.RequestException as e:
            raise ChorusError(f"PISTE token request to {self.s.token_url} failed: {type(e).__name__}") from None
        if r.status_code >= 500:  # the service is down: not a credentials problem
            raise ChorusError(f"PISTE token endpoint {self.s.token_url} unavailable (HTTP {r.status_code})")
        if r.status_code != 200:
            try:
                detail = r.json()
                reason = f"{detail.get('error')}: {detail.get('error_description')}"
            except ValueError:
                reason = r.text[:200]
            raise ChorusAuthError(
                f"PISTE refused the client credentials (HTTP {r.status_code}, {reason}); check "
                "MEDIARECON_CHORUS_CLIENT_ID / MEDIARECON_CHORUS_CLIENT_SECRET and MEDIARECON_CHORUS_TOKEN_URL")
        body = r.json()
        self._token = body["access_token"]
        expires_in = float(body.get("expires_in") or 3600)
        self._token_expiry = self.clock() + max(expires_in - TOKEN_MARGIN_S, expires_in / 2)
        log.info("PISTE token obtained, valid %d s", int(expires_in))

    def _bearer(self) -> str:
        with self._lock:
            if not self._token or self.clock() >= self._token_expiry:
                self._new_token()
            return self._token

    def _renew_after(self, refused: str) -> None:
        """A 401 on `refused`: the next call gets a new token, unless another thread already got one."""
        with self._lock:
            if self._token == refused:
                self._token = None

    # ------------------------------------------------------------------ transport
    def post(self, operation: str, path: str, body: dict, page: int | None = None) -> Response:
        """POST one operation; retries 429, 5xx, malformed answers and timeouts with backoff and jitter,
        honouring Retry-After; renews the token once on 401 (which does not count as an attempt)."""
        where = f"Chorus Pro {operation}" + (f" page {page}" if page else "")
        url = f"{self.s.api_url}/cpro/{path}"
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            pause = self._resume_at - self.clock()
            if pause > 0:  # another call was told to wait: so is this one
                self.sleep(pause)
            token = self._bearer()
            headers = {"Authorization": f"Bearer {token}", "cpro-account": self._account,
                       "Content-Type": "application/json;charset=utf-8", "Accept": "application/json;charset=utf-8"}
            try:
                r = self.session.post(url, data=json.dumps(body).encode(), headers=headers,
                                      timeout=(self.s.connect_timeout_s, self.s.read_timeout_s))
            except (requests.Timeout, requests.ConnectionError) as e:
                if attempt >= self.s.max_attempts:
                    raise ChorusError(f"{where}: no answer after {attempt} attempts ({type(e).__name__})") from None
                self._wait(attempt, None, where, type(e).__name__)
                continue
            if r.status_code == 401:
                if renewed:
                    raise ChorusAuthError(
                        f"{where}: PISTE refused the call twice (HTTP 401: "
                        f"{_auth_reason(r)}); check the technical account MEDIARECON_CHORUS_LOGIN / "
                        "MEDIARECON_CHORUS_PASSWORD and the PISTE application's API subscriptions")
                renewed = True
                self._renew_after(token)  # the token may have expired early: renew once
                attempt -= 1  # a renewal is not a failed attempt
                continue
            if r.status_code == 403:
                raise ChorusAuthError(f"{where}: HTTP 403, the technical account is not allowed here (is it attached "
                                      "to the recipient structure, and is the cpro-account header sent?)")
            if r.status_code == 429 or r.status_code >= 500:
                if attempt >= self.s.max_attempts:
                    raise ChorusError(f"{where}: HTTP {r.status_code} after {attempt} attempts, giving up")
                self._wait(attempt, r.headers.get("Retry-After"), where, f"HTTP {r.status_code}")
                continue
            try:
                data = r.json()
            except ValueError:  # a truncated answer is a transient fault: retried like a 5xx
                if attempt >= self.s.max_attempts:
                    raise ChorusError(f"{where}: HTTP {r.status_code}, answer is not valid JSON after {attempt}"
                                      f" attempts ({len(r.content)} bytes: {r.content[:80]!r})") from None
                self._wait(attempt, None, where, "answer is not valid JSON")
                continue
            if r.status_code != 200 and "codeRetour" not in data:
                raise ChorusError(f"{where}: HTTP {r.status_code}: {str(data)[:200]}")
            code = data.get("codeRetour")
            if code not in (0, None) and not (code == EMPTY_SEARCH_CODE and operation.startswith("search")):
                raise ChorusError(f"{where}: codeRetour {code}: {data.get('libelle')}")
            return Response(operation, body, r.content, data)

    def _wait(self, attempt: int, retry_after: str | None, where: str, why: str) -> None:
        delay = _retry_after_seconds(retry_after)
        if delay is not None:  # the service's own pause holds for every call, this thread's or another's:
            with self._lock:   # each waits for it before sending (see `post`)
                self._resume_at = max(self._resume_at, self.clock() + delay)
            log.warning("%s: %s, every call waits %.1f s (Retry-After)", where, why, delay)
            return
        delay = self.s.backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random())
        log.warning("%s: %s, retry %d in %.1f s", where, why, attempt, delay)
        self.sleep(delay)

    # ------------------------------------------------------------------ operations
    def search_invoices(self, since: str | None = None, until: str | None = None,
                        **filters) -> Iterator[Response]:
        """rechercherFactureParRecipiendaire, page by page, over a current-status timestamp window, oldest
        first. Invoices that take a new status while the window is read leave it (their new timestamp is
        past `until`, which the sync always sets), and every later row moves up: page k+1 then starts
        past rows never seen. When the list shrinks (a smaller total, or a page gone), the read starts
        again at page 1 from the newest timestamp seen, so no row is skipped; rows at that timestamp come
        twice, which the caller recognises by (idFacture, dateHeureEtatCourant)."""
        page, total, newest = 1, None, since
        last_seen = since  # the newest timestamp read so far
        while True:
            body = {"typeDemandePaiement": "FACTURE", **filters,
                    "paramRecherche": {"pageResultatDemandee": page, "nbResultatsParPage": self.s.page_size,
                                       "triColonne": "DateHeureEtatCourant", "triSens": "Ascendant"}}
            if newest:
                body["periodeDateHeureEtatCourantDu"] = newest
            if until:
                body["periodeDateHeureEtatCourantAu"] = until
            resp = self.post("search_invoices", "factures/v1/rechercher/recipiendaire", body, page=page)
            rows = resp.data.get("listeFactures") or []
            if page > 1 and (not rows or (resp.data.get("total") or 0) < (total or 0)):  # it shrank
                if last_seen == newest:  # a whole page at one timestamp: starting again would read it again
                    raise ChorusError(f"Chorus Pro search_invoices page {page}: the list keeps shrinking while"
                                      f" read from {newest}; the next run reads the window again")
                log.warning("Chorus Pro search: the list shrank while read (page %d); reading again from %s",
                            page, last_seen)
                page, total, newest = 1, None, last_seen
                continue
            if resp.data.get("codeRetour") == EMPTY_SEARCH_CODE or not rows:
                if resp.data.get("codeRetour") != EMPTY_SEARCH_CODE:
                    yield resp
                return
            yield resp
            total = total if total is not None else resp.data.get("total")
            last_seen = max((r["dateHeureEtatCourant"] for r in rows if r.get("dateHeureEtatCourant")),
                            key=dt.datetime.fromisoformat, default=newest)
            pages = resp.data.get("pages") or page
            if page >= pages:
                return
            page += 1

    def consult_invoice(self, id_facture: int) -> Response:
        return self.post("consult_invoice", "factures/v1/consulter/recipiendaire",
                         {"identifiantFactureCPP": id_facture, "codeLangue": "FR"})

    def invoice_history(self, id_facture: int) -> Response:
        return self.post("invoice_history", "factures/v1/consulter/historique", {"idFacture": id_facture})

    def download_invoices(self, ids: list[int], fmt: str = "PIVOT") -> tuple[Response, bytes, str]:
        """telechargerGroupeFacture: the decoded bytes and their kind (pdf, xml or zip)."""
        resp = self.post("download_invoices", "factures/v1/telecharger/groupe",
                         {"listeFacture": [{"idFacture": i} for i in ids], "format": fmt,
                          "avecPiecesJointesComplementaires": "NON"})
        data = base64.b64decode(resp.data.get("fichierResultat") or "")
        return resp, data, detect_document_type(data)

    def search_structures(self, siret: str) -> Response:
        return self.post("search_structures", "structures/v1/rechercher",
                         {"structure": {"identifiantStructure": siret, "typeIdentifiantStructure": "SIRET"},
                          "restreindreStructuresPrivees": False,
                          "parametres": {"pageResultatDemandee": 1, "nbResultatsParPage": 10}})

    def structure_id(self, siret: str) -> int | None:
        """SIRET -> Chorus Pro technical id (idStructureCPP)."""
        rows = self.search_structures(siret).data.get("listeStructures") or []
        return rows[0]["idStructureCPP"] if rows else None

    def search_services(self, id_structure: int) -> Response:
        return self.post("search_services", "structures/v1/rechercher/services",
                         {"idStructure": id_structure,
                          "parametresRechercherServicesStructure": {"pageResultatDemandee": 1,
                                                                    "nbResultatsParPage": 1000}})


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - time.time(), 0.0) if when else None


def _auth_reason(r: requests.Response) -> str:
    challenge = r.headers.get("WWW-Authenticate", "")
    marker = 'error_description="'
    if marker in challenge:
        return challenge.split(marker, 1)[1].split('"', 1)[0]
    return "unauthorized"
