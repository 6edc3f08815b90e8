"""Each raw-object schema on good and bad rows: what is quarantined, on which line, by which rule."""

import csv
import io

import pytest

from mediarecon.ingest.tabular import validate_table
from mediarecon.ingest.sources import SOURCES

GOOD = {
    "purchase_orders": {
        "N° BDC": "2500000001", "Date du BDC": "10/02/2025", "Annonceur": "Santé publique France",
        "SIRET annonceur": "38375367000017", "Code service Chorus": "SE-SPF-MEDIA", "Campagne": "CMP-2025-0001",
        "Libellé campagne": "Vaccination grippe 2025", "Code UO": "02-02", "Montant brut HT": "1 000,00",
        "Montant net HT": "800,00", "TVA": "160,00", "Montant TTC": "960,00", "Taux honoraires": "4,50",
        "Montant honoraires HT": "36,00", "Date de début": "01/03/2025", "Date de fin": "31/03/2025",
    },
    "order_lines": {
        "N° BDC": "2500000001", "N° ligne": "1", "Régie": "Teads France", "SIRET régie": "22194161000034",
        "Type de média": "digital_video", "Code UO": "02-02", "Unité d'achat": "impression",
        "Base tarifaire": "cpm", "Quantité commandée": "100000", "Prix unitaire brut": "10,00",
        "Montant brut HT": "1000,00", "Remise dégressif": "100,00", "Abattement intérêt général": "0,00",
        "Remise professionnelle": "0,00", "Cumul des mandats": "100,00", "Montant net HT": "800,00",
        "TVA": "160,00", "Montant TTC": "960,00", "Taux honoraires": "4,50", "Date de début": "01/03/2025",
        "Date de fin": "31/03/2025",
    },
    "ad_server": {
        "Date": "2025-03-01", "Advertiser": "Santé publique France", "Advertiser ID": "7000015",
        "Campaign": "Vaccination grippe 2025", "Campaign External ID": "CMP-2025-0001",
        "Placement": "Teads - P1", "Placement ID": "300000001", "Placement External ID": "2500000001-001",
        "Site (CM360)": "Teads France", "Creative": "visuel 1", "Creative ID": "150000001",
        "Impressions": "1000", "Clicks": "3", "Active View: Viewable Impressions": "600", "Media Cost": "8.00",
    },
    "regie_reports": {
        "Référence ordre": "2500000001-002", "Campagne": "Vaccination grippe 2025", "Support": "TF1 Publicité",
        "Date de diffusion": "03/03/2025", "Type d'unité": "Spot", "Quantité diffusée": "2",
        "Montant net HT": "12 500,50",
    },
    "email_deliverability": {
        "Date": "2025-03-01", "CampaignID": "40001", "CustomCampaign": "2500000001-003", "ESPName": "orange.fr",
        "AttemptedMessagesCount": "100", "DeliveredMessagesCount": "95", "SoftBouncedMessagesCount": "2",
        "HardBouncedMessagesCount": "1", "BlockedMessagesCount": "2", "SpamReportsCount": "0",
        "OpenedMessagesCount": "20", "ClickedMessagesCount": "2",
    },
    "forbidden_campaigns": {
        "Campagne": "CMP-2025-0001", "Annonceur": "SPF", "Interdite depuis le": "15/04/2025",
        "Motif": "Campagne retirée",
    },
    "brand_safety": {
        "SIRET annonceur": "38375367000017", "Type": "domaine", "Site, domaine ou groupe de sites": "paris-turf.example",
        "Exclu depuis le": "01/03/2025", "Motif": "Jeux d'argent",
    },
    "admission_decisions": {
        "N° BDC": "2500000001", "Décision": "réfaction", "Montant réfaction": "1 250,00",
        "Motif": "Visibilité inférieure à l'engagement", "Décidé par": "Service communication SPF",
        "Décidé le": "2025-04-02 10:15",
    },
}

# The bad row gets another key than the good one, so that only the rule under test fires.
OTHER_KEY = {
    "purchase_orders": {"N° BDC": "2500000002"},
    "order_lines": {"N° ligne": "2"},
    "ad_server": {"Creative ID": "150000002"},
    "regie_reports": {"Date de diffusion": "04/03/2025"},
    "email_deliverability": {"ESPName": "free.fr"},
    "forbidden_campaigns": {"Campagne": "CMP-2025-0002"},
    "brand_safety": {"Site, domaine ou groupe de sites": "casino.example"},
    "admission_decisions": {"Décidé le": "2025-04-03 09:00"},
}

