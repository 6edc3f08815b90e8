"""End of contract (CCAP 13.9): hand everything over, then destroy the home's data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mediarecon.cli.common import ExitCode, HomeOption, app, fail, load_settings


@app.command("export-all")
def export_all(
    out: Path = typer.Option(..., "--out", help="A new folder outside the home (it must outlive a purge)."),
    home: Optional[Path] = HomeOption,
):
    """End of contract: every landed file, validated Parquet, marts as Parquet and CSV, the manifest,
    run records and alerts, a README and SHA256SUMS, for the next agency."""
    from mediarecon.exports.handover import HandoverError, export_all as run_export

    try:
        record = run_export(load_settings(home), out.resolve(), log=typer.echo)
    except (HandoverError, FileNotFoundError) as e:
        fail(str(e), ExitCode.USAGE)
    typer.echo(f"exported {record['files']} file(s) ({record['landed_files']} landed, {len(record['marts'])} marts)"
               f" to {record['out']}; check with: cd {record['out']} && sha256sum -c SHA256SUMS")


@app.command()
def purge(
    confirm: bool = typer.Option(False, "--confirm", help="Yes, destroy every file of the home folder."),
    home: Optional[Path] = HomeOption,
):
    """Destroy the home folder's data after the hand-over (CCAP 13.9) and write a destruction certificate.
    Refused without --confirm, or unless an intact export was made after the last run."""
    from mediarecon.exports.handover import HandoverError, purge as run_purge

    try:
        path = run_purge(load_settings(home), confirm, log=typer.echo)
    except HandoverError as e:
        fail(str(e), ExitCode.USAGE)
    typer.echo(f"destruction certificate: {path}")
