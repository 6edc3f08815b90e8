"""Failure-drill hook. With MEDIARECON_DRILL_KILL_AT=<point> the process kills itself with SIGKILL (as
`kill -9` would) the first time it reaches that point: the failure-drill tests use it to stop a real
nightly at chosen places. `dbt_build:after:<seconds>` kills that many seconds into the dbt build.
Unset (always, in production) it does nothing."""

import os
import signal
import threading

ENV = "MEDIARECON_DRILL_KILL_AT"
_also: list[int] = []  # in a worker process of the run: the run, killed first


def kill_also(pid: int) -> None:
    _also.append(pid)


def _kill() -> None:
    for pid in _also:
        os.kill(pid, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def checkpoint(point: str) -> None:
    target = os.environ.get(ENV)
    if not target:
        return
    if target == point:
        _kill()
    if point == "dbt_build:start" and target.startswith("dbt_build:after:"):
        timer = threading.Timer(float(target.rsplit(":", 1)[1]), _kill)
        timer.daemon = True
        timer.start()