# (source, column header, bad value, expected rule fragment)
BAD = [
    ("purchase_orders", "SIRET annonceur", "38375367000018", "siret_key"),
    ("purchase_orders", "Date du BDC", "31/02/2025", "real_calendar_date"),
    ("purchase_orders", "Montant TTC", "961,00", "ttc_equals_net_plus_vat"),
    ("order_lines", "Montant net HT", "801,00", "net_equals_gross_minus_discounts"),
    ("order_lines", "Type de média", "télévision", "isin"),
    ("order_lines", "Quantité commandée", "beaucoup", "coerce_dtype"),
    ("order_lines", "Date de fin", "01/02/2025", "end_not_before_start"),
    ("ad_server", "Impressions", "-5", "greater_than_or_equal_to"),
    ("ad_server", "Active View: Viewable Impressions", "5000", "viewable_not_above_impressions"),
    ("ad_server", "Media Cost", "8,00", "str_matches"),
    ("regie_reports", "Référence ordre", "BDC 12", "str_matches"),
    ("regie_reports", "Quantité diffusée", "0", "greater_than"),
    ("email_deliverability", "DeliveredMessagesCount", "96", "attempted_equals_delivered_plus_failures"),
    ("forbidden_campaigns", "Interdite depuis le", "2025-04-15", "str_matches"),
    ("brand_safety", "Type", "liste", "isin"),
    ("brand_safety", "SIRET annonceur", "38375367000018", "siret_key"),
    ("brand_safety", "Site, domaine ou groupe de sites", "deux sites", "str_matches"),
    ("admission_decisions", "Décision", "acceptée", "isin"),
    ("admission_decisions", "Montant réfaction", "", "refaction_has_a_positive_amount"),
    ("admission_decisions", "Motif", "", "refaction_or_rejection_is_motivated"),
    ("admission_decisions", "Décidé le", "02/04/2025", "str_matches"),
]


def table_for(source, rows, tmp_path):
    spec = SOURCES[source]
    delimiter = ";" if spec.french_numbers else ","
    buf = io.StringIO()
    header = list(GOOD[source])
    if source == "ad_server":
        buf.write("Report Name,test\n\nReport Fields\n")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r[h] for h in header])
    p = tmp_path / f"{source}.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    return spec, spec.reader(p)


@pytest.mark.parametrize("source", list(GOOD))
def test_good_row_is_valid(source, tmp_path):
    spec, table = table_for(source, [GOOD[source]], tmp_path)
    result = validate_table(spec, table, f"{source}.csv")
    assert result.reject_reason is None
    assert result.quarantine == []
    assert len(result.valid) == 1


@pytest.mark.parametrize("source,header,value,rule", BAD)
def test_bad_row_is_quarantined_with_line_column_rule_and_value(source, header, value, rule, tmp_path):
    bad = GOOD[source] | OTHER_KEY[source] | {header: value}
    spec, table = table_for(source, [GOOD[source], bad], tmp_path)
    result = validate_table(spec, table, f"{source}.csv")
    assert result.reject_reason is None
    bad_line = table.line_numbers[1]
    hits = [q for q in result.quarantine if q["line"] == bad_line and rule in q["rule"]]
    assert hits, result.quarantine
    column = spec.headers[header]
    column_hits = [q for q in hits if q["column_name"] == column]
    if column_hits:  # a column rule names the column and the value as written
        assert column_hits[0]["value"] == value.replace(",", ".") if spec.french_numbers and "," in value \
            else column_hits[0]["value"] == value
    else:  # a row rule (several columns) names no single column but keeps the whole row
        assert all(q["column_name"] is None for q in hits)
        assert f'"{column}":' in hits[0]["row_json"]
    assert all(q["line"] != table.line_numbers[0] for q in result.quarantine)
    assert len(result.valid) == 1 and result.valid.column("_source_line").to_pylist() == [table.line_numbers[0]]


def test_missing_column_rejects_the_whole_file(tmp_path):
    spec = SOURCES["regie_reports"]
    p = tmp_path / "bilan.csv"
    p.write_text("Référence ordre;Campagne\n2500000001-002;X\n", encoding="utf-8")
    result = validate_table(spec, spec.reader(p), "bilan.csv")
    assert result.valid is None
    assert result.reject_reason.startswith("bilan.csv: missing column(s) 'Support'")


def test_french_amount_with_spaces_is_exact(tmp_path):
    from decimal import Decimal

    spec, table = table_for("regie_reports", [GOOD["regie_reports"]], tmp_path)
    valid = validate_table(spec, table, "x.csv").valid
    assert valid.column("net_ht_eur").to_pylist() == [Decimal("12500.50")]
    assert str(valid.schema.field("net_ht_eur").type) == "decimal128(18, 2)"


