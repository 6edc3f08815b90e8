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
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor

from mediarecon import drills

DOOR_THREADS = max(2, min(4, os.cpu_count() or 1))  # the door's threads: Arrow, DuckDB, hashing release the GIL


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


def ahead(pool: Executor, fn, items: list, window: int = 2 * DOOR_THREADS, size=None, budget: int = 0):
    """fn(item) for each item, in order, at most `window` running or waiting ahead (bounded memory); with
    `size(item)` and `budget`, as many more as fit in `budget` (bytes, say)."""
    futures, held = deque(), 0
    for item in items:
        futures.append((pool.submit(fn, item), size(item) if size else 0))
        held += futures[-1][1]
        while futures and len(futures) >= window and (held > budget or not size):
            future, weight = futures.popleft()
            held -= weight
            yield future.result()
    while futures:
        yield futures.popleft()[0].result()
