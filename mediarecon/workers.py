"""Worker processes of a run: the Chorus Pro sync beside the door, the e-invoice parsers. Python's own
work (HTTP clients, XML, PDF) holds the GIL, so threads would share one core; these are processes,
spawned (the run has threads: a fork would copy their locks), and they die with the run: a kill -9 of the
nightly must not leave one writing the manifest or the validated Parquet under the next run, nor holding
the run's stdout open."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor

from mediarecon import drills


def beside_the_run() -> None:
    """A worker's initializer: it dies with the run. And a drill that kills a worker kills the run, as a
    kill -9 of the nightly would."""
    run = multiprocessing.parent_process()  # the run, known from the spawn even if it died since
    drills.kill_also(run.pid)

    def watch() -> None:
        run.join()  # returns once the run is gone: its end of a pipe closes, however it ended
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-the-run", daemon=True).start()


def process_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=beside_the_run)
