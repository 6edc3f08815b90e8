"""The Chorus Pro client against the simulator, over real HTTP on loopback."""

import base64
import csv
import dataclasses
import io
import json
import logging
import time
import zipfile

import pytest
import requests

from connectors.chorus_pro import ChorusAuthError, ChorusError, ChorusProClient, detect_document_type
from connectors.einvoice import check_totals, parse_bytes
from connectors.secret import Secret
from mediarecon.settings import ChorusSettings
from simulators.chorus_pro import ChorusProSimulator, Faults


@pytest.fixture
def sim(state_year):
    settings = ChorusSettings.from_env().client_config()
    with ChorusProSimulator(state_year, settings, faults=Faults()) as s:
        yield s


def client_for(sim, **overrides) -> ChorusProClient:
    base = dataclasses.replace(
        ChorusSettings.from_env().client_config(), api_url=sim.url, token_url=sim.url + "/api/oauth/token", backoff_s=0.01,
        page_size=20, read_timeout_s=2, max_attempts=4)
    return ChorusProClient(requests.Session(), dataclasses.replace(base, **overrides))


def all_invoices(client, **kw):
    return [inv for page in client.search_invoices(**kw) for inv in page.data["listeFactures"]]


def test_paging_over_several_pages_returns_every_invoice_once(sim, state_year):
    client = client_for(sim)
    pages = list(client.search_invoices())
    expected = json.loads((state_year / "chorus" / "invoices.json").read_text())["invoices"]
    assert len(pages) >= 3 and len(pages) == -(-len(expected) // 20)
    assert [p.data["pageCourante"] for p in pages] == list(range(1, len(pages) + 1))
    ids = [inv["idFacture"] for p in pages for inv in p.data["listeFactures"]]
    assert sorted(ids) == sorted(i["idFacture"] for i in expected)
    assert set(pages[0].data["listeFactures"][0]) >= {"idFacture", "numeroFacture", "statut", "dateDepot",
                                                       "dateHeureEtatCourant", "codeFournisseur", "numeroBonCommande",
                                                       "montantTTC"}


def test_status_window_filters_and_empty_search_is_empty(sim):
    client = client_for(sim)
    everything = all_invoices(client)
    cut = sorted(i["dateHeureEtatCourant"] for i in everything)[len(everything) // 2]
    later = all_invoices(client, since=cut)
    assert later and all(i["dateHeureEtatCourant"] >= cut for i in later)
    assert len(later) < len(everything)
    assert all_invoices(client, since="2099-01-01T00:00:00+00:00") == []


def test_history_download_and_structures(sim, state_year):
    client = client_for(sim)
    with open(state_year / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        broken = {r["entity_key"] for r in csv.DictReader(f) if r["anomaly_type"] == "invoice_arithmetic_error"}
    inv = next(i for i in all_invoices(client)  # a UBL or CII deposit whose totals add up
               if i["modeDepot"] == "EDI_XML_STRUCT" and f"{i['codeFournisseur']}|{i['numeroFacture']}" not in broken)
    hist = client.invoice_history(inv["idFacture"]).data
    codes = [h["histoStatutCode"] for h in hist["historiquesDesStatuts"]["histoStatut"]]
    assert codes[-1] == "DEPOSEE" and codes[0] == hist["statutCourantCode"] == inv["statut"]
    _, xml, kind = client.download_invoices([inv["idFacture"]])
    assert kind == "xml" and inv["numeroFacture"].encode() in xml
    doc = parse_bytes(xml, "document.xml")  # a real EN 16931 invoice, totals that add up
    assert check_totals(doc) == []
    assert (doc.number, doc.seller.siret, doc.buyer.siret, doc.order_reference or "", doc.buyer_reference) == (
        inv["numeroFacture"], inv["codeFournisseur"], inv["codeDestinataire"], inv["numeroBonCommande"],
        inv["codeServiceExecutant"])
    assert str(doc.totals.payable) == inv["montantTTC"]
    _, pdf, kind = client.download_invoices([inv["idFacture"]], fmt="PDF")
    assert kind == "pdf"
    second = all_invoices(client)[1]
    _, zipped, kind = client.download_invoices([inv["idFacture"], second["idFacture"]])
    assert kind == "zip" and len(zipfile.ZipFile(io.BytesIO(zipped)).namelist()) == 2
    assert client.structure_id(inv["codeDestinataire"]) == inv["idDestinataire"]
    services = client.search_services(inv["idDestinataire"]).data["listeServices"]
    assert inv["codeServiceExecutant"] in {s["codeService"] for s in services}
    assert client.consult_invoice(inv["idFacture"]).data["facture"]["numeroFacture"] == inv["numeroFacture"]


def test_every_call_sends_bearer_and_cpro_account(sim):
    seen = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.headers))
    client = ChorusProClient(session, dataclasses.replace(client_for(sim).s))
    client.structure_id("00000000000000")
    api = [h for h in seen if "cpro-account" in h]
    assert api and api[0]["Authorization"].startswith("Bearer ")
    assert base64.b64decode(api[0]["cpro-account"]).decode() == "TECH_mediarecon_tests@cpro.fr:tests-technical-password"


def test_token_expiring_early_is_renewed_once(sim):
    sim.faults.token_ttl_s = 0.3
    client = client_for(sim)
    client.search_structures("x")
    time.sleep(0.5)
    assert list(client.search_invoices())  # 401 -> new token -> success
    assert sim.faults.calls.count("token") >= 2


def test_429_with_retry_after_then_success(sim):
    siret = all_invoices(client_for(sim))[0]["codeDestinataire"]
    waits = []
    client = client_for(sim)
    client.sleep = waits.append
    sim.faults.too_many_requests, sim.faults.retry_after_s = 2, 3
    assert client.structure_id(siret)
    assert waits == pytest.approx([3.0, 3.0], abs=0.1)  # until the time the service named


def test_500_until_retries_are_exhausted_is_a_clear_error(sim):
    sim.faults.server_errors = 10
    with pytest.raises(ChorusError, match=r"search_invoices page 1: HTTP 500 after 4 attempts"):
        list(client_for(sim).search_invoices())


def test_timeout_is_retried_then_reported(sim):
    sim.faults.slow_s = 0.6
    with pytest.raises(ChorusError, match="no answer after 2 attempts .ReadTimeout."):
        client_for(sim, read_timeout_s=0.2, max_attempts=2).structure_id("x")


def test_a_malformed_page_is_retried_then_named_with_its_page(sim):
    expected = all_invoices(client_for(sim))
    sim.faults.malformed_search_page, sim.faults.malformed_times = 2, 1
    client = client_for(sim)
    client.sleep = lambda s: None
    assert [i for p in client.search_invoices() for i in p.data["listeFactures"]] == expected  # once: retried
    sim.faults.malformed_search_page, sim.faults.malformed_times = 2, 10
    with pytest.raises(ChorusError, match="search_invoices page 2: HTTP 200, answer is not valid JSON after 4 attempts"):
        list(client.search_invoices())


def test_a_token_renewal_does_not_use_up_an_attempt(sim):
    sim.faults.token_ttl_s = 0.3
    client = client_for(sim, max_attempts=2)
    client.sleep = lambda s: None
    client.search_structures("x")
    sim.faults.token_ttl_s = None  # the first token dies at 0.3 s, the renewed one lives
    time.sleep(0.5)
    sim.faults.server_errors = 1  # expired token (401, renewed) then one 500: two attempts are enough
    assert list(client.search_invoices())


def test_wrong_credentials_are_clear_and_never_leak_the_secret(sim, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ChorusAuthError) as e:
        client_for(sim, client_secret=Secret("s3cr3t-wrong")).structure_id("x")
    assert "MEDIARECON_CHORUS_CLIENT_SECRET" in str(e.value) and "s3cr3t-wrong" not in str(e.value)
    with pytest.raises(ChorusAuthError) as e:
        client_for(sim, password=Secret("p4ss-wrong")).structure_id("x")
    assert "login or password incorrects" in str(e.value)
    assert "p4ss-wrong" not in str(e.value) and "p4ss-wrong" not in caplog.text
    assert base64.b64encode(b"TECH_mediarecon_tests@cpro.fr:p4ss-wrong").decode() not in caplog.text + str(e.value)
    assert "s3cr3t" not in repr(client_for(sim).s)


def test_magic_bytes():
    assert detect_document_type(b"%PDF-1.4 ...") == "pdf"
    assert detect_document_type(b"PK\x03\x04....") == "zip"
    assert detect_document_type(b"\xef\xbb\xbf<?xml version='1.0'?><Invoice/>") == "xml"


def test_simulator_refuses_like_piste(sim):
    api = sim.url + "/cpro/factures/v1/rechercher/recipiendaire"
    r = requests.post(api, json={}, timeout=5)
    assert r.status_code == 401 and 'realm="PISTE"' in r.headers["WWW-Authenticate"]
    token = requests.post(sim.url + "/api/oauth/token", timeout=5, data={
        "grant_type": "client_credentials", "client_id": sim.settings.client_id.reveal(),
        "client_secret": sim.settings.client_secret.reveal(), "scope": "openid"}).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    r = requests.post(api, json={}, timeout=5, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 403 and r.content == b""  # no cpro-account
    wrong = base64.b64encode(b"someone:else").decode()
    r = requests.post(api, json={}, timeout=5,
                      headers={"Authorization": f"Bearer {token['access_token']}", "cpro-account": wrong})
    assert r.status_code == 401 and "login or password incorrects" in r.headers["WWW-Authenticate"]
    r = requests.post(sim.url + "/api/oauth/token", timeout=5,
                      data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
