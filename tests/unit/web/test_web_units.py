"""The dashboard's parts that need no server: passwords and sessions, the scope, French formats, the chart."""

import datetime as dt
import sqlite3
import time
from decimal import Decimal

import duckdb
import pytest

from mediarecon.settings import ReaderSettings
from mediarecon.state.home import Home
from mediarecon import french
from mediarecon.web import charts
from mediarecon.web.scope import RELATIONS, PublishedWarehouse, Scope, ScopeError
from mediarecon.web.users import User, UserError, UserStore, hash_password, verify_password


def test_a_password_is_kept_as_a_slow_salted_hash():
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second and first.startswith("scrypt$32768$8$1$")  # salted: never the same twice
    assert verify_password("correct horse battery", first) and not verify_password("correct horse batterY", first)
    assert not verify_password("x", "md5$abc") and not verify_password("x", "garbage")
    started = time.perf_counter()
    verify_password("correct horse battery", first)
    assert time.perf_counter() - started > 0.02  # slow on purpose


def test_sessions_expire_and_end_with_their_user(tmp_path):
    store = UserStore(tmp_path / "users.sqlite")
    assert oct((tmp_path / "users.sqlite").stat().st_mode & 0o777) == "0o600"
    store.add("ademe", "advertiser", "twelve-chars-at-least", "ADV-ADEME", {"ADV-ADEME"})
    user = store.authenticate("ademe", "twelve-chars-at-least")
    assert user == User("ademe", "advertiser", "ADV-ADEME")
    assert store.authenticate("ademe", "wrong-password-here") is None and store.authenticate("nobody", "x") is None
    token, session = store.open_session(user, hours=8)
    assert store.session(token).user == user and store.session(token).csrf_token == session.csrf_token
    # only the token's hash is kept
    kept = sqlite3.connect(tmp_path / "users.sqlite").execute("select token_sha256 from sessions").fetchall()
    assert token not in str(kept)
    expired, _ = store.open_session(user, hours=-1)
    assert store.session(expired) is None and store.session("made-up") is None and store.session(None) is None
    store.remove("ademe")
    assert store.session(token) is None


@pytest.mark.parametrize("args,message", [
    (("Bad Login", "auditor", "twelve-chars-at-least"), "lower-case"),
    (("a", "king", "twelve-chars-at-least"), "must be one of"),
    (("a", "advertiser", "twelve-chars-at-least"), "needs --advertiser"),
    (("a", "auditor", "twelve-chars-at-least", "ADV-SIG"), "for --role advertiser only"),
    (("a", "advertiser", "twelve-chars-at-least", "ADV-X"), "not a known advertiser"),
    (("a", "auditor", "short"), "at least 12"),
])
def test_a_user_that_cannot_be_is_refused(tmp_path, args, message):
    with pytest.raises(UserError, match=message):
        UserStore(tmp_path / "users.sqlite").add(*args, known_advertisers={"ADV-SIG"})


def test_the_scope_filters_every_relation_and_refuses_a_bare_table():
    advertiser, staff = Scope("ADV-ADEME"), Scope(None)
    assert advertiser.sql("select * from {findings}") == \
        "select * from (select * from fct_findings where advertiser_id = $advertiser)"
    assert staff.sql("select * from {findings}") == "select * from (select * from fct_findings)"
    assert "where false" in advertiser.sql("select * from {epm_results}")
    assert advertiser.sql("select * from {finding_types}") == "select * from (select * from reference.finding_types)"
    for bare in ["select * from fct_findings", "select * from reference.advertisers", "select * from rpt_x",
                 "select * from information_schema.tables", "select * from duckdb_tables()",
                 'select * from "reference".advertisers', "select * from query_table('fc' || 't_findings')",
                 "select * from read_csv('x')", "select * from {no_such_relation}"]:
        with pytest.raises(ScopeError):
            advertiser.sql(bare)
    assert advertiser.params("… $advertiser …", {"x": 1}) == {"x": 1, "advertiser": "ADV-ADEME"}
    # only the known placeholders are replaced: other braces stay as written
    assert advertiser.sql("select '{x' || '}' from {finding_types}").startswith("select '{x' || '}' from (select")
    # a role the scope does not know sees nothing
    assert Scope.of(User("x", "auditor", None)).is_staff and Scope.of(User("y", "coordinator", None)).is_staff
    assert Scope.of(User("a", "advertiser", "ADV-A")) == Scope("ADV-A")
    for odd in [User("z", "admin", None), User("w", "advertiser", None)]:
        assert not Scope.of(odd).is_staff and not Scope.of(odd).allows(None) and not Scope.of(odd).allows("ADV-A")
    assert advertiser.allows("ADV-ADEME") and not advertiser.allows("ADV-SIG") and not advertiser.allows(None)
    assert staff.allows(None) and staff.allows("ADV-SIG")
    # every relation holding advertisers' rows has a filter (only reference lists are whole)
    assert {name for name, (_, keep) in RELATIONS.items() if keep is None} == \
        {"finding_types", "epm_commitments", "media_sellers", "agencies"}


