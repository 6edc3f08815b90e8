"""The Chorus Pro simulator's fault options, as an operator rehearses them on the command line."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from connectors.chorus_pro import ChorusError, ChorusProClient
from mediarecon.settings import ChorusSettings

DEMO = str(Path(sys.executable).parent / "mediarecon-demo")


def serve(state_year, *options):
    proc = subprocess.Popen([DEMO, "chorus-sim", "--home", str(state_year), "--port", "0", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = proc.stdout.readline().split(" on ", 1)[1].split(" ", 1)[0]
    assert url.startswith("http://127.0.0.1:")
    return proc, url


def client(url, attempts):
    config = ChorusSettings.from_env().client_config()
    import dataclasses

    return ChorusProClient(requests.Session(), dataclasses.replace(
        config, api_url=url, token_url=url + "/api/oauth/token", backoff_s=0.01, max_attempts=attempts,
        read_timeout_s=5))


@pytest.mark.parametrize("options,attempts,works", [
    (["--server-errors", "2"], 3, True),   # two 500s, then the answer: the third attempt gets it
    (["--server-errors", "5"], 3, False),  # more 500s than attempts
    (["--too-many-requests", "1", "--retry-after-s", "0"], 2, True),
    (["--unavailable"], 3, False),         # Chorus Pro down: 503 everywhere, the token's included
    (["--moving-page", "1"], 1, True),     # page 1's invoices move on: read again from where page 1 ended
])
def test_fault_options_are_served(state_year, options, attempts, works):
    proc, url = serve(state_year, *options)
    try:
        c = client(url, attempts)
        if works:
            now = dt.datetime.now(dt.timezone.utc).isoformat()  # the sync's window ends when its run starts
            pages = list(c.search_invoices("2020-01-01T00:00:00+00:00", now))
            assert pages
            if "--moving-page" in options:  # page 2 asked twice: shrunk the first time, then as page 1 again
                assert [p.request["paramRecherche"]["pageResultatDemandee"] for p in pages][:2] == [1, 1]
        else:
            with pytest.raises(ChorusError):
                list(c.search_invoices("2020-01-01T00:00:00+00:00"))
    finally:
        proc.terminate()
        proc.wait(10)
