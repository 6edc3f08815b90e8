"""The Prefect servers mediarecon starts on 127.0.0.1 when PREFECT_API_URL is unset, database under <home>/prefect/.

`temporary_server` is the API a `mediarecon run` talks to. Prefect would start its own temporary
server, stopped only by an `atexit` hook: a run killed with kill -9 left it listening for ever. This one
is stopped on every exit path (a normal end, an error, Ctrl-C) and ended by the kernel when the run's
process dies (PR_SET_PDEATHSIG); its pid file lets the next run report, and stop, one that some other
path still left behind. `start_local_server` is `mediarecon serve`'s, with the UI and the scheduler.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PID_FILES = "temporary-server-*.json"  # one per run process: <its pid>
APP = "prefect.server.api.server:create_app"  # what Prefect's own temporary server runs
_PR_SET_PDEATHSIG = 1


class ServerDidNotStart(RuntimeError):
    pass


def die_with_parent(parent: int):
    def preexec() -> None:
        # the kernel sends SIGTERM when the thread that started us ends, whatever killed it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the run died before the line above: nobody is left to serve
            os._exit(1)
    return preexec


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _is_our_server(pid: int) -> bool:
    try:
        return APP in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:  # gone
        return False


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop_stale(prefect_home: Path) -> list[str]:
    """Servers whose run died without taking them along (their pid file is still here): stopped, and said.
    A server whose run is alive is that run's, however long it takes."""
    said = []
    for pid_file in sorted(prefect_home.glob(PID_FILES)):
        try:
            left = json.loads(pid_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _alive(left["run_pid"]):
            continue
        pid_file.unlink(missing_ok=True)
        if not _is_our_server(left["pid"]):  # it ended with its run; a recycled pid is not ours to stop
            continue
        os.kill(left["pid"], signal.SIGTERM)
        for _ in range(50):
            if not _is_our_server(left["pid"]):
                break
            time.sleep(0.1)
        else:
            os.kill(left["pid"], signal.SIGKILL)
        said.append(f"a Prefect server left by an earlier run (pid {left['pid']}, port {left['port']}, started"
                    f" {left['started_at']}) was still running: stopped")
    return said


@contextmanager
def temporary_server(prefect_home: Path, timeout_s: float = 120, log=print):
    """Yield the API URL of a Prefect server on 127.0.0.1 with its database in `prefect_home`."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    for stale in stop_stale(prefect_home):
        log(stale)
    env = {**os.environ, "PREFECT_HOME": str(prefect_home), "PREFECT_UI_ENABLED": "0",
           "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    deadline = time.monotonic() + timeout_s
    while True:
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", APP, "--host", "127.0.0.1",
                                 "--port", str(port), "--log-level", "error", "--lifespan", "on"],
                                env=env, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent(os.getpid()))
        pid_file = prefect_home / PID_FILES.replace("*", str(os.getpid()))
        pid_file.write_text(json.dumps({"pid": proc.pid, "port": port, "run_pid": os.getpid(),
                                        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}), encoding="utf-8")
        url = f"http://127.0.0.1:{port}/api"
        try:
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            else:
                break
        except BaseException:
            _stop(proc, pid_file)
            raise
        _stop(proc, pid_file)
        if proc.returncode != 3 or time.monotonic() > deadline:  # 3: uvicorn lost the port to another process
            raise ServerDidNotStart(f"the temporary Prefect server did not start (database in {prefect_home}); "
                               "set PREFECT_API_URL to use a running one")
    try:
        yield url
    finally:
        _flush_queues()
        _stop(proc, pid_file)


def _flush_queues() -> None:
    """Send the logs and events still queued while the server is there to take them."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=5)
        except Exception:  # a lost log line must not turn a finished run into a failure
            pass


def _stop(proc: subprocess.Popen, pid_file: Path) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    pid_file.unlink(missing_ok=True)


def start_local_server(home: Path, port: int = 4200, timeout_s: float = 120, log=print) -> subprocess.Popen:
    """`mediarecon serve`'s `prefect server start` (UI and scheduler), ended with the process that started it."""
    prefect_home = home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}/api"
    # the UI asks the server where its API is: this port, not Prefect's default 4200
    env = {**os.environ, "PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port), "PREFECT_UI_API_URL": url}
    log(f"starting a local Prefect server on http://127.0.0.1:{port} (database in {prefect_home}) ...")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            preexec_fn=die_with_parent(os.getpid()))
    deadline = time.monotonic() + timeout_s
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError(f"the local Prefect server did not start on port {port} (is the port taken?)")
        time.sleep(1)
    os.environ["PREFECT_API_URL"] = url
    return proc
