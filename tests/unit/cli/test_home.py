"""A home must exist: a mistyped --home is refused with the command that creates one, never started anew."""

import json

import pytest
from typer.testing import CliRunner

from mediarecon.cli import app
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.state.home import MARKER

cli = CliRunner()


@pytest.mark.parametrize("command", [["run"], ["status"], ["query", "select 1"], ["audit", "late_payments"],
                                     ["alerts", "list"], ["export-all", "--out", "/tmp/never-written"],
                                     ["purge", "--confirm"], ["report", "monthly", "--month", "2025-01"]])
def test_a_folder_that_is_not_a_home_is_refused_and_left_alone(tmp_path, command):
    typo = tmp_path / "mediarecn"
    result = cli.invoke(app, [*command, "--home", str(typo)])
    assert result.exit_code == 2, result.output
    assert f"{typo} is not a mediarecon home (no {MARKER}; the folder does not exist)" in result.output
    assert f"mediarecon init --home {typo}" in result.output
    assert not typo.exists()


def test_init_creates_a_home_once_and_only_in_a_new_or_empty_folder(tmp_path):
    home = tmp_path / "home"
    result = cli.invoke(app, ["init", "--home", str(home)])
    assert result.exit_code == 0 and "mediarecon home created" in result.output
    assert json.loads((home / MARKER).read_text(encoding="utf-8"))["mediarecon_home"] == 1
    assert sorted(p.name for p in (home / "inbox").iterdir()) == sorted(INBOX_FOLDERS)
    again = cli.invoke(app, ["init", "--home", str(home)])
    assert again.exit_code == 0 and "already a mediarecon home" in again.output
    assert cli.invoke(app, ["status", "--home", str(home)]).exit_code == 0
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"\xff\xd8")
    refused = cli.invoke(app, ["init", "--home", str(other)])
    assert refused.exit_code == 2 and "is not empty and not a mediarecon home" in refused.output
    assert not (other / MARKER).exists()
