"""The synthetic State-year: deterministic, valid identifiers, labels in the shared vocabulary."""

import csv
import hashlib
from collections import defaultdict
from decimal import Decimal

from mediarecon.vocabulary import finding_types
from mediarecon.paths import read_seed
from simulators.state_year import generate


def digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_same_arguments_same_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=7, scale=0.02)
    generate(b, seed=7, scale=0.02)
    generate(c, seed=8, scale=0.02)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_labels_use_the_vocabulary_and_cover_every_type(tmp_path):
    s = generate(tmp_path, seed=5, scale=0.02)
    with open(tmp_path / "ground_truth" / "anomalies.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["anomaly_type", "entity_key", "first_date", "last_date", "amount_at_stake_eur", "note"]
    assert {r["anomaly_type"] for r in rows} == set(finding_types())
    assert all(r["first_date"] <= r["last_date"] for r in rows)
    assert s.anomalies == {t: sum(r["anomaly_type"] == t for r in rows) for t in finding_types()}


def luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    return sum(d if i % 2 == 0 else (2 * d - 9 if 2 * d > 9 else 2 * d) for i, d in enumerate(digits)) % 10 == 0


def test_reference_sirets_have_valid_luhn_keys():
    import re

    for seed in ("advertisers", "media_sellers"):
        sirets = [r["siret"] for r in read_seed(seed)]
        assert all(re.fullmatch(r"\d{14}", s) for s in sirets)
        assert all(luhn(s) for s in sirets), seed
    names = {r["short_name"] for r in read_seed("advertisers")}
    assert {"SIG", "ADEME", "INCA", "SPF", "ANAH", "CNSA", "ASC", "OFB", "ANJ", "DGAC", "CNIL", "DILA", "DDD"} <= names


def test_an_over_invoiced_label_bills_more_than_was_ordered_even_on_a_small_line():
    """At scale 10, 7 labels said 'over-invoiced' of press lines of 1 to 4 insertions billed exactly as
    ordered (8-20 % more, rounded): nothing to find, and the labelled-anomaly count came up short."""
    import dataclasses

    from simulators.chorus_invoices import InvoiceYear
    from simulators.state_year import StateYearGenerator

    g = StateYearGenerator(seed=1, scale=0.05)
    g.plan()
    g.choose_anomalies()
    g.choose_pauses()
    g.deliver()
    invoices = InvoiceYear(g)
    campaign = g.campaigns[0]
    for quantity in (1, 2, 3, 4):
        line = dataclasses.replace(campaign.lines[0], quantity=quantity, delivered=quantity)
        doc = invoices._document(campaign, line, "over_invoiced")
        assert doc.lines[0].quantity > quantity
        assert invoices.labels[-1]["note"].startswith(f"{int(doc.lines[0].quantity)} ")


def test_results_and_objectives_leave_every_other_draw_as_it_was(tmp_path, monkeypatch):
    """Conversions, revenue, video completions and objectives come from streams of their own: without them
    (the year as generated before #19) every file is the same once their columns are dropped, and so is
    every other label; with them, objective_missed labels appear and some CM360 reports (advertisers
    without Floodlight) and some régie bilans (régies that measure nothing) keep today's layout."""
    import io

    from simulators.state_year import CM360_FIELDS, OBJECTIVE_HEADERS, REGIE_RESULT_FIELDS, StateYearGenerator

    with_them, without = tmp_path / "with", tmp_path / "without"
    generate(with_them, seed=5, scale=0.03)  # a year with a CPC raised mid-flight
    monkeypatch.setattr(StateYearGenerator, "add_results", lambda self: None)
    monkeypatch.setattr(StateYearGenerator, "choose_objectives", lambda self: None)
    generate(without, seed=5, scale=0.03)

    def cells(path, n, delimiter, encoding):
        text = path.read_bytes().decode(encoding)
        return [r[:n] for r in csv.reader(io.StringIO(text), delimiter=delimiter)]

    files = sorted(p.relative_to(without) for p in without.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(with_them) for p in with_them.rglob("*") if p.is_file())
    layouts, costs, shifted = set(), defaultdict(lambda: [Decimal(0), Decimal(0)]), set()
    for rel in files:
        a, b = with_them / rel, without / rel
        if rel.parts[1:2] == ("ad_server",):
            layouts.add(len(cells(a, 99, ",", "utf-8")[7]))
            # the format (Creative Pixel Size, #21) ends every report, with or without the results
            assert cells(b, 99, ",", "utf-8")[7] == CM360_FIELDS + ["Creative Pixel Size"], rel
            assert [r[-1:] for r in cells(a, 99, ",", "utf-8")] == [r[-1:] for r in cells(b, 99, ",", "utf-8")], rel
            rows_a, rows_b = cells(a, len(CM360_FIELDS), ",", "utf-8"), cells(b, len(CM360_FIELDS), ",", "utf-8")
            # every cell alike but the media cost of the line whose CPC was raised (cause cpc_change)
            assert [r[:14] + r[15:] for r in rows_a] == [r[:14] + r[15:] for r in rows_b], rel
            for ra, rb in zip(rows_a, rows_b):
                if len(ra) > 14 and ra[7] and ra[11].isdigit() and ra[0] != "Grand Total:":
                    costs[ra[7]] = [costs[ra[7]][0] + Decimal(ra[14]), costs[ra[7]][1] + Decimal(rb[14])]
                    shifted |= {ra[7]} if ra[14] != rb[14] else set()
        elif rel.parts[1:2] == ("order_lines",):
            n = len(cells(b, 99, ";", "cp1252")[0]) - len(OBJECTIVE_HEADERS)
            assert cells(a, n, ";", "cp1252") == cells(b, n, ";", "cp1252"), rel
            assert any(any(r[n:]) for r in cells(a, 99, ";", "cp1252")[1:])
        elif rel.parts[1:2] == ("regie_reports",):  # some bilans carry the régie's results after today's columns
            encoding = "cp1252" if b"\r\n" in b.read_bytes() else "utf-8"
            layouts.add(("regie", len(cells(a, 99, ";", encoding)[0])))
            assert cells(a, 7, ";", encoding) == cells(b, 99, ";", encoding), rel
        elif rel.name == "anomalies.csv":
            cpc_changed = {r[1].split("|")[0] for r in cells(a, 99, ",", "utf-8")
                           if r[-1].endswith("cause: cpc_change")}
            kept = [r for r in cells(a, 99, ",", "utf-8") if r[0] != "objective_missed"]
            assert kept == cells(b, 99, ",", "utf-8")
            assert len(kept) < len(cells(a, 99, ",", "utf-8"))
        else:
            assert a.read_bytes() == b.read_bytes(), rel
    assert layouts == {len(CM360_FIELDS) + 1, len(CM360_FIELDS) + 9,  # with the format column (#21) last
                       ("regie", 7), ("regie", 7 + len(REGIE_RESULT_FIELDS))}
    assert shifted == cpc_changed and len(shifted) == 1  # its cost moved from the first days to the last ones,
    assert all(a == b for a, b in costs.values())  # not added: every line costs the year what it did


def test_brand_safety_and_decisions_leave_every_other_file_and_label_as_they_were(tmp_path, monkeypatch):
    """Exclusion lists, breaches and decisions (#21) come last from streams of their own: without breaches
    and decisions, only the breach placements' site cells, the two new files and the new labels differ."""
    from simulators.state_year import StateYearGenerator

    with_them, without = tmp_path / "with", tmp_path / "without"
    generate(with_them, seed=4, scale=0.03)
    real = StateYearGenerator.choose_brand_safety

    def no_breach(self):
        real(self)
        self.breach_sites, self.exclusions = {}, self.exclusions[:0]
        self.labels = [r for r in self.labels if r["anomaly_type"] != "brand_safety_breach"]

    monkeypatch.setattr(StateYearGenerator, "choose_brand_safety", no_breach)
    monkeypatch.setattr(StateYearGenerator, "decide_admissions", lambda self, invoices: setattr(self, "decisions", []))
    generate(without, seed=4, scale=0.03)
    new_types = {"brand_safety_breach", "invoiced_before_admission", "paid_after_rejection"}
    breach_sites = {"forum-anonyme.example", "www.paris-turf-bonus.example", "casino-en-ligne.example"}
    changed_cells = 0
    for a in sorted(p for p in with_them.rglob("*") if p.is_file()):
        rel = a.relative_to(with_them)
        b = without / rel
        if rel.parts[1:2] in (("brand_safety",), ("admission_decisions",)):
            assert len(b.read_text(encoding="utf-8").splitlines()) == 1  # the header only
        elif rel.name == "anomalies.csv":
            with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb:
                kept = [r for r in csv.DictReader(fa) if r["anomaly_type"] not in new_types]
                assert kept == list(csv.DictReader(fb))
        elif rel.parts[1:2] == ("ad_server",):
            rows_a, rows_b = a.read_text(encoding="utf-8").splitlines(), b.read_text(encoding="utf-8").splitlines()
            assert len(rows_a) == len(rows_b)
            for x, y in zip(rows_a, rows_b):
                if x != y:
                    cx, cy = next(csv.reader([x])), next(csv.reader([y]))
                    assert cx[8] in breach_sites and cx[:8] + cx[9:] == cy[:8] + cy[9:], rel
                    changed_cells += 1
        else:
            assert a.read_bytes() == b.read_bytes(), rel
    assert changed_cells > 0