def test_every_whitespace_around_a_cell_is_trimmed_and_nothing_else(tmp_path):
    """The door trims what str.strip() strips (29 characters, 20 of them beyond ASCII) at either end of a
    cell, alone in its column (a column is looked at as a whole), and an empty cell is NULL. Accented
    letters at the ends stay: 'é' ends with byte 0xA9, as the paragraph separator U+2029 does."""
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert len(spaces) == 29
    in_a_line = [s for s in spaces if s not in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"]  # csv: line breaks
    cases = [(f"{s}Élysée", f"{s}3", "") for s in in_a_line] + [(f"Santé{s}", f"3{s}", s) for s in in_a_line]
    cases += [("Santé", "3", "x"), ("Élysée", "3", "x"), ("Ω", "3", "x")]
    for i, (advertiser, clicks, ref) in enumerate(cases):
        row = GOOD["ad_server"] | {"Advertiser": advertiser, "Clicks": clicks, "Placement External ID": ref}
        spec, table = table_for("ad_server", [row, GOOD["ad_server"] | {"Creative ID": "1"}], tmp_path)
        valid = validate_table(spec, table, "x.csv").valid
        got = valid.select(["advertiser_name", "clicks", "order_line_ref"]).to_pylist()[0]
        assert got == {"advertiser_name": advertiser.strip(), "clicks": 3, "order_line_ref": ref.strip() or None}, i


@pytest.mark.parametrize("siret,valid", [
    ("35600000049837", True),   # a La Poste establishment: no Luhn key, digit sum 45 is a multiple of 5
    ("35600000049838", False),  # the same with a wrong last digit: sum 46
    ("35600000000048", True),   # La Poste's head office keeps the Luhn key
    ("35600000000049", False),
    ("73282932000074", True),   # any other SIRET: the Luhn key
    ("38375367000018", False),
    ("38375367000017", True),
])
def test_siret_keys_follow_insee_including_la_poste(siret, valid, tmp_path):
    row = GOOD["purchase_orders"] | {"SIRET annonceur": siret}
    spec, table = table_for("purchase_orders", [row], tmp_path)
    result = validate_table(spec, table, "bdc.csv")
    assert len(result.valid) == int(valid)
    assert [q["rule"] for q in result.quarantine] == ([] if valid else ["siret_key"])


def test_a_key_repeated_within_a_file_quarantines_both_rows_and_the_same_key_in_another_file_does_not(tmp_path):
    """Several files in one query, or one alone: each file gets its own verdict, its rows in their file's
    order, its own lineage values."""
    from mediarecon.ingest.tabular import validate_tables

    other = {**GOOD["ad_server"], **OTHER_KEY["ad_server"]}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    spec, repeated = table_for("ad_server", [GOOD["ad_server"], other, GOOD["ad_server"]], tmp_path / "a")
    _, clean = table_for("ad_server", [other, GOOD["ad_server"]], tmp_path / "b")
    lineage = {"_source_file_name": ["a.csv", "b.csv"]}
    first, second = validate_tables(spec, [repeated, clean], lineage)
    assert [(q["line"], q["rule"]) for q in first.quarantine] == [(5, "multiple_fields_uniqueness"),
                                                                  (7, "multiple_fields_uniqueness")]
    assert first.valid.column("_source_line").to_pylist() == [6] and first.rows_read == 3
    assert second.quarantine == [] and second.valid.column("_source_line").to_pylist() == [5, 6]
    assert second.valid.column("creative_id").to_pylist() == ["150000002", "150000001"]
    assert first.valid.column("_source_file_name").to_pylist() == ["a.csv"]
    assert second.valid.column("_source_file_name").to_pylist() == ["b.csv", "b.csv"]
    (alone,) = validate_tables(spec, [clean], {"_source_file_name": ["b.csv"]})
    assert alone.valid.drop(["_source_file_name"]).equals(second.valid.drop(["_source_file_name"]))


# The optional result and objective columns (#19): CM360's Floodlight and video metrics, the order lines'
# objectives. Today's files, without them, are valid (GOOD above); with them, they are read and checked.
WITH_RESULTS = {
    "ad_server": GOOD["ad_server"] | {
        "Total Conversions": "8", "Click-through Conversions": "3", "View-through Conversions": "5",
        "Total Revenue": "80.00", "Click-through Revenue": "30.00", "View-through Revenue": "50.00",
        "Video Plays": "900", "Video Completions": "600"},
    # a régie declaring results in its bilan, in French (the headers of schemas/regie_reports.py)
    "regie_reports": GOOD["regie_reports"] | {
        "Conversions": "8", "Conversions post-clic": "3", "Conversions post-impression": "5",
        "Chiffre d'affaires HT": "80,00", "Chiffre d'affaires post-clic HT": "30,00",
        "Chiffre d'affaires post-impression HT": "50,00", "Vidéos lancées": "900", "Vidéos vues en entier": "600"},
    "order_lines": GOOD["order_lines"] | {
        "Objectif volume": "100000", "Objectif CPM": "9,50", "Objectif CPC": "", "Objectif CPA": "12,00",
        "Objectif CTR (%)": "0,25", "Objectif taux de complétion (%)": "70", "Modèle d'attribution": "dernier_clic",
        "Fenêtre d'attribution (jours)": "30"},
}


def rows_table(source, rows, tmp_path):
    spec = SOURCES[source]
    buf = io.StringIO()
    if source == "ad_server":
        buf.write("Report Name,test\n\nReport Fields\n")
    w = csv.writer(buf, delimiter="," if source == "ad_server" else ";", lineterminator="\n")
    w.writerow(list(rows[0]))
    w.writerows([list(r.values()) for r in rows])
    p = tmp_path / f"{source}.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    return spec, spec.reader(p)


def test_without_the_optional_result_and_objective_columns_they_are_null(tmp_path):
    for source, columns in (("ad_server", ["total_conversions", "video_completions", "total_revenue_eur"]),
                            ("regie_reports", ["total_conversions", "video_plays", "click_through_revenue_eur"]),
                            ("order_lines", ["target_cpa_eur", "attribution_model", "attribution_window_days"])):
        spec, table = rows_table(source, [GOOD[source]], tmp_path)
        valid = validate_table(spec, table, "x.csv").valid
        assert [valid.column(c).to_pylist() for c in columns] == [[None]] * 3, source


def test_result_and_objective_columns_are_read_typed(tmp_path):
    from decimal import Decimal

    spec, table = rows_table("ad_server", [WITH_RESULTS["ad_server"]], tmp_path)
    row = validate_table(spec, table, "x.csv").valid.to_pylist()[0]
    assert (row["total_conversions"], row["click_through_conversions"], row["view_through_conversions"]) == (8, 3, 5)
    assert (row["click_through_revenue_eur"], row["video_plays"], row["video_completions"]) == (Decimal("30.00"), 900, 600)
    spec, table = rows_table("regie_reports", [WITH_RESULTS["regie_reports"]], tmp_path)
    row = validate_table(spec, table, "x.csv").valid.to_pylist()[0]
    assert (row["total_conversions"], row["click_through_conversions"], row["view_through_conversions"]) == (8, 3, 5)
    assert (row["total_revenue_eur"], row["view_through_revenue_eur"]) == (Decimal("80.00"), Decimal("50.00"))
    assert (row["video_plays"], row["video_completions"], row["net_ht_eur"]) == (900, 600, Decimal("12500.50"))
    spec, table = rows_table("order_lines", [WITH_RESULTS["order_lines"]], tmp_path)
    row = validate_table(spec, table, "x.csv").valid.to_pylist()[0]
    assert row["target_volume"] == 100000 and row["target_cpm_eur"] == Decimal("9.5") and row["target_cpc_eur"] is None
    assert (row["target_ctr_pct"], row["attribution_model"], row["attribution_window_days"]) == (
        Decimal("0.25"), "dernier_clic", 30)


@pytest.mark.parametrize("source,header,value,rule", [
    ("ad_server", "Total Conversions", "9", "total_conversions_are_click_plus_view"),
    ("ad_server", "Click-through Revenue", "31.00", "total_revenue_is_click_plus_view"),
    ("ad_server", "Video Completions", "901", "completions_not_above_plays"),
    ("ad_server", "View-through Conversions", "-1", "greater_than_or_equal_to"),
    ("regie_reports", "Conversions", "9", "total_conversions_are_click_plus_view"),
    ("regie_reports", "Chiffre d'affaires post-clic HT", "31,00", "total_revenue_is_click_plus_view"),
    ("regie_reports", "Vidéos vues en entier", "901", "completions_not_above_plays"),
    ("regie_reports", "Conversions post-clic", "-1", "greater_than_or_equal_to"),
    ("order_lines", "Modèle d'attribution", "linéaire", "isin"),
    ("order_lines", "Fenêtre d'attribution (jours)", "365", "less_than_or_equal_to"),
    ("order_lines", "Objectif CPA", "0,00", "targets_are_positive"),
    ("order_lines", "Objectif CTR (%)", "120", "rate_targets_at_most_100_pct"),
])
def test_bad_result_or_objective_is_quarantined(source, header, value, rule, tmp_path):
    bad = WITH_RESULTS[source] | OTHER_KEY[source] | {header: value}
    spec, table = rows_table(source, [WITH_RESULTS[source], bad], tmp_path)
    result = validate_table(spec, table, f"{source}.csv")
    assert [q["line"] for q in result.quarantine if rule in q["rule"]] == [table.line_numbers[1]], result.quarantine
    assert len(result.valid) == 1
