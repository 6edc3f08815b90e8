"""The dashboard (`mediarecon web`) as its users meet it: the real server in its own process over a
nightly's published warehouse, HTTP for every auth and scoping rule, Debian's Chromium (Playwright)
for the journeys, with a screenshot of each page under test-artifacts/screenshots/."""

import hashlib
import io
import os
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import requests
from openpyxl import load_workbook

from tests.integration.nightly import cli, run

pytestmark = pytest.mark.usefixtures("prefect_server", "chorus_pro")

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LOGIN_DELAY_S = 0.4
PASSWORDS = {"sig": "coordination-secret-1", "controle": "auditor-secret-123", "annonceur": "advertiser-secret-1",
             "autre": "advertiser-secret-2"}


def warehouse_rows(home, sql, params=()):
    con = duckdb.connect(str(home / "warehouse" / "mediarecon.duckdb"), read_only=True)
    try:
        cur = con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def dashboard(first_run):
    """Users of each role, the server on a free loopback port, and the two advertisers the tests compare
    (the one with the most findings, and another one with findings)."""
    home, _, _ = first_run
    ranked = warehouse_rows(home, "select advertiser_id, count(*) as n from fct_findings where advertiser_id is not null"
                                  " group by 1 order by 2 desc, 1")
    mine, other = ranked[0]["advertiser_id"], ranked[1]["advertiser_id"]
    for login, role, adv in [("sig", "coordinator", None), ("controle", "auditor", None),
                             ("annonceur", "advertiser", mine), ("autre", "advertiser", other)]:
        result = cli.invoke(__import__("mediarecon.cli", fromlist=["app"]).app,
                            ["users", "add", login, "--role", role, "--home", str(home)]
                            + (["--advertiser", adv] if adv else []), input=PASSWORDS[login] + "\n")
        assert result.exit_code == 0, result.output
    env = {**os.environ, "MEDIARECON_WEB_LOGIN_DELAY_S": str(LOGIN_DELAY_S)}
    server = subprocess.Popen([sys.executable, "-m", "mediarecon.cli", "web", "--home", str(home), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line + server.stderr.read()
        url = found.group(0).rstrip("/")
        yield {"home": home, "url": url, "mine": mine, "other": other, "server": server}
    finally:
        server.terminate()
        server.wait(30)


def login(dashboard, who) -> requests.Session:
    s = requests.Session()
    page = s.get(dashboard["url"] + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(dashboard["url"] + "/login", data={"login": who, "password": PASSWORDS[who], "csrf_token": token},
               allow_redirects=False)
    assert r.status_code == 303, r.text
    return s


def csrf_of(session, dashboard) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(dashboard["url"] + "/").text).group(1)


def api_findings(session, dashboard, **params) -> list[dict]:
    """Every page of /api/findings."""
    found, page = [], 1
    while True:
        r = session.get(dashboard["url"] + "/api/findings", params={**params, "page": page})
        assert r.status_code == 200, r.text
        body = r.json()
        found += body["findings"]
        if page * body["page_size"] >= body["total"]:
            assert len(found) == body["total"]
            return found
        page += 1


PAGES = ["/", "/findings", "/campaigns", "/statement", "/alerts"]
API = ["/api/findings", "/api/findings/x", "/api/campaigns/x/delivery"]


def test_every_page_and_api_route_needs_a_login(dashboard):
    for path in PAGES + ["/findings/x", "/findings/x/evidence", "/campaigns/x", "/statement/2025-03.xlsx"]:
        r = requests.get(dashboard["url"] + path, allow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    for path in API:
        r = requests.get(dashboard["url"] + path)
        assert r.status_code == 401 and r.json() == {"error": "connexion requise"}, path
        assert r.headers["www-authenticate"].startswith("Basic")
    forged = {"mediarecon_session": "not-a-session"}
    assert requests.get(dashboard["url"] + "/api/findings", cookies=forged).status_code == 401


def test_login_cookie_is_http_only_strict_and_expires(dashboard):
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(dashboard["url"] + "/login").text).group(1)
    r = s.post(dashboard["url"] + "/login", data={"login": "sig", "password": PASSWORDS["sig"], "csrf_token": token,
                                                  "next": "/alerts"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/alerts"
    cookie = next(c for c in r.raw.headers.getlist("set-cookie") if c.startswith("mediarecon_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie and "Path=/" in cookie
    # a login form cannot send the user elsewhere afterwards
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(dashboard["url"] + "/login").text).group(1)
    r = s.post(dashboard["url"] + "/login", data={"login": "sig", "password": PASSWORDS["sig"], "csrf_token": token,
                                                  "next": "//evil.example/"}, allow_redirects=False)
    assert r.headers["location"] == "/"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_a_failed_login_waits_and_opens_no_session(dashboard):
    for who, password in [("sig", "wrong-password-here"), ("nobody", "whatever-password")]:
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(dashboard["url"] + "/login").text).group(1)
        started = time.monotonic()
        r = s.post(dashboard["url"] + "/login", data={"login": who, "password": password, "csrf_token": token},
                   allow_redirects=False)
        assert time.monotonic() - started >= LOGIN_DELAY_S
        assert r.status_code == 401 and "Identifiant ou mot de passe incorrect" in r.text
        assert "mediarecon_session" not in s.cookies
    started = time.monotonic()
    r = requests.get(dashboard["url"] + "/api/findings", auth=("sig", "wrong-password-here"))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert time.monotonic() - started >= LOGIN_DELAY_S


def test_every_post_needs_its_csrf_token(dashboard):
    home = dashboard["home"]
    # login: the token of the login page (in its cookie and its form), not just the password
    assert requests.post(dashboard["url"] + "/login", data={"login": "sig", "password": PASSWORDS["sig"]},
                         allow_redirects=False).status_code == 403
    s = login(dashboard, "sig")
    alerts = sqlite3.connect(home / "alerts" / "alerts.sqlite")
    open_id = alerts.execute("select min(alert_id) from alerts where status = 'open'").fetchone()[0]
    assert open_id is not None
    for data in [{}, {"csrf_token": "forged"}]:
        assert s.post(f"{dashboard['url']}/alerts/{open_id}/acknowledge", data=data).status_code == 403
        assert s.post(dashboard["url"] + "/logout", data=data).status_code == 403
    # a token that is not even ASCII: refused, not a server error
    assert requests.post(dashboard["url"] + "/login", data={"login": "sig", "password": "x", "csrf_token": "é"},
                         cookies={"mediarecon_login_csrf": "abc"}).status_code == 403
    # a body too big is refused before it is read
    assert requests.post(dashboard["url"] + "/login", data={"csrf_token": "x" * 20_000}).status_code == 413
    # the right token from another site's page
    token = csrf_of(s, dashboard)
    r = s.post(f"{dashboard['url']}/alerts/{open_id}/acknowledge", data={"csrf_token": token},
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert alerts.execute("select status from alerts where alert_id = ?", [open_id]).fetchone()[0] == "open"
    assert s.get(dashboard["url"] + "/api/findings").status_code == 200  # the session survived every refusal


def test_an_advertiser_sees_its_own_rows_and_nothing_else(dashboard):
    home, mine, other = dashboard["home"], dashboard["mine"], dashboard["other"]
    expected = {r["finding_id"] for r in warehouse_rows(home, "select finding_id from fct_findings where advertiser_id = ?",
                                                        [mine])}
    others = warehouse_rows(home, "select finding_id, campaign_id from fct_findings where advertiser_id is distinct from ?",
                            [mine])
    s = login(dashboard, "annonceur")
    seen = api_findings(s, dashboard)
    assert {f["finding_id"] for f in seen} == expected and {f["advertiser_id"] for f in seen} == {mine}
    # asking for another advertiser's rows by filter gives none, not theirs
    assert api_findings(s, dashboard, advertiser=other) == []
    page = s.get(dashboard["url"] + "/findings").text
    assert set(re.findall(r'data-finding="([0-9a-f]+)"', page)) <= expected
    assert re.search(r'data-testid="findings-total">([^<]+)<', page).group(1) == str(len(expected))
    # a guessed URL of another advertiser's finding, its evidence or its campaign: 404, as if it did not exist
    for f in others[:25]:
        for path in [f"/findings/{f['finding_id']}", f"/api/findings/{f['finding_id']}",
                     f"/findings/{f['finding_id']}/evidence"]:
            assert s.get(dashboard["url"] + path).status_code == 404, path
    their_campaigns = {r["campaign_id"] for r in warehouse_rows(
        home, "select distinct campaign_id from fct_order_line_delivery where advertiser_id = ?", [other])}
    for campaign in sorted(their_campaigns)[:10]:
        assert s.get(f"{dashboard['url']}/campaigns/{campaign}").status_code == 404
        assert s.get(f"{dashboard['url']}/api/campaigns/{campaign}/delivery").status_code == 404
    # the overview's total is its own euros
    total = sum((r["amount_at_stake_eur"] for r in warehouse_rows(
        home, "select amount_at_stake_eur from fct_findings where advertiser_id = ?", [mine])), Decimal(0))
    assert sum(Decimal(f["amount_at_stake_eur"]) for f in seen) == total
    # the statement: its own orders only
    months = warehouse_rows(home, "select distinct strftime(statement_month, '%Y-%m') as m from"
                                  " rpt_monthly_execution_statement where advertiser_id = ? order by 1", [mine])
    month = months[0]["m"]
    r = s.get(f"{dashboard['url']}/statement/{month}.xlsx")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    published = hashlib.sha256((home / "warehouse" / "mediarecon.duckdb").read_bytes()).hexdigest()
    assert sheet["A6"].value == f"Entrepôt source (SHA-256) : {published}"  # the file the dashboard read
    every_order = {r["purchase_order_id"] for r in warehouse_rows(home, "select purchase_order_id from"
                                                                     " rpt_monthly_execution_statement")}
    listed = {c.value for row in sheet.iter_rows() for c in row if c.value in every_order}
    assert listed == {r["purchase_order_id"] for r in warehouse_rows(
        home, "select purchase_order_id from rpt_monthly_execution_statement where advertiser_id = ?"
              " and strftime(statement_month, '%Y-%m') = ?", [mine, month])}
    # alerts: only its own (an alert of no advertiser, e.g. the framework's ceiling, is the coordinator's)
    alerts = sqlite3.connect(home / "alerts" / "alerts.sqlite")
    theirs = [a for (a,) in alerts.execute("select alert_id from alerts where advertiser_id is distinct from ?"
                                           " and status <> 'resolved'", [mine])]
    page = s.get(dashboard["url"] + "/alerts").text
    assert theirs and not set(map(int, re.findall(r'data-alert="(\d+)"', page))) & set(theirs)


def test_the_coordinator_and_the_auditor_see_everything_and_only_the_coordinator_acknowledges(dashboard):
    home = dashboard["home"]
    every = {r["finding_id"] for r in warehouse_rows(home, "select finding_id from fct_findings")}
    alerts = sqlite3.connect(home / "alerts" / "alerts.sqlite")
    open_id = alerts.execute("select max(alert_id) from alerts where status = 'open'").fetchone()[0]
    auditor = login(dashboard, "controle")
    assert {f["finding_id"] for f in api_findings(auditor, dashboard)} == every
    r = auditor.post(f"{dashboard['url']}/alerts/{open_id}/acknowledge", data={"csrf_token": csrf_of(auditor, dashboard)})
    assert r.status_code == 403
    advertiser = login(dashboard, "annonceur")
    assert advertiser.post(f"{dashboard['url']}/alerts/{open_id}/acknowledge",
                           data={"csrf_token": csrf_of(advertiser, dashboard)}).status_code == 403
    coordinator = login(dashboard, "sig")
    assert {f["finding_id"] for f in api_findings(coordinator, dashboard)} == every
    r = coordinator.post(f"{dashboard['url']}/alerts/{open_id}/acknowledge",
                         data={"csrf_token": csrf_of(coordinator, dashboard)}, allow_redirects=False)
    assert r.status_code == 303
    assert alerts.execute("select status, acknowledged_by from alerts where alert_id = ?", [open_id]).fetchone() \
        == ("acknowledged", "sig")


def test_a_bi_tool_reads_the_api_with_basic_auth_in_the_same_scope(dashboard):
    home, mine = dashboard["home"], dashboard["mine"]
    r = requests.get(dashboard["url"] + "/api/findings", auth=("annonceur", PASSWORDS["annonceur"]),
                     params={"sort": "amount", "order": "desc"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == len(warehouse_rows(home, "select 1 from fct_findings where advertiser_id = ?", [mine]))
    amounts = [Decimal(f["amount_at_stake_eur"]) for f in body["findings"] if f["amount_at_stake_eur"] is not None]
    assert amounts == sorted(amounts, reverse=True)
    for bad in [{"month": "2025-13"}, {"page": "0"}, {"page": str(10**19)}, {"sort": "finding_id; drop"}]:
        assert requests.get(dashboard["url"] + "/api/findings", params=bad,
                            auth=("annonceur", PASSWORDS["annonceur"])).status_code == 400, bad


def test_a_finding_leads_to_its_raw_line_and_its_landed_file(dashboard):
    home = dashboard["home"]
    s = login(dashboard, "controle")
    finding = warehouse_rows(home, "select finding_id, evidence_file_sha256 as sha, evidence_line as line from fct_findings"
                                   " where finding_type = 'under_delivery' order by finding_id limit 1")[0]
    manifest = sqlite3.connect(home / "landing" / "manifest.sqlite")
    name, key = manifest.execute("select original_name, landing_key from files where sha256 = ?",
                                 [finding["sha"]]).fetchone()
    landed = (home / "landing" / key).read_bytes()
    lines = landed.decode("cp1252" if b"\xe9" in landed else "utf-8-sig").splitlines()
    line = lines[finding["line"] - 1]
    body = s.get(f"{dashboard['url']}/api/findings/{finding['finding_id']}").json()
    assert body["evidence"]["original_name"] == name and body["evidence"]["raw"] == line
    assert body["evidence"]["header"] == lines[0]  # the agency's export: its header is its first line
    page = s.get(f"{dashboard['url']}/findings/{finding['finding_id']}").text
    assert name in page and line.replace("'", "&#39;") in page
    download = s.get(f"{dashboard['url']}/findings/{finding['finding_id']}/evidence")
    assert hashlib.sha256(download.content).hexdigest() == finding["sha"]
    # the same evidence on the command line
    from mediarecon.cli import app

    printed = cli.invoke(app, ["evidence", finding["finding_id"], "--home", str(home)])
    assert printed.exit_code == 0 and f"received file:     {name}" in printed.output and line in printed.output
    assert cli.invoke(app, ["evidence", "nope", "--home", str(home)]).exit_code == 2  # no such finding
    # an e-invoice finding: the document inside the batch, named
    doc = warehouse_rows(home, "select finding_id, evidence_file_sha256 as sha, evidence_document_name as doc"
                               " from fct_findings where evidence_source = 'einvoice' and evidence_document_name"
                               " like '%!%' order by finding_id limit 1")[0]
    key = manifest.execute("select landing_key from files where sha256 = ?", [doc["sha"]]).fetchone()[0]
    member = doc["doc"].split("!", 1)[1]
    with zipfile.ZipFile(home / "landing" / key) as batch:
        inside = batch.read(member)
    download = s.get(f"{dashboard['url']}/findings/{doc['finding_id']}/evidence")
    assert download.content == inside and Path(member).name in download.headers["content-disposition"]


def test_the_campaign_delivery_api_matches_the_daily_mart(dashboard):
    home, mine = dashboard["home"], dashboard["mine"]
    campaign = warehouse_rows(home, "select campaign_id, count(*) as days, sum(volume) as volume from fct_daily_volumes"
                                    " where series_type = 'campaign' and advertiser_id = ? group by 1"
                                    " order by 2 desc, 1 limit 1", [mine])[0]
    s = login(dashboard, "annonceur")
    body = s.get(f"{dashboard['url']}/api/campaigns/{campaign['campaign_id']}/delivery").json()
    assert len(body["days"]) == campaign["days"] and sum(d["delivered"] for d in body["days"]) == campaign["volume"]
    assert any(d["planned"] for d in body["days"])


def test_the_nightly_publishes_while_the_dashboard_reads_and_the_dashboard_follows(dashboard, tmp_path):
    home = dashboard["home"]
    s = login(dashboard, "sig")
    before = re.search(r'data-testid="published-at">([^<]+)<', s.get(dashboard["url"] + "/").text).group(1)
    time.sleep(1.1)  # the footer shows seconds
    # something new to process (a rejected file counts), so that the night publishes a new warehouse
    (home / "inbox" / "ad_server" / "export_tronque.csv").write_text("Date,Impressions\n2025-03-01,1\n")
    summary = run(home)
    assert summary["files_rejected"] == 1
    after = re.search(r'data-testid="published-at">([^<]+)<', s.get(dashboard["url"] + "/").text).group(1)
    assert after != before


def test_users_cli_refuses_what_it_must(dashboard):
    from mediarecon.cli import app

    home = str(dashboard["home"])
    cases = [(["users", "add", "x1", "--role", "advertiser"], "needs --advertiser"),
             (["users", "add", "x2", "--role", "advertiser", "--advertiser", "ADV-NOPE"], "not a known advertiser"),
             (["users", "add", "x3", "--role", "boss"], "'boss' is not one of"),
             (["users", "add", "sig", "--role", "auditor"], "exists"),
             (["users", "remove", "nobody"], "no user")]
    for args, message in cases:
        result = cli.invoke(app, args + ["--home", home], input="long-enough-password\n")
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    result = cli.invoke(app, ["users", "add", "x4", "--role", "auditor", "--home", home], input="short\n")
    assert result.exit_code == 2 and "at least 12" in result.output
    listed = cli.invoke(app, ["users", "list", "--home", home]).output
    assert "annonceur" in listed and "scrypt" not in listed
    stored = sqlite3.connect(Path(home) / "web" / "users.sqlite").execute("select password_hash from users").fetchall()
    assert all(h.startswith("scrypt$") and PASSWORDS["sig"] not in h for (h,) in stored)
    # a removed user's open session ends at once
    s = login(dashboard, "autre")
    assert cli.invoke(app, ["users", "remove", "autre", "--home", home]).exit_code == 0
    assert s.get(dashboard["url"] + "/api/findings").status_code == 401


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's Chromium is needed: apt-get install -y chromium (make test does it)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def browser_login(browser, dashboard, who):
    context = browser.new_context(accept_downloads=True, locale="fr-FR", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(dashboard["url"] + "/findings")
    assert "/login" in page.url
    page.fill("#login", who)
    page.fill("#password", PASSWORDS[who])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/findings$"))
    return context, page


def test_in_a_browser_an_advertiser_follows_a_finding_to_its_proof(browser, dashboard):
    home, mine = dashboard["home"], dashboard["mine"]
    name = warehouse_rows(home, "select advertiser_name from reference.advertisers where advertiser_id = ?",
                          [mine])[0]["advertiser_name"]
    expected = warehouse_rows(home, "select finding_id from fct_findings where advertiser_id = ?", [mine])
    context, page = browser_login(browser, dashboard, "annonceur")
    page.screenshot(path=str(SCREENSHOTS / "findings_advertiser.png"), full_page=True)
    rows = page.locator("tr[data-finding]")
    assert rows.count() == min(len(expected), 100)
    assert set(page.locator("tr[data-finding] td:nth-child(3)").all_inner_texts()) == {name}
    page.goto(dashboard["url"] + "/")
    assert name in page.inner_text("h1")
    page.screenshot(path=str(SCREENSHOTS / "overview_advertiser.png"), full_page=True)
    # a finding with a raw line
    with_line = warehouse_rows(home, "select finding_id, campaign_id from fct_findings where advertiser_id = ? and"
                                     " evidence_line is not null and campaign_id in (select campaign_id from"
                                     " fct_daily_volumes where series_type = 'campaign') order by finding_id limit 1",
                               [mine])[0]
    page.goto(dashboard["url"] + "/findings")
    page.click(f"tr[data-finding='{with_line['finding_id']}'] td:first-child a")
    raw = page.locator("[data-testid=raw-line]")
    assert raw.is_visible() and raw.inner_text().strip()
    page.screenshot(path=str(SCREENSHOTS / "finding_advertiser.png"), full_page=True)
    # the sender's file holds other advertisers' rows: its line only, no download
    assert page.locator("text=Télécharger").count() == 0 and "d'autres annonceurs" in page.inner_text(".note")
    # its campaign: the daily chart of delivered against planned
    page.click(f"dd a[href='/campaigns/{with_line['campaign_id']}']")
    chart = page.locator("[data-testid=delivery-chart] svg")
    assert chart.is_visible() and page.locator("svg polyline.delivered").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "campaign_advertiser.png"), full_page=True)
    # the monthly statement and its download
    page.goto(dashboard["url"] + "/statement")
    assert "Ordonnateur niveau 1" in page.inner_text("table.statement thead")
    page.screenshot(path=str(SCREENSHOTS / "statement_advertiser.png"), full_page=True)
    with page.expect_download() as statement:
        page.click("[data-testid=statement-xlsx]")
    assert statement.value.suggested_filename.endswith(f"_{mine}.xlsx")
    sheet = load_workbook(io.BytesIO(Path(statement.value.path()).read_bytes())).active
    assert name in str(sheet["A1"].value)
    page.goto(dashboard["url"] + "/alerts")
    page.screenshot(path=str(SCREENSHOTS / "alerts_advertiser.png"), full_page=True)
    context.close()


def test_in_a_browser_the_coordinator_sees_all_and_acknowledges_an_alert(browser, dashboard):
    home = dashboard["home"]
    total = len(warehouse_rows(home, "select 1 from fct_findings"))
    context, page = browser_login(browser, dashboard, "sig")
    assert page.inner_text("[data-testid=findings-total]").replace("\u202f", "") == str(total)
    page.screenshot(path=str(SCREENSHOTS / "findings_coordinator.png"), full_page=True)
    page.goto(dashboard["url"] + "/")
    page.screenshot(path=str(SCREENSHOTS / "overview_coordinator.png"), full_page=True)
    page.goto(dashboard["url"] + "/campaigns")
    page.screenshot(path=str(SCREENSHOTS / "campaigns_coordinator.png"), full_page=True)
    # the auditor's path from a figure to its proof: the finding, its raw line, the file as received
    finding = warehouse_rows(home, "select finding_id, evidence_file_sha256 as sha from fct_findings where"
                                   " evidence_line is not null order by amount_at_stake_eur desc limit 1")[0]
    page.goto(f"{dashboard['url']}/findings/{finding['finding_id']}")
    assert page.locator("[data-testid=raw-line]").inner_text().strip()
    with page.expect_download() as proof:
        page.click("text=Télécharger")
    assert hashlib.sha256(Path(proof.value.path()).read_bytes()).hexdigest() == finding["sha"]
    page.screenshot(path=str(SCREENSHOTS / "finding_coordinator.png"), full_page=True)
    page.goto(dashboard["url"] + "/alerts")
    first = page.locator("tr[data-alert]:has(button)").first
    alert_id = int(first.get_attribute("data-alert"))
    first.locator("button").click()
    page.wait_for_url(re.compile(r".*/alerts$"))
    assert "prise en compte" in page.inner_text(f"tr[data-alert='{alert_id}']")
    page.screenshot(path=str(SCREENSHOTS / "alerts_coordinator.png"), full_page=True)
    status = sqlite3.connect(home / "alerts" / "alerts.sqlite").execute(
        "select status, acknowledged_by from alerts where alert_id = ?", [alert_id]).fetchone()
    assert status == ("acknowledged", "sig")
    context.close()


def test_findings_name_their_seller_and_the_list_filters_by_it(dashboard):
    from mediarecon.paths import read_seed

    home = dashboard["home"]
    seller_of_siret = {s["siret"]: s["media_seller_id"] for s in read_seed("media_sellers")}
    line_seller = {r["order_line_id"]: r["media_seller_id"] for r in warehouse_rows(
        home, "select order_line_id, media_seller_id from fct_order_line_delivery")}
    findings = warehouse_rows(home, "select finding_id, finding_type, entity_key, media_seller_id from fct_findings")
    for f in findings:
        if f["finding_type"] in ("under_delivery", "over_invoiced", "invoiced_not_delivered", "missing_discount"):
            assert f["media_seller_id"] == line_seller[f["entity_key"]], f
        elif f["finding_type"] in ("invoice_without_order", "invoice_blocked", "late_payment", "duplicate_invoice",
                                   "invoice_arithmetic_error"):
            assert f["media_seller_id"] == seller_of_siret.get(f["entity_key"].split("|")[0]), f
        elif f["finding_type"] == "missing_deferred_rebate":
            assert f["media_seller_id"] == f["entity_key"].split("|")[1], f
        elif f["finding_type"] in ("ceiling_threshold_crossed", "epm_miss", "fee_on_gross", "wrong_fee_rate"):
            assert f["media_seller_id"] is None, f
    seller = max({f["media_seller_id"] for f in findings if f["media_seller_id"]},
                 key=lambda s: sum(f["media_seller_id"] == s for f in findings))
    s = login(dashboard, "controle")
    assert {f["finding_id"] for f in api_findings(s, dashboard, seller=seller)} == \
        {f["finding_id"] for f in findings if f["media_seller_id"] == seller}


def test_an_advertiser_sees_its_line_but_never_a_file_shared_with_other_advertisers(dashboard):
    home, mine = dashboard["home"], dashboard["mine"]
    s = login(dashboard, "annonceur")
    shared = warehouse_rows(home, "select finding_id, evidence_file_sha256 as sha, evidence_line as line from fct_findings"
                                  " where advertiser_id = ? and evidence_source in ('agency', 'ad_server', 'chorus_pro')"
                                  " and evidence_line is not null order by finding_id", [mine])
    assert shared
    for f in shared:
        body = s.get(f"{dashboard['url']}/api/findings/{f['finding_id']}").json()["evidence"]
        assert body["raw"] and not body["downloadable"], body
        assert s.get(f"{dashboard['url']}/findings/{f['finding_id']}/evidence").status_code == 404
        assert "Télécharger" not in s.get(f"{dashboard['url']}/findings/{f['finding_id']}").text
    # the same findings, for the auditor: the whole file
    auditor = login(dashboard, "controle")
    assert auditor.get(f"{dashboard['url']}/findings/{shared[0]['finding_id']}/evidence").status_code == 200
    # its own e-invoice inside a batch: that document only, never the batch
    documents = warehouse_rows(home, "select finding_id, evidence_document_name as doc from fct_findings where"
                                     " advertiser_id = ? and evidence_document_name like '%!%'", [mine])
    for f in documents:
        r = s.get(f"{dashboard['url']}/findings/{f['finding_id']}/evidence")
        assert r.status_code == 200 and not r.content.startswith(b"PK"), f


def test_results_against_objectives_on_the_campaign_page_and_in_the_statement(dashboard, state_year):
    """Each labelled objective_missed shows on its campaign's page as missed with the generator's euros; a
    CPA objective of an advertiser whose reports carry no conversions shows as not measurable; the
    statement's XLSX has a sheet of the month's objectives, an advertiser's holding its own lines only."""
    import csv as csv_module

    from mediarecon.french import eur
    from tests.integration.nightly import _csv_rows, campaign_advertisers

    inbox = state_year / "inbox"
    campaign_of_order = {r["N° BDC"]: r["Campagne"] for r in _csv_rows(inbox / "purchase_orders", "utf-8-sig")}
    lines = {f"{r['N° BDC']}-{int(r['N° ligne']):03d}": r for r in _csv_rows(inbox / "order_lines", "cp1252")}
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        misses = [r for r in csv_module.DictReader(f) if r["anomaly_type"] == "objective_missed"]
    assert misses
    s = login(dashboard, "sig")
    for miss in misses:
        line_id = miss["entity_key"].split("|")[0]
        page = s.get(f"{dashboard['url']}/campaigns/{campaign_of_order[line_id[:10]]}").text
        row = re.search(rf'<tr data-objective="{re.escape(miss["entity_key"])}">(.*?)</tr>', page, re.S)
        assert row, miss
        assert ">manqué<" in row.group(1) and eur(Decimal(miss["amount_at_stake_eur"])) in row.group(1), miss
    # reports without Floodlight columns: their advertiser's CPA objectives cannot be measured
    no_conversions = set()
    for path in sorted((inbox / "ad_server").glob("*.csv")):
        text = path.read_text(encoding="utf-8").splitlines()
        header = text[text.index("Report Fields") + 1]
        if "Total Conversions" not in header:
            no_conversions |= {r["Campaign External ID"] for r in csv_module.DictReader(text[text.index("Report Fields") + 1:])
                               if r["Placement ID"]}
    unmeasurable = next(k for k, r in sorted(lines.items())
                        if r["Objectif CPA"] and campaign_of_order[k[:10]] in no_conversions)
    page = s.get(f"{dashboard['url']}/campaigns/{campaign_of_order[unmeasurable[:10]]}").text
    row = re.search(rf'<tr data-objective="{unmeasurable}\|cpa_max">(.*?)</tr>', page, re.S)
    assert row and ">non mesurable<" in row.group(1)
    # the statement's second sheet, for the month a labelled miss's line ended: the coordinator's has it
    miss = misses[0]
    month, line_id = miss["last_date"][:7], miss["entity_key"].split("|")[0]
    book = load_workbook(io.BytesIO(s.get(f"{dashboard['url']}/statement/{month}.xlsx").content))
    sheet = book["Objectifs"]
    header = [c.value for c in next(sheet.iter_rows(min_row=8, max_row=8))]  # under the title and header block
    rows = [dict(zip(header, (c.value for c in r))) for r in sheet.iter_rows(min_row=9)]
    found = [r for r in rows if r["Ligne de commande"] == line_id and r["Statut"] == "manqué"]
    assert len(found) == 1 and Decimal(str(found[0]["Écart (€)"])) == Decimal(miss["amount_at_stake_eur"])
    assert all(lines[r["Ligne de commande"]]["Date de fin"][3:] == f"{month[5:]}/{month[:4]}" for r in rows)
    # an advertiser's statement lists its own lines' objectives only, all of them for the month
    mine = dashboard["mine"]
    advertiser_of = campaign_advertisers(state_year)
    mine_lines = {k for k in lines if advertiser_of[campaign_of_order[k[:10]]] == mine}
    own_month = next(r["Date de fin"] for k, r in sorted(lines.items()) if k in mine_lines and (
        r["Objectif CPM"] or r["Objectif CTR (%)"] or r["Objectif CPA"] or r["Objectif volume"]))
    month = f"{own_month[6:]}-{own_month[3:5]}"
    r = login(dashboard, "annonceur").get(f"{dashboard['url']}/statement/{month}.xlsx")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content))["Objectifs"]
    listed = {row[1].value for row in sheet.iter_rows(min_row=9)}
    expected = {k for k in mine_lines if lines[k]["Date de fin"][3:] == own_month[3:] and any(
        lines[k][h] for h in ("Objectif volume", "Objectif CPM", "Objectif CPC", "Objectif CPA", "Objectif CTR (%)",
                              "Objectif taux de complétion (%)"))}
    assert listed == expected and expected


def test_an_advertiser_appends_a_decision_on_its_own_order_only_and_the_night_lands_it(dashboard):
    """The campaign page shows the decree's report and the orders' decisions; the form (CSRF-checked, the
    advertiser's own orders only, never the staff's) appends a new file to the inbox, which the next nightly
    lands: the new decision is current, the earlier ones stay with who and when."""
    home, mine, other = dashboard["home"], dashboard["mine"], dashboard["other"]
    folder = home / "inbox" / "admission_decisions"
    before = sorted(p.name for p in folder.iterdir())
    admitted = warehouse_rows(home, "select purchase_order_id, campaign_id from fct_admission_decisions"
                                    " where advertiser_id = ? and is_current and decision = 'admission'"
                                    " order by 1 limit 1", [mine])[0]
    theirs = warehouse_rows(home, "select purchase_order_id from fct_order_line_delivery where advertiser_id = ?"
                                  " order by 1 limit 1", [other])[0]["purchase_order_id"]
    s = login(dashboard, "annonceur")
    url = f"{dashboard['url']}/campaigns/{admitted['campaign_id']}"
    page = s.get(url).text
    assert 'data-testid="campaign-report"' in page and "1° a) Univers de diffusion" in page and "non fourni" in page
    assert f'data-order="{admitted["purchase_order_id"]}"' in page and 'action="/campaigns/' in page
    book = s.get(url + "/bilan.xlsx")
    assert book.status_code == 200 and load_workbook(io.BytesIO(book.content)).sheetnames[0] == "État"
    token = csrf_of(s, dashboard)
    decision = {"purchase_order_id": admitted["purchase_order_id"], "decision": "admission", "refaction_eur": "",
                "reason": "Bilan complété", "csrf_token": token}
    assert s.post(url + "/decisions", data={**decision, "csrf_token": "forged"}).status_code == 403
    assert s.post(url + "/decisions", data={**decision, "purchase_order_id": theirs}).status_code == 404
    assert s.post(url + "/decisions", data={**decision, "decision": "rejet", "reason": ""}).status_code == 400
    staff = login(dashboard, "sig")
    assert staff.post(url + "/decisions", data={**decision, "csrf_token": csrf_of(staff, dashboard)}).status_code == 403
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written by any refusal
    r = s.post(url + "/decisions", data=decision, allow_redirects=False)
    assert r.status_code == 303 and "decision=enregistree" in r.headers["location"]
    assert 'data-testid="decision-recorded"' in s.get(dashboard["url"] + r.headers["location"]).text
    written = sorted(set(p.name for p in folder.iterdir()) - set(before))
    assert len(written) == 1 and ";annonceur;" in (folder / written[0]).read_text(encoding="utf-8")
    # someone else's campaign report: 404 as if it did not exist
    their_campaign = warehouse_rows(home, "select campaign_id from fct_order_line_delivery where advertiser_id = ?"
                                          " limit 1", [other])[0]["campaign_id"]
    assert s.get(f"{dashboard['url']}/campaigns/{their_campaign}/bilan.xlsx").status_code == 404

    run(home)
    history = warehouse_rows(home, "select decision, decided_by, reason, is_current from fct_admission_decisions"
                                   " where purchase_order_id = ? order by decided_at", [admitted["purchase_order_id"]])
    assert len(history) >= 2 and history[-1] == {"decision": "admission", "decided_by": "annonceur",
                                                 "reason": "Bilan complété", "is_current": True}
    assert not any(h["is_current"] for h in history[:-1])
    assert "annonceur" in s.get(url).text.split('data-testid="decisions"')[1].split("</section>")[0]


def test_in_a_browser_an_advertiser_reads_the_campaign_report_and_records_a_reduction(browser, dashboard):
    """In Chromium: the campaign page's decree report (its ten sections in order, non fourni named), the
    XLSX download, and a réfaction taken with the form (the refusal of a réfaction without its reason shown
    as such), which lands in the inbox as a decision file."""
    home, mine = dashboard["home"], dashboard["mine"]
    order = warehouse_rows(home, "select purchase_order_id, campaign_id from fct_admission_decisions"
                                 " where advertiser_id = ? and is_current and decision = 'admission'"
                                 " order by 1 desc limit 1", [mine])[0]
    folder = home / "inbox" / "admission_decisions"
    before = {p.name for p in folder.iterdir()}
    context, page = browser_login(browser, dashboard, "annonceur")
    page.goto(f"{dashboard['url']}/campaigns/{order['campaign_id']}")
    sections = page.locator("[data-testid=campaign-report] section").evaluate_all(
        "nodes => nodes.map(n => n.dataset.section)")
    assert sections == ["1° a)", "1° b)", "1° c)", "1° d)", "1° e)", "2° a)", "2° b)", "2° c)", "3°", "4°"]
    assert "non fourni — source :" in page.inner_text("[data-testid=campaign-report] section[data-section='4°']")
    with page.expect_download() as report:
        page.click("text=Télécharger le bilan (XLSX)")
    assert report.value.suggested_filename == f"bilan_campagne_{order['campaign_id']}.xlsx"
    row = page.locator(f"[data-testid=decisions] tr[data-order='{order['purchase_order_id']}']")
    row.locator("select[name=decision]").select_option("réfaction")
    row.locator("input[name=refaction_eur]").fill("150,00")
    row.locator("button[type=submit]").click()
    assert "motivé" in page.inner_text("main")  # no reason: refused, nothing written
    assert {p.name for p in folder.iterdir()} == before
    page.go_back()
    row = page.locator(f"[data-testid=decisions] tr[data-order='{order['purchase_order_id']}']")
    row.locator("select[name=decision]").select_option("réfaction")
    row.locator("input[name=refaction_eur]").fill("150,00")
    row.locator("input[name=reason]").fill("Visibilité inférieure à l'engagement")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=decision-recorded]")
    page.screenshot(path=str(SCREENSHOTS / "campaign_decision_advertiser.png"), full_page=True)
    written = {p.name for p in folder.iterdir()} - before
    assert len(written) == 1
    line = (folder / written.pop()).read_text(encoding="utf-8").splitlines()[1]
    assert line.startswith(f"{order['purchase_order_id']};réfaction;150,00;Visibilité inférieure à l'engagement;annonceur;")
    context.close()
