"""Helpers of the nightly tests: the CLI in-process, the real flow, the marts as a user reads them."""

import json

import duckdb
from typer.testing import CliRunner

from mediarecon.cli import app
from mediarecon.flows.nightly_reconciliation import nightly_reconciliation

cli = CliRunner()

ON_CALL = "astreinte@sig.gouv.fr"
FIRST_RUN_BUSINESS: dict = {}  # every mart of the first, uninterrupted run, lineage aside


def advertiser_email(advertiser_id: str) -> str:
    return f"{advertiser_id.lower()}@annonceurs.test"


def mediarecon(*args) -> str:
    result = cli.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def run(home) -> dict:
    """The real flow, in-process (the CLI's `run` is smoke-tested as a subprocess in test_cli.py)."""
    return nightly_reconciliation(home=str(home))


def query_json(home, sql):
    return json.loads(mediarecon("query", "--home", home, "--format", "json", sql))


def marts(home):
    con = duckdb.connect(str(home / "warehouse" / "mediarecon.duckdb"), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall()
                for t in ("fct_findings", "fct_order_line_delivery")}
    finally:
        con.close()


def all_marts(path) -> dict:
    from mediarecon.warehouse.publish import mart_tables

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in mart_tables(con)}
    finally:
        con.close()

LINEAGE = ("source_file_sha256", "source_line", "evidence_file_sha256", "evidence_line")


def business_marts(path) -> dict:
    """Every mart without its lineage columns. Lineage names the received file a row was read from:
    a Chorus Pro answer or ZIP fetched at another moment has other bytes (timestamps, window), and
    of two copies of one invoice the first received is the evidence; the values must not differ."""
    from mediarecon.warehouse.publish import mart_tables

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for t in mart_tables(con):
            drop = [c[0] for c in con.execute(f"describe {t}").fetchall() if c[0] in LINEAGE]
            select = f"select * exclude ({', '.join(drop)})" if drop else "select *"
            out[t] = con.execute(f"{select} from {t} order by all").fetchall()
        return out
    finally:
        con.close()