def test_the_warehouse_reader_reopens_on_a_new_published_file(tmp_path):
    home = Home(tmp_path)
    home.warehouse_dir.mkdir()

    def publish(n):
        new = tmp_path / "new.duckdb"
        con = duckdb.connect(str(new))
        con.execute("create table fct_findings as select range as finding_id, 'ADV-A' as advertiser_id from range(?)", [n])
        con.close()
        new.replace(home.published_db)  # publish.py's rename

    publish(2)
    wh = PublishedWarehouse(home, ReaderSettings())
    assert len(wh.rows(Scope(None), "select * from {findings}")) == 2
    assert wh.rows(Scope("ADV-B"), "select * from {findings}") == []
    publish(5)
    assert len(wh.rows(Scope("ADV-A"), "select * from {findings}")) == 5
    wh.close()


def test_french_formats():
    assert french.eur(Decimal("1234567.895")) == "1\u202f234\u202f567,90\u202f€"
    assert french.eur(Decimal("-0.5")) == "-0,50\u202f€" and french.eur(None) == "—"
    assert french.number(999) == "999" and french.number(1000) == "1\u202f000"
    assert french.pct(Decimal("0.125")) == "12,5\u202f%"
    assert french.date(dt.date(2025, 3, 1)) == "01/03/2025"
    assert french.date("2025-07-01T10:00:00+00:00") == "01/07/2025 12:00"  # Paris summer time
    assert french.month(dt.date(2025, 8, 1)) == "août 2025"


def test_the_delivery_chart_marks_pauses_and_drops():
    days = [{"volume_date": dt.date(2025, 2, 27) + dt.timedelta(days=i), "volume": v, "planned": 1000.0,
             "is_paused": i == 1, "is_drop_day": i == 3} for i, v in enumerate([1000, 0, 900, 100])]
    svg = charts.delivery_chart(days, "impressions")
    assert svg.count('class="paused"') == 2  # the paused day and its legend
    assert svg.count('class="drop"') == 2
    assert "mars 2025" in svg and "févr. 2025" in svg and "impressions / jour" in svg
    assert "<script" not in svg
    assert "Aucune diffusion" in charts.delivery_chart([], "impressions")


def test_a_senders_text_that_looks_like_a_formula_stays_text_in_the_xlsx():
    import io

    from openpyxl import load_workbook

    from mediarecon.exports.reports import Column, write_xlsx

    book = io.BytesIO()
    write_xlsx(book, "t", [Column("a", "A"), Column("b", "B", "eur")],
               [('=HYPERLINK("http://x","clic")', Decimal("1.50")), ("-1+2", Decimal("2"))])
    sheet = load_workbook(io.BytesIO(book.getvalue())).active
    assert (sheet["A4"].data_type, sheet["A5"].data_type) == ("s", "s")
    assert sheet["A4"].value == '=HYPERLINK("http://x","clic")'


def test_the_statement_workbook_has_the_months_objectives_in_french_on_a_second_sheet():
    """reports.monthly_objectives: the lines ending in the month (not the month before or after), one
    advertiser's only when asked, codes in French; the sheet has the statement's layout and no totals."""
    import io

    import duckdb
    from openpyxl import load_workbook

    from mediarecon.exports import reports

    con = duckdb.connect()
    con.execute("""create table fct_campaign_objectives as select * from (values
        ('C1', 'L1', 'ADV-A', 'digital_display', date '2025-03-31', 'cpa_max', 'last_click', 40.0, 50.0, 25.0, 200.00,
         'missed', 'cpc_change'),
        ('C1', 'L1', 'ADV-A', 'digital_display', date '2025-03-31', 'ctr_min', null, 0.25, 0.3, 20.0, -50.00, 'met', null),
        ('C2', 'L2', 'ADV-B', 'social', date '2025-03-01', 'volume_min', null, 1000, 900, -10.0, 500.00, 'missed',
         'planned_pause'),
        ('C3', 'L3', 'ADV-A', 'social', date '2025-04-01', 'cpm_max', null, 5.0, 6.0, 20.0, 100.00, 'missed', null),
        ('C4', 'L4', 'ADV-A', 'social', date '2025-02-28', 'cpm_max', null, 5.0, null, null, null, 'not_measurable', null)
        ) as t(campaign_id, order_line_id, advertiser_id, media_type, end_date, indicator, attribution_model,
               objective_value, achieved_value, deviation_pct, deviation_eur, status, likely_cause)""")
    everyone = reports.monthly_objectives(con, "2025-03", None)
    assert [(r[1], r[4], r[5], r[10], r[11]) for r in everyone] == [
        ("L1", "CPA maximum (€)", "dernier clic", "manqué", "changement de CPC"),
        ("L1", "CTR minimum (%)", None, "atteint", None),
        ("L2", "Volume minimum", None, "manqué", "pause prévue")]
    assert [r[1] for r in reports.monthly_objectives(con, "2025-03", "ADV-B")] == ["L2"]
    book = io.BytesIO()
    reports.write_xlsx(book, "t", reports.MONTHLY_STATEMENT, [], more_sheets=(
        ("Objectifs", reports.OBJECTIVES_TITLE, reports.MONTHLY_OBJECTIVES, everyone),))
    wb = load_workbook(io.BytesIO(book.getvalue()))
    assert wb.sheetnames == ["État", "Objectifs"]
    sheet = wb["Objectifs"]
    assert [c.value for c in sheet[3]] == [c.label for c in reports.MONTHLY_OBJECTIVES]
    assert sheet.max_row == 3 + 3  # title, blank, header, three objectives, no totals row
    assert sheet["J4"].value == 200.0 and sheet["J4"].number_format == '#,##0.00 "€"'
    assert sheet["D4"].number_format == "DD/MM/YYYY" and sheet["G4"].number_format == "#,##0.00##"
