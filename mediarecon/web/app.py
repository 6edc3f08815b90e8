"""`mediarecon web`: the dashboard of the coordinator, each advertiser and the auditor (docs/dashboard.md).

Read-only over the published warehouse (through the auditor's locked reader, web.scope); the only
writes are a session opened or closed, an alert acknowledged, and an advertiser's admission decision,
written as a new file of the inbox's admission_decisions drop (ingest.decisions) that the next nightly lands. Every page and API route needs a
session (or, for /api/, HTTP Basic); every POST carries the session's CSRF token; what a user sees is
decided by web.scope, once, under every route.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hmac
import io
import json
import secrets
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mediarecon.alerts.store import store_for
from mediarecon import french
from mediarecon.exports import campaign_report
from mediarecon.exports import evidence as evidence_module
from mediarecon.exports import reports
from mediarecon.ingest.decisions import DecisionError, record_decision
from mediarecon.settings import Settings
from mediarecon.state.manifest import Manifest
from mediarecon.state.runs import list_runs
from mediarecon.web import charts, data
from mediarecon.web.scope import PublishedWarehouse, Scope
from mediarecon.web.users import Session, UserStore

HERE = Path(__file__).parent
SESSION_COOKIE = "mediarecon_session"
LOGIN_CSRF_COOKIE = "mediarecon_login_csrf"
MAX_FORM_BYTES = 16_384
HEADERS = {
    # nothing but this server's own files; no frame, no inline script
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
                               " frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ALERT_STATUS_FR = {"open": "ouverte", "acknowledged": "prise en compte", "resolved": "résolue"}


class NotLoggedIn(Exception):
    pass


class Refused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def _json(value):
    if isinstance(value, Decimal):
        return str(value)  # exact: an amount is never a float on the way out
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def json_response(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload, default=_json, ensure_ascii=False), status_code=status,
                    media_type="application/json")


def _safe_next(target: str | None) -> str:
    """Where to go after login: a path of this site only (never //host or a scheme)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def create_app(settings: Settings) -> FastAPI:
    home, web = settings.home, settings.web
    users = UserStore(home.users_db)
    warehouse = PublishedWarehouse(home, settings.reader)
    alert_store = store_for(home)

    def landing():
        from mediarecon.ingest.storage import landing_store

        return landing_store(settings)

    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(french.FILTERS)
    templates.env.globals.update(severity_fr=data.SEVERITY_FR, alert_status_fr=ALERT_STATUS_FR,
                                 indicator_fr=reports.INDICATOR_FR, objective_status_fr=reports.STATUS_FR,
                                 cause_fr=reports.CAUSE_FR, attribution_fr=reports.ATTRIBUTION_FR)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        warehouse.close()

    app = FastAPI(title="mediarecon", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.warehouse = warehouse

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    # ------------------------------------------------------------------ who is asking
    def session_of(request: Request) -> Session:
        found = users.session(request.cookies.get(SESSION_COOKIE))
        if found is None:
            raise NotLoggedIn()
        return found

    async def api_session(request: Request) -> Session:
        """The cookie's session, or HTTP Basic credentials for a BI tool (the same users and scope)."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                login, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise Refused(401, "en-tête Authorization illisible") from None
            user = await authenticate(login, password)
            if user is None:
                raise Refused(401, "identifiant ou mot de passe incorrect")
            return Session(user, "", dt.datetime.now(dt.timezone.utc))
        return await run_in_threadpool(session_of, request)

    hashing = asyncio.Semaphore(2)  # scrypt checks at once: a flood of logins cannot starve the pages
    failures: dict[str, int] = {}  # consecutive failed logins per login, since the server started

    async def authenticate(login: str, password: str):
        """The user, or None after the failed-login delay, doubled at each consecutive failure of the
        same login (parallel guesses all wait), up to 30 s."""
        async with hashing:
            user = await run_in_threadpool(users.authenticate, login, password)
        if user is not None:
            failures.pop(login, None)
            return user
        failures[login] = failures.get(login, 0) + 1
        if len(failures) > 10_000:  # bounded: forget the oldest logins tried
            del failures[next(iter(failures))]
        await asyncio.sleep(min(web.login_delay_s * 2 ** min(failures[login] - 1, 10), 30.0))
        return None

    def secure(request: Request) -> bool:
        return web.secure_cookie or request.url.scheme == "https"

    async def form_of(request: Request, session: Session | None) -> dict[str, str]:
        """The POSTed form, once its CSRF token (and its Origin, when the browser sends one) is checked."""
        origin = request.headers.get("origin")
        # the host only: behind the TLS proxy the scheme seen here may be http
        if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
            raise Refused(403, "requête refusée : elle vient d'un autre site")
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            declared = MAX_FORM_BYTES + 1
        if declared > MAX_FORM_BYTES:
            raise Refused(413, "formulaire trop long")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:  # a chunked body has no length to refuse it by
                raise Refused(413, "formulaire trop long")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        expected = session.csrf_token if session else request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(form.get("csrf_token", "").encode(), expected.encode()):
            raise Refused(403, "jeton CSRF absent ou invalide : rechargez la page et recommencez")
        return form

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn):
        if request.url.path.startswith("/api/"):
            response = json_response({"error": "connexion requise"}, 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="mediarecon"'
            return response
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        if request.url.path.startswith("/api/"):
            headers = {"WWW-Authenticate": 'Basic realm="mediarecon"'} if exc.status == 401 else None
            response = json_response({"error": exc.message}, exc.status)
            response.headers.update(headers or {})
            return response
        return templates.TemplateResponse(request, "error.html", {"status": exc.status, "message": exc.message,
                                                                  "user": None}, status_code=exc.status)

    @app.exception_handler(FileNotFoundError)
    async def no_warehouse(request: Request, exc: FileNotFoundError):
        message = "aucun entrepôt publié : lancez d'abord `mediarecon run`"
        if request.url.path.startswith("/api/"):
            return json_response({"error": message}, 503)
        return templates.TemplateResponse(request, "error.html", {"status": 503, "message": message, "user": None},
                                          status_code=503)

    @app.exception_handler(data.BadFilter)
    async def bad_filter(request: Request, exc: data.BadFilter):
        if request.url.path.startswith("/api/"):
            return json_response({"error": str(exc)}, 400)
        return templates.TemplateResponse(request, "error.html", {"status": 400, "message": str(exc), "user": None},
                                          status_code=400)

    def page(request: Request, name: str, session: Session, **context) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"user": session.user, "csrf_token": session.csrf_token,
                                                          "scope": Scope.of(session.user),
                                                          "published_at": warehouse.published_at, **context})

    def found_or_404(value, what: str):
        """What the scope lets this user see, or 404 as if it did not exist (never 403: no hint that it does)."""
        if value is None:
            raise Refused(404, f"{what} introuvable")
        return value

    # ------------------------------------------------------------------ login
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/"):
        token = secrets.token_urlsafe(32)
        response = templates.TemplateResponse(request, "login.html", {"user": None, "csrf_token": token,
                                                                      "next": _safe_next(next), "error": None})
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request),
                            path="/login", max_age=3600)
        return response

    @app.post("/login")
    async def login(request: Request):
        form = await form_of(request, None)
        user = await authenticate(form.get("login", "").strip(), form.get("password", ""))
        if user is None:
            return templates.TemplateResponse(
                request, "login.html", {"user": None, "csrf_token": request.cookies.get(LOGIN_CSRF_COOKIE, ""),
                                        "next": _safe_next(form.get("next")),
                                        "error": "Identifiant ou mot de passe incorrect."}, status_code=401)
        token, session = await run_in_threadpool(users.open_session, user, web.session_hours)
        response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure(request),
                            path="/", max_age=int(web.session_hours * 3600))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout")
    async def logout(request: Request):
        session = await run_in_threadpool(session_of, request)
        await form_of(request, session)
        await run_in_threadpool(users.close_session, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ------------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request):
        session = session_of(request)
        scope = Scope.of(session.user)
        summary = data.overview(warehouse, scope)
        open_alerts = [a for a in alert_store.alerts() if a["status"] != "resolved" and scope.allows(a["advertiser_id"])]
        runs = list_runs(home, 1)
        freshness = sorted(Manifest(home.manifest, read_only=True).last_received().items()) \
            if home.manifest.exists() else []
        return page(request, "overview.html", session, summary=summary, open_alerts=open_alerts,
                    last_run=runs[0] if runs else None, freshness=freshness,
                    advertiser_name=data.advertiser_name(warehouse, scope, scope.advertiser_id))

    def _filters(request: Request) -> data.FindingFilters:
        q = request.query_params
        try:
            number = int(q.get("page") or 1)
        except ValueError:
            raise data.BadFilter(f"page {q.get('page')!r} : un nombre entier") from None
        return data.FindingFilters(q.get("type") or None, q.get("advertiser") or None, q.get("seller") or None,
                                   q.get("month") or None, q.get("severity") or None, q.get("sort") or "amount",
                                   (q.get("order") or "desc") != "asc", number)

    @app.get("/findings", response_class=HTMLResponse)
    def findings_page(request: Request):
        session = session_of(request)
        scope = Scope.of(session.user)
        filters = _filters(request)
        rows, total = data.findings(warehouse, scope, filters)
        query = {k: v for k, v in request.query_params.items() if k not in ("sort", "order", "page") and v}

        def sort_link(column: str) -> str:
            order = "asc" if filters.sort == column and filters.descending else "desc"
            return "/findings?" + urlencode({**query, "sort": column, "order": order})

        def page_link(number: int) -> str:
            return "/findings?" + urlencode({**query, "sort": filters.sort,
                                             "order": "desc" if filters.descending else "asc", "page": number})

        return page(request, "findings.html", session, rows=rows, total=total, filters=filters,
                    choices=data.filter_choices(warehouse, scope), sort_link=sort_link, page_link=page_link,
                    page_size=data.PAGE_SIZE)

    def _evidence(finding: dict, scope: Scope) -> evidence_module.Evidence:
        if not home.manifest.exists():
            return evidence_module.Evidence(finding["finding_id"], finding["evidence_source"], None, None, None,
                                            note="aucun manifeste dans ce dossier : rien n'a été reçu")
        return evidence_module.evidence_of(finding, Manifest(home.manifest, read_only=True), landing(),
                                           whole_files=scope.sees_whole_files)

    @app.get("/findings/{finding_id}", response_class=HTMLResponse)
    def finding_page(request: Request, finding_id: str):
        session = session_of(request)
        scope = Scope.of(session.user)
        found = found_or_404(data.finding(warehouse, scope, finding_id), "constat")
        return page(request, "finding.html", session, f=found, evidence=_evidence(found, scope))

    @app.get("/findings/{finding_id}/evidence")
    def evidence_download(request: Request, finding_id: str):
        session = session_of(request)
        scope = Scope.of(session.user)
        proof = _evidence(found_or_404(data.finding(warehouse, scope, finding_id), "constat"), scope)
        if not proof.landing_key or not proof.downloadable:
            raise Refused(404, proof.note or "pas de fichier reçu pour ce constat")
        try:
            content, missing = evidence_module.landed_document(landing(), proof)
        except (OSError, RuntimeError) as e:
            raise Refused(404, f"le fichier reçu ne peut être lu ({getattr(e, 'strerror', None) or e})") from None
        if missing:
            raise Refused(404, missing)
        name = evidence_module.download_name(proof)
        return Response(content, media_type="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    @app.get("/campaigns", response_class=HTMLResponse)
    def campaigns_page(request: Request):
        session = session_of(request)
        return page(request, "campaigns.html", session, rows=data.campaigns(warehouse, Scope.of(session.user)))

    def _report(scope: Scope, campaign_id: str) -> campaign_report.CampaignReport | None:
        """The decree's campaign report in the user's scope (None: no order line of it in the scope)."""
        try:
            return campaign_report.build(lambda t, p: warehouse.rows(scope, t, p), campaign_id)
        except reports.ReportError:
            return None

    @app.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
    def campaign_page(request: Request, campaign_id: str, decision: str | None = None):
        session = session_of(request)
        scope = Scope.of(session.user)
        found = found_or_404(data.campaign(warehouse, scope, campaign_id), "campagne")
        report = _report(scope, campaign_id)
        return page(request, "campaign.html", session, c=found,
                    chart=charts.delivery_chart(found["days"], "impressions"),
                    report_html=campaign_report.to_html(report, heading_level=3) if report else None,
                    decisions=data.decisions(warehouse, scope, campaign_id), decided=decision == "enregistree",
                    can_decide=session.user.role == "advertiser")

    @app.get("/campaigns/{campaign_id}/bilan.xlsx")
    def campaign_report_xlsx(request: Request, campaign_id: str):
        session = session_of(request)
        report = found_or_404(_report(Scope.of(session.user), campaign_id), "campagne")
        book = io.BytesIO()
        campaign_report.write_report_xlsx(book, report)
        name = campaign_report.file_name(campaign_id, "xlsx")
        return Response(book.getvalue(), headers={"Content-Disposition": f'attachment; filename="{name}"'},
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @app.post("/campaigns/{campaign_id}/decisions")
    async def decide(request: Request, campaign_id: str):
        """An advertiser's decision on one of its own orders of this campaign: appended to the inbox (a new
        drop file), never an edit; the staff read, they do not decide."""
        session = await run_in_threadpool(session_of, request)
        form = await form_of(request, session)
        if session.user.role != "advertiser":
            raise Refused(403, "seul l'annonceur décide de l'admission de ses commandes")
        order = form.get("purchase_order_id", "")
        owned = await run_in_threadpool(warehouse.rows, Scope.of(session.user), """
            select purchase_order_id from {order_lines} where campaign_id = $c and purchase_order_id = $po
            limit 1""", {"c": campaign_id, "po": order})
        found_or_404(owned or None, "bon de commande")
        try:
            await run_in_threadpool(record_decision, home.inbox / "admission_decisions", order,
                                    form.get("decision", ""), form.get("refaction_eur", ""), form.get("reason", ""),
                                    session.user.login)
        except DecisionError as e:
            raise Refused(400, str(e)) from None
        return RedirectResponse(f"/campaigns/{quote(campaign_id)}?decision=enregistree#decisions", status_code=303)

    @app.get("/statement", response_class=HTMLResponse)
    def statement_page(request: Request, month: str | None = None):
        session = session_of(request)
        scope = Scope.of(session.user)
        months = data.statement_months(warehouse, scope)
        chosen = month or (f"{months[0]:%Y-%m}" if months else None)
        rows = data.statement(warehouse, scope, chosen) if chosen else []
        return page(request, "statement.html", session, months=months, month=chosen, rows=rows,
                    columns=reports.MONTHLY_STATEMENT, results=data.results(warehouse, scope, chosen) if chosen else [],
                    objectives=data.objectives(warehouse, scope, chosen) if chosen else [],
                    objective_columns=reports.MONTHLY_OBJECTIVES)

    @app.get("/statement/{month}.xlsx")
    def statement_xlsx(request: Request, month: str):
        session = session_of(request)
        scope = Scope.of(session.user)
        rows = data.statement(warehouse, scope, month)
        if not rows:
            raise Refused(404, f"aucune ligne d'état pour {month}")
        title = reports.statement_title(reports.statement_month(month),
                                        data.advertiser_name(warehouse, scope, scope.advertiser_id))
        book = io.BytesIO()
        reports.write_statement_xlsx(book, title, reports.statement_month(month), rows,
                                     data.objectives(warehouse, scope, month), warehouse.origin())
        name = reports.statement_file_name(month, scope.advertiser_id, "xlsx")
        return Response(book.getvalue(), headers={"Content-Disposition": f'attachment; filename="{name}"'},
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts_page(request: Request, status: str = "active"):
        session = session_of(request)
        scope = Scope.of(session.user)
        rows = [dict(a) | {"details": json.loads(a["details"])} for a in alert_store.alerts()
                if scope.allows(a["advertiser_id"]) and (status == "all" or (a["status"] != "resolved"))]
        return page(request, "alerts.html", session, rows=rows, status=status)

    @app.post("/alerts/{alert_id}/acknowledge")
    async def acknowledge(request: Request, alert_id: int):
        session = await run_in_threadpool(session_of, request)
        await form_of(request, session)
        if session.user.role != "coordinator":
            raise Refused(403, "seul le coordinateur prend en compte une alerte")
        row = await run_in_threadpool(alert_store.alert, alert_id)
        found_or_404(row if row is not None and Scope.of(session.user).allows(row["advertiser_id"]) else None, "alerte")
        await run_in_threadpool(alert_store.acknowledge, alert_id, session.user.login,
                                dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        return RedirectResponse("/alerts", status_code=303)

    # ------------------------------------------------------------------ API (docs/dashboard.md)
    @app.get("/api/findings")
    async def api_findings(request: Request):
        session = await api_session(request)
        filters = _filters(request)
        rows, total = await run_in_threadpool(data.findings, warehouse, Scope.of(session.user), filters)
        return json_response({"total": total, "page": filters.page, "page_size": data.PAGE_SIZE, "findings": rows})

    @app.get("/api/findings/{finding_id}")
    async def api_finding(request: Request, finding_id: str):
        session = await api_session(request)
        found = found_or_404(await run_in_threadpool(data.finding, warehouse, Scope.of(session.user), finding_id),
                             "constat")
        proof = await run_in_threadpool(_evidence, found, Scope.of(session.user))
        return json_response({**found, "evidence": proof.as_dict()})

    @app.get("/api/campaigns/{campaign_id}/delivery")
    async def api_delivery(request: Request, campaign_id: str):
        session = await api_session(request)
        found = found_or_404(await run_in_threadpool(data.campaign, warehouse, Scope.of(session.user), campaign_id),
                             "campagne")
        return json_response({"campaign_id": campaign_id, "campaign_name": found["campaign_name"],
                              "unit": "impressions",
                              "days": [{"date": d["volume_date"], "delivered": d["volume"], "planned": d["planned"],
                                        "is_paused": d["is_paused"], "is_drop_day": d["is_drop_day"]}
                                       for d in found["days"]]})

    return app

