"""One exit-code table for every command (mediarecon.cli.common.ExitCode, README "Exit codes"), -h and
--version as users of other tools expect them, and allowed values named in the help."""

import pytest
from typer.testing import CliRunner

from mediarecon import __version__
from mediarecon.cli import app
from mediarecon.cli.common import ExitCode

cli = CliRunner()


@pytest.fixture
def new_home(tmp_path):
    home = tmp_path / "home"
    assert cli.invoke(app, ["init", "--home", str(home)]).exit_code == 0
    return home


def test_the_table_is_the_documented_one():
    assert {c.name: c.value for c in ExitCode} == {"OK": 0, "FAILED": 1, "USAGE": 2, "LOCKED": 3, "INCOMPLETE": 4,
                                                   "NOTHING_YET": 5, "INTERRUPTED": 130}


@pytest.mark.parametrize("args, says", [
    (["query", "select 1"], "no published warehouse"),
    (["audit", "findings_by_seller"], "no published warehouse"),
    (["report", "monthly", "--month", "2025-03"], "no published warehouse"),
    (["alerts", "list"], "no alert store"),
    (["docs"], "no data dictionary"),
])
def test_every_command_says_nothing_yet_the_same_way_on_a_home_with_no_run(new_home, args, says):
    result = cli.invoke(app, [*args, "--home", str(new_home)])
    assert result.exit_code == ExitCode.NOTHING_YET and says in result.output, (args, result.output)


@pytest.mark.parametrize("args", [["-h"], ["query", "-h"], ["alerts", "-h"], ["alerts", "list", "-h"],
                                  ["users", "add", "-h"]])
def test_dash_h_is_help_everywhere(args):
    result = cli.invoke(app, args)
    assert result.exit_code == 0 and "Usage: " in result.output and "--help" in result.output


def test_version():
    result = cli.invoke(app, ["--version"])
    assert (result.exit_code, result.output.strip()) == (0, f"mediarecon {__version__}")


@pytest.mark.parametrize("args, allowed", [
    (["query", "-h"], "<table|csv|json|xlsx>"), (["run", "-h"], "<duckdb|spark>"),
    (["users", "add", "-h"], "<coordinator|auditor|adv"), (["status", "-h"], "<table|json>"),
])
def test_the_help_names_the_allowed_values_and_others_are_refused_as_usage(args, allowed):
    assert allowed in cli.invoke(app, args, terminal_width=200).output
    refused = cli.invoke(app, ["query", "--format", "yaml", "select 1"])
    assert refused.exit_code == ExitCode.USAGE and "'yaml' is not one of" in refused.output


def test_tables_right_align_numbers_with_their_thousands_apart_and_csv_is_french_unless_asked():
    import datetime as dt
    from decimal import Decimal

    from mediarecon.cli.auditor import csv_text
    from mediarecon.cli.common import render_table

    rows = [("Défenseur des droits", 3, Decimal("560042448.58"), dt.date(2025, 3, 1)),
            ("SIG", 12345, None, None)]
    table = render_table(["advertiser", "n", "amount_eur", "day"], rows).splitlines()
    assert table[0] == "advertiser" + " " * 10 + "  " + "     n" + "  " + "    amount_eur" + "  " + "day"
    assert table[2] == "Défenseur des droits" + "  " + "     3" + "  " + "560 042 448,58" + "  " + "2025-03-01"
    assert table[3] == "SIG" + " " * 17 + "  " + "12 345"
    assert csv_text(["a", "n", "eur", "day"], rows[:1], "french") == \
        'a;n;eur;day\r\nDéfenseur des droits;3;560042448,58;01/03/2025'
    assert csv_text(["a", "n", "eur", "day"], rows[:1], "standard") == \
        "a,n,eur,day\nDéfenseur des droits,3,560042448.58,2025-03-01"
