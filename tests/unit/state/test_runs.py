"""Run records: a record a dead process left `running` is found and marked `interrupted`."""

import json
import os
import subprocess
import sys

from mediarecon.state.home import Home
from mediarecon.state.runs import RunRecord, heal_interrupted, list_runs, run_lock


def test_a_run_killed_mid_way_is_shown_interrupted_by_the_next_one(tmp_path):
    home = Home(tmp_path / "home").ensure()
    code = ("import os, signal; from pathlib import Path; from mediarecon.state.home import Home;"
            " from mediarecon.state.runs import RunRecord, run_lock\n"
            f"h = Home(Path({str(home.root)!r}))\n"
            "with run_lock(h):\n    RunRecord(h, 'killed-run'); os.kill(os.getpid(), signal.SIGKILL)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == -9
    assert [r["status"] for r in list_runs(home)] == ["running"]  # what status showed for ever
    with run_lock(home):  # the lock died with its process
        assert heal_interrupted(home) == ["killed-run"]
        RunRecord(home, "next-run").finish("succeeded")
    runs = {r["run_id"]: r for r in list_runs(home)}
    assert runs["killed-run"]["status"] == "interrupted" and runs["killed-run"]["interrupted_found_at"]
    assert runs["next-run"]["status"] == "succeeded" and runs["next-run"]["pid"] == os.getpid()
    with run_lock(home):
        assert heal_interrupted(home) == []  # once
    assert json.loads((home.runs / "killed-run.json").read_text())["status"] == "interrupted"
