"""`mediarecon-demo`: the demo and development tools, outside the product's command line: the synthetic
State-year, the Chorus Pro simulator, the demo run. They need the `demo` extra (holidays, moto), which a
production install leaves out."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Optional

import typer

from mediarecon.cli.common import HomeOption, fail, load_settings
from mediarecon.cli.operator import print_summary, run_nightly
from mediarecon.ingest.sources import INBOX_FOLDERS
from mediarecon.state.home import Home

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Demo and development tools of mediarecon: synthetic data, the Chorus Pro simulator, the demo.")


@contextlib.contextmanager
def _demo_tools(command: str):
    """The synthetic data and the local S3 server need the `demo` extra (holidays, moto), which a
    production install leaves out."""
    try:
        yield
    except ModuleNotFoundError as e:
        if e.name not in ("holidays", "moto"):
            raise
        fail(f"`mediarecon-demo {command}` needs the demo tools ({e.name} is not installed):"
              " pip install 'mediarecon[demo]'", 2)


@app.command()
def generate(
    seed: int = typer.Option(1, help="Random seed: same seed, scale and year give the same bytes."),
    scale: float = typer.Option(0.2, help="1.0 = one year of the State's media buying (~1 million ad-server rows)."),
    year: int = typer.Option(2025, help="Calendar year to simulate."),
    out: Path = typer.Option(..., help="Folder to write inbox/ and ground_truth/anomalies.csv into."),
):
    """Write a labelled synthetic State-year into OUT/inbox/ and its anomalies into OUT/ground_truth/."""
    with _demo_tools("generate"):
        from simulators.state_year import generate as run_generator

    typer.echo(f"generating seed {seed}, scale {scale}, year {year} into {out} ...")
    s = run_generator(out, seed=seed, scale=scale, year=year)
    Home(out.resolve()).ensure(INBOX_FOLDERS)  # a home the other commands accept as it is
    typer.echo(f"  {s.campaigns} campaigns, {s.purchase_orders} purchase orders, {s.order_lines} order lines")
    typer.echo(f"  {s.ad_server_rows} ad-server rows, {s.regie_rows} régie report rows, {s.email_rows} e-mail rows")
    typer.echo(f"  {s.files} files in {out / 'inbox'}")
    typer.echo(f"  anomalies: {', '.join(f'{k} {v}' for k, v in sorted(s.anomalies.items()))}"
               f" -> {out / 'ground_truth' / 'anomalies.csv'}")


@app.command("chorus-sim")
def chorus_sim(
    home: Optional[Path] = HomeOption,
    port: int = typer.Option(8765, help="Port on 127.0.0.1 (0 = any free port)."),
    token_ttl_s: Optional[float] = typer.Option(None, help="Fault: tokens die after this many seconds (the"
                                                " next call gets 401), whatever expires_in says."),
    too_many_requests: int = typer.Option(0, help="Fault: the next N API calls get 429 with Retry-After."),
    retry_after_s: int = typer.Option(1, help="The Retry-After of those 429s, in seconds."),
    server_errors: int = typer.Option(0, help="Fault: the next N API calls get 500."),
    slow_s: float = typer.Option(0.0, help="Fault: every API call waits this long before answering."),
    malformed_page: Optional[int] = typer.Option(None, help="Fault: this search page is answered once with"
                                                 " broken JSON."),
    unavailable: bool = typer.Option(False, "--unavailable", help="Fault: every call gets 503 (Chorus Pro down)."),
    moving_page: Optional[int] = typer.Option(None, help="Fault: once this search page is served, its invoices"
                                              " take a new status: the later pages shift up, the last disappears."),
):
    """Serve the Chorus Pro API (PISTE paths, token endpoint included) on 127.0.0.1 from the synthetic
    State-year in HOME/chorus/, until interrupted. It accepts only the MEDIARECON_CHORUS_* credentials,
    which must be set. The fault options rehearse what the real service does (docs/chorus_pro.md)."""
    from simulators.chorus_pro import ChorusProSimulator, Faults

    from mediarecon.settings import SettingsError

    settings = load_settings(home, must_be_home=False)
    try:
        settings.chorus.require_credentials("the Chorus Pro simulator (it accepts only these credentials)")
        faults = Faults(token_ttl_s=token_ttl_s, too_many_requests=too_many_requests, retry_after_s=retry_after_s,
                        server_errors=server_errors, slow_s=slow_s, malformed_search_page=malformed_page,
                        unavailable=unavailable, moving_page=moving_page)
        sim = ChorusProSimulator(settings.home.root, settings.chorus.client_config(), port=port, faults=faults)
    except (FileNotFoundError, OSError, SettingsError) as e:
        fail(str(e), 1)
    typer.echo(f"Chorus Pro simulator on {sim.url} ({len(sim.invoices)} invoices from {settings.home.root});"
               f" token URL {sim.url}/api/oauth/token; Ctrl-C to stop", )
    try:
        sim.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.server.server_close()


@app.command("run")
def demo(s3: bool = typer.Option(False, "--s3", help="Also start a local S3 server (moto, 127.0.0.1), put the "
                                 "synthetic inbox in a sender bucket and run with landing and validated Parquet on "
                                 "S3 (home ./var-s3; the S3 data lives as long as the command).")):
    """Generate the demo State-year (seed 1, scale 0.2) into ./var, start the Chorus Pro simulator on
    loopback and run one nightly reconciliation against it (with fresh random credentials unless
    MEDIARECON_CHORUS_* are set)."""
    from simulators.chorus_pro import ChorusProSimulator, demo_credentials

    for name, value in demo_credentials().items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("MEDIARECON_INBOX_SETTLE_S", "0")  # the demo inbox was written a moment ago

    home = Path(os.environ.get("MEDIARECON_HOME", "./var")).resolve()
    if s3:
        return _demo_s3(home.with_name(home.name + "-s3"))
    if (home / "inbox").exists() and any((home / "inbox").rglob("*.csv")):
        typer.echo(f"demo data already in {home / 'inbox'} (delete {home} to start over)")
    else:
        generate(seed=1, scale=0.2, year=2025, out=home)
    settings = load_settings(home)
    with ChorusProSimulator(home, settings.chorus.client_config(), port=0) as sim:
        os.environ.update({"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": sim.url,
                           "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token"})
        typer.echo(f"Chorus Pro simulator on {sim.url}")
        summary = run_nightly(home)
    print_summary(summary, home)
    typer.echo("\ntry:")
    typer.echo(f"  .venv/bin/mediarecon query --home {home} \"select finding_type, count(*) from fct_findings group by 1\"")
    typer.echo(f"  .venv/bin/mediarecon status --home {home}")


def _demo_s3(home: Path) -> None:
    from simulators.chorus_pro import ChorusProSimulator

    with _demo_tools("run --s3"):
        from simulators.s3_demo import LocalS3

    generated = home / "generated"
    if not (generated / "inbox").exists():
        generate(seed=1, scale=0.2, year=2025, out=generated)
    with LocalS3() as s3:
        s3.upload_inbox(generated / "inbox")
        typer.echo(f"S3 (moto) on {s3.endpoint_url}: sender bucket {s3.inbox_url}, landing {s3.landing_url},"
                   f" validated {s3.validated_url}")
        settings = load_settings(home)
        with ChorusProSimulator(generated, settings.chorus.client_config(), port=0) as sim:
            os.environ.update({"MEDIARECON_CHORUS_ENABLED": "true", "MEDIARECON_CHORUS_API_URL": sim.url,
                               "MEDIARECON_CHORUS_TOKEN_URL": sim.url + "/api/oauth/token"})
            summary = run_nightly(home)
    print_summary(summary, home)


def main() -> None:
    """The console script `mediarecon-demo`."""
    app()


if __name__ == "__main__":
    main()
