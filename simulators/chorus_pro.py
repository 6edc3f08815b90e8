"""A Chorus Pro simulator speaking the PISTE protocol on loopback, from the synthetic State-year.

Same paths as PISTE (`/api/oauth/token`, `/cpro/...`), same envelopes (`codeRetour`, `libelle`), same
field names and paging as `shared/reference/chorus_pro_api.md` §1-4. It accepts only the configured
client id/secret and technical account, and rejects the rest the way PISTE does: 401 with a
`WWW-Authenticate: Bearer realm="PISTE"` header for a missing, expired or unknown token or a wrong
technical account, 403 with an empty body when the `cpro-account` header is missing.

Fault switches (`Faults`) let tests reproduce what a real gateway does on a bad day.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import io
import json
import secrets
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from connectors.chorus_pro import ChorusProConfig
from simulators.einvoice_documents import invoice_pdf

EMPTY_SEARCH = (20000, "TRA_MSG_00.015 - la recherche n'a retourné aucun résultat")
MAX_PAGE_SIZE = 1000
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Faults:
    token_ttl_s: float | None = None  # tokens die after this, whatever expires_in says
    too_many_requests: int = 0  # the next N API calls get 429
    retry_after_s: int = 1
    server_errors: int = 0  # the next N API calls get 500
    slow_s: float = 0.0  # every API call sleeps this long first
    malformed_search_page: int | None = None  # this search page is answered with broken JSON...
    malformed_times: int = 1  # ...this many times
    unavailable: bool = False  # every call, the token's included, gets 503: Chorus Pro (or PISTE) is down
    moving_page: int | None = None  # once this search page is served, its invoices take a new status (now):
    # they leave the window being read, the later pages shift up by one page, and the last page disappears
    calls: list[str] = field(default_factory=list)  # what was called, for assertions
    arrivals: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, operation) of API calls
    throttled_at: list[float] = field(default_factory=list)  # when a 429 was answered
    in_flight: int = 0
    max_in_flight: int = 0  # the most API calls served at once


def _load(home_or_state: Path) -> list[dict]:
    path = Path(home_or_state)
    if path.is_dir():
        path = path / "chorus" / "invoices.json"
    if not path.exists():
        raise FileNotFoundError(f"no Chorus Pro data at {path}: run `mediarecon-demo generate --out DIR` first")
    return json.loads(path.read_text(encoding="utf-8"))["invoices"]


def _parse_ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def demo_credentials() -> dict[str, str]:
    """Fresh random credentials for a demo run against the simulator (the product has no default ones),
    as MEDIARECON_CHORUS_* variables."""
    return {"MEDIARECON_CHORUS_CLIENT_ID": "demo-" + secrets.token_hex(4),
            "MEDIARECON_CHORUS_CLIENT_SECRET": secrets.token_urlsafe(24),
            "MEDIARECON_CHORUS_LOGIN": f"TECH_demo_{secrets.token_hex(4)}@cpro.fr",
            "MEDIARECON_CHORUS_PASSWORD": secrets.token_urlsafe(24)}


class ChorusProSimulator:
    def __init__(self, home: Path, settings: ChorusProConfig, host: str = "127.0.0.1", port: int = 0,
                 faults: Faults | None = None):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the simulator listens on loopback only")
        if settings.missing_credentials():
            raise ValueError(f"the Chorus Pro simulator accepts only configured credentials: {', '.join(settings.missing_credentials())}"
                             " not set")
        self.invoices = _load(home)
        self.by_id = {inv["idFacture"]: inv for inv in self.invoices}
        self._ordered: tuple[list[dt.datetime], list[dict]] | None = None  # see _by_status_time
        self.settings = settings
        self.faults = faults or Faults()
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "ChorusProSimulator":
        self.thread = threading.Thread(target=self.server.serve_forever, name="chorus-sim", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ protocol
    def issue_token(self, form: dict) -> tuple[int, dict]:
        s = self.settings
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}
        if form.get("client_id") != s.client_id.reveal() or form.get("client_secret") != s.client_secret.reveal():
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        token = secrets.token_urlsafe(24)
        ttl = self.faults.token_ttl_s if self.faults.token_ttl_s is not None else 3600
        with self.lock:
            self.tokens[token] = time.monotonic() + ttl
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                     "scope": form.get("scope", "")}

    def authorize(self, headers) -> tuple[int, dict | None, dict]:
        """(status, body, extra headers) of a refusal, or (0, None, {}) when the call may go on."""
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        with self.lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry < time.monotonic():
            return 401, None, {"WWW-Authenticate": 'Bearer realm="PISTE",error="invalid_token",'
                                                   'error_description="The access token is invalid or has expired"'}
        account = headers.get("cpro-account")
        if not account:
            return 403, None, {}
        expected = base64.b64encode(f"{self.settings.login.reveal()}:{self.settings.password.reveal()}".encode()).decode()
        if account != expected:
            return 401, None, {"WWW-Authenticate": 'Bearer realm="PISTE",error="Unauthorized",'
                                                   'error_description="login or password incorrects"'}
        return 0, None, {}

    def _by_status_time(self) -> tuple[list[dt.datetime], list[dict]]:
        """The invoices in the search's order (current-status time, id) and their times, made once per
        change of status: a year's search is then a bisection, not a parse and sort of every invoice."""
        with self.lock:
            if self._ordered is None:
                keyed = sorted(((_parse_ts(i["dateHeureEtatCourant"]), i["idFacture"], i) for i in self.invoices),
                               key=lambda k: k[:2])
                self._ordered = ([k[0] for k in keyed], [k[2] for k in keyed])
            return self._ordered

    def search_invoices(self, body: dict) -> dict:
        page_params = body.get("paramRecherche") or {}
        page = max(int(page_params.get("pageResultatDemandee") or 1), 1)
        size = min(max(int(page_params.get("nbResultatsParPage") or 100), 1), MAX_PAGE_SIZE)
        since = _parse_ts(body.get("periodeDateHeureEtatCourantDu"))
        until = _parse_ts(body.get("periodeDateHeureEtatCourantAu"))
        times, ordered = self._by_status_time()
        lo = bisect.bisect_left(times, since) if since else 0
        hi = bisect.bisect_right(times, until) if until else len(times)
        rows = []
        for inv in ordered[lo:hi]:
            if body.get("idDestinataire") and inv["idDestinataire"] != int(body["idDestinataire"]):
                continue
            if body.get("numeroBonCommande") and inv["numeroBonCommande"] != body["numeroBonCommande"]:
                continue
            if body.get("statutCourant"):
                wanted = body["statutCourant"]
                wanted = wanted if isinstance(wanted, list) else [wanted]
                if inv["statut"] not in wanted:
                    continue
            rows.append(inv)
        if not rows:
            code, label = EMPTY_SEARCH
            return {"codeRetour": code, "libelle": label}
        pages = (len(rows) + size - 1) // size
        chunk = rows[(page - 1) * size: page * size]
        return {
            "codeRetour": 0, "libelle": "GCU_MSG_01_000", "pageCourante": page, "pages": pages,
            "nbResultatsParPage": size, "total": len(rows),
            "listeFactures": [{k: v for k, v in inv.items() if k not in ("historique", "document_base64")}
                              for inv in chunk],
        }

    def move_on(self, ids: list[int]) -> None:
        """The recipient takes these invoices into account now: a new current status, and its timestamp."""
        now = dt.datetime.now(PARIS)
        with self.lock:
            for i in ids:
                inv = self.by_id[i]
                inv["statut"] = "PRISE_EN_COMPTE_DESTINATAIRE"
                inv["dateHeureEtatCourant"] = now.isoformat(timespec="milliseconds")
                inv["historique"].append({"histoStatutId": max(e["histoStatutId"] for e in inv["historique"]) + 1,
                                          "histoStatutCode": inv["statut"],
                                          "histoStatutDatePassage": now.strftime("%Y-%m-%d %H:%M"),
                                          "histoStatutCommentaire": None})
            self._ordered = None

    def consult_invoice(self, body: dict) -> dict:
        inv = self.by_id.get(int(body.get("identifiantFactureCPP") or 0))
        if not inv:
            return {"codeRetour": 20001, "libelle": "GCU_MSG_05_002 - facture inconnue"}
        return {
            "codeRetour": 0, "libelle": "GCU_MSG_01_000",
            "facture": {
                "identifiantFactureCPP": inv["idFacture"], "numeroFacture": inv["numeroFacture"],
                "statutFacture": inv["statut"], "modeDepot": inv["modeDepot"],
                "destinataire": {"codeDestinataire": inv["codeDestinataire"], "idDestinataire": inv["idDestinataire"],
                                 "libelleDestinataire": inv["designationDestinataire"],
                                 "codeServiceExecutant": inv["codeServiceExecutant"],
                                 "idServiceExecutant": inv["idServiceExecutant"]},
                "fournisseur": {"codeFournisseur": inv["codeFournisseur"],
                                "designationFournisseur": inv["designationFournisseur"],
                                "typeIdentifiantFournisseur": inv["typeIdentifiantFournisseur"]},
                "references": {"dateFacture": inv["dateFacture"], "dateDepot": inv["dateDepot"],
                               "codeDeviseFacture": inv["devise"], "typeFacture": inv["typeFacture"],
                               "numeroBonCommande": inv["numeroBonCommande"], "numeroMarche": inv["numeroMarche"]},
                "montantTotal": {"montantHtTotal": inv["montantHT"], "montantTVA": inv["montantTVA"],
                                 "montantTtcTotal": inv["montantTTC"], "montantAPayer": inv["montantAPayer"]},
            },
        }

    def history(self, body: dict) -> dict:
        inv = self.by_id.get(int(body.get("idFacture") or 0))
        if not inv:
            return {"codeRetour": 20001, "libelle": "GCU_MSG_05_002 - facture inconnue"}
        statuses = list(reversed(inv["historique"]))  # most recent first, as Chorus Pro answers
        return {
            "codeRetour": 0, "libelle": "GCU_MSG_01_000", "idFacture": inv["idFacture"],
            "numeroFacture": inv["numeroFacture"], "modeDepot": inv["modeDepot"], "statutCourantCode": inv["statut"],
            "historiquesDesStatuts": {"histoStatut": statuses, "nbResultatsParPage": len(statuses),
                                      "pageCourante": 1, "pages": 1, "total": len(statuses)},
        }

    def download(self, body: dict) -> dict:
        ids = [int(x.get("idFacture")) for x in body.get("listeFacture") or []]
        missing = [i for i in ids if i not in self.by_id]
        if not ids or missing:
            return {"codeRetour": 20001, "libelle": f"GCU_MSG_05_002 - facture inconnue {missing}"}
        fmt = body.get("format", "PIVOT")
        docs = []
        for i in ids:
            deposited = base64.b64decode(self.by_id[i]["document_base64"])
            # PDF: the deposited Factur-X, or a rendering of a structured invoice; PIVOT: as deposited
            docs.append((self.by_id[i], deposited if fmt == "PIVOT" or deposited.startswith(b"%PDF")
                         else invoice_pdf(self.by_id[i])))
        if len(docs) == 1:
            data = docs[0][1]
        else:  # several invoices come back as one ZIP
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for inv, content in docs:
                    z.writestr(f"{inv['idFacture']}.{'pdf' if content.startswith(b'%PDF') else 'xml'}", content)
            data = buf.getvalue()
        return {"codeRetour": 0, "libelle": "GCU_MSG_01_000", "fichierResultat": base64.b64encode(data).decode()}

    def search_structures(self, body: dict) -> dict:
        wanted = ((body.get("structure") or {}).get("identifiantStructure"))
        seen = {}
        for inv in self.invoices:
            seen.setdefault(inv["codeDestinataire"], inv)
        rows = [{"idStructureCPP": inv["idDestinataire"], "identifiantStructure": siret,
                 "designationStructure": inv["designationDestinataire"], "statut": "ACTIF",
                 "typeIdentifiantStructure": "SIRET"}
                for siret, inv in sorted(seen.items()) if not wanted or siret == wanted]
        if not rows:
            return {"codeRetour": 20000, "libelle": "TRA_MSG_00.015 - la recherche n'a retourné aucun résultat"}
        return {"codeRetour": 0, "libelle": "GCU_MSG_01_000", "listeStructures": rows,
                "parametresRetour": {"pageCourante": 1, "pages": 1, "nbResultatsParPage": len(rows), "total": len(rows)}}

    def search_services(self, body: dict) -> dict:
        services = {inv["idServiceExecutant"]: inv for inv in self.invoices
                    if inv["idDestinataire"] == int(body.get("idStructure") or 0)}
        rows = [{"idService": sid, "codeService": inv["codeServiceExecutant"], "libelleService": inv["nomServiceExecutant"],
                 "estActif": True, "dateDbtService": "2022-01-01", "dateFinService": None}
                for sid, inv in sorted(services.items())]
        return {"codeRetour": 0, "libelle": "GCU_MSG_01_000", "listeServices": rows,
                "parametresRetour": {"pageCourante": 1, "pages": 1, "nbResultatsParPage": len(rows), "total": len(rows)}}

    ROUTES = {
        "/cpro/factures/v1/rechercher/recipiendaire": "search_invoices",
        "/cpro/factures/v1/consulter/recipiendaire": "consult_invoice",
        "/cpro/factures/v1/consulter/historique": "history",
        "/cpro/factures/v1/telecharger/groupe": "download",
        "/cpro/structures/v1/rechercher": "search_structures",
        "/cpro/structures/v1/rechercher/services": "search_services",
    }

    def _handler(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # one buffered write per answer, no Nagle: keep-alive clients would otherwise wait ~40 ms
            # for a delayed ACK between the headers and the body
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, fmt, *args):  # quiet: tests and the demo read the client's logs
                pass

            def _send(self, status: int, body: bytes | dict | None, headers: dict | None = None):
                data = json.dumps(body, ensure_ascii=False).encode() if isinstance(body, dict) else (body or b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                self._body()
                if self.path == "/cpro/transverses/v1/health-check":
                    return self._send(200, {"codeRetour": 0, "libelle": "OK"})
                self._send(404, {"error": "not found"})

            def do_POST(self):
                raw = self._body()
                f = sim.faults
                if f.unavailable:
                    f.calls.append("unavailable")
                    return self._send(503, b"<html><body>Service Unavailable</body></html>")
                if self.path == "/api/oauth/token":
                    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    status, body = sim.issue_token(form)
                    f.calls.append("token")
                    return self._send(status, body)
                op = sim.ROUTES.get(self.path)
                if op is None:
                    return self._send(404, {"codeRetour": 404, "libelle": f"unknown path {self.path}"})
                f.calls.append(op)
                with sim.lock:
                    f.arrivals.append((time.monotonic(), op))
                    f.in_flight += 1
                    f.max_in_flight = max(f.max_in_flight, f.in_flight)
                try:
                    self._api(op, raw)
                finally:
                    with sim.lock:
                        f.in_flight -= 1

            def _api(self, op: str, raw: bytes):
                f = sim.faults
                if f.slow_s:  # latency: every API call waits this long (calls in parallel overlap)
                    time.sleep(f.slow_s)
                status, body, headers = sim.authorize(self.headers)
                if status:
                    return self._send(status, body, headers)
                with sim.lock:
                    if f.too_many_requests > 0:
                        f.too_many_requests -= 1
                        f.throttled_at.append(time.monotonic())
                        return self._send(429, {"message": "Too Many Requests"},
                                          {"Retry-After": str(f.retry_after_s)})
                    if f.server_errors > 0:
                        f.server_errors -= 1
                        return self._send(500, b"<html><body>Internal Server Error</body></html>")
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    return self._send(400, {"codeRetour": 400, "libelle": "JSON invalide"})
                if op == "search_invoices":
                    page = int((body.get("paramRecherche") or {}).get("pageResultatDemandee") or 1)
                    with sim.lock:
                        if f.malformed_search_page == page and f.malformed_times > 0:
                            f.malformed_times -= 1
                            return self._send(200, b'{"codeRetour": 0, "listeFactures": [{"idFacture": 1, ')
                answer = getattr(sim, op)(body)
                if op == "search_invoices" and f.moving_page == page:
                    f.moving_page = None
                    sim.move_on([inv["idFacture"] for inv in answer.get("listeFactures") or []])
                self._send(200, answer)

        return Handler
