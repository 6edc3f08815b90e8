"""--out of query/audit: checked before the query, written after it, and nothing in between can send the
write into the home folder (a race found by a review: the user controls how long the query runs)."""

import os

import pytest
import typer

from mediarecon.cli.auditor import _check_output, _write_output
from mediarecon.settings import Settings


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "home" / "warehouse").mkdir(parents=True)
    (tmp_path / "home" / "warehouse" / "mediarecon.duckdb").write_bytes(b"the published warehouse")
    return Settings.from_env(tmp_path / "home")


def test_a_folder_swapped_for_a_symlink_into_the_home_during_the_query_changes_nothing(settings, tmp_path):
    sub = tmp_path / "out" / "sub"
    sub.mkdir(parents=True)
    target = _check_output(settings, "csv", sub / "mediarecon.duckdb", force=True)
    # while the query runs: the folder is moved away and a link into the home takes its place
    os.rename(sub, tmp_path / "out" / "moved")
    os.symlink(settings.home.warehouse_dir, sub)
    _write_output(target, b"RACED\n")
    assert (settings.home.published_db).read_bytes() == b"the published warehouse"
    assert (tmp_path / "out" / "moved" / "mediarecon.duckdb").read_bytes() == b"RACED\n"
    assert sorted(p.name for p in settings.home.warehouse_dir.iterdir()) == ["mediarecon.duckdb"]


def test_a_file_that_appears_during_the_query_is_not_overwritten_without_force(settings, tmp_path):
    target = _check_output(settings, "csv", tmp_path / "result.csv", force=False)
    (tmp_path / "result.csv").write_text("someone else's\n")
    with pytest.raises(typer.Exit):
        _write_output(target, b"mine\n")
    assert (tmp_path / "result.csv").read_text() == "someone else's\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.parametrize("where", ["warehouse/mediarecon.duckdb", "landing/manifest.sqlite", "x.csv",
                                   "runs/../validated/x.csv"])
def test_inside_the_home_is_refused(settings, where, capsys):
    with pytest.raises(typer.Exit):
        _check_output(settings, "csv", settings.home.root / where, force=True)
    assert "is inside the home folder" in capsys.readouterr().err


def test_a_written_file_is_readable_by_its_owner_group_as_umask_says(settings, tmp_path):
    old = os.umask(0o022)
    try:
        _write_output(_check_output(settings, "csv", tmp_path / "r.csv", force=False), b"a\n")
    finally:
        os.umask(old)
    assert oct(os.stat(tmp_path / "r.csv").st_mode & 0o777) == "0o644"


def test_a_folder_moved_into_the_home_during_the_query_gets_nothing(settings, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    target = _check_output(settings, "csv", out / "r.csv", force=False)
    os.rename(out, settings.home.root / "moved")  # while the query runs
    with pytest.raises(typer.Exit):
        _write_output(target, b"RACED\n")
    assert "was moved into the home folder" in capsys.readouterr().err
    assert list((settings.home.root / "moved").iterdir()) == []
