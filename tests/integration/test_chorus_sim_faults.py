"""The Chorus Pro simulator's fault options, as an operator rehearses them on the command line."""

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
])
def test_fault_options_are_served(state_year, options, attempts, works):
    proc, url = serve(state_year, *options)
    try:
        c = client(url, attempts)
        if works:
            assert list(c.search_invoices("2020-01-01T00:00:00+00:00"))
        else:
            with pytest.raises(ChorusError):
                list(c.search_invoices("2020-01-01T00:00:00+00:00"))
    finally:
        proc.terminate()
        proc.wait(10)
