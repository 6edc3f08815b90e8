"""What every command shares: the app, the --home option, the settings, the one way to fail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    help="Reconciles what the French State orders, is invoiced and receives when it buys advertising space.",
    no_args_is_help=True,
    add_completion=False,
)

# True when the process is the command's own (the console script), not a library call or a test runner's:
# only then may a command cap the whole process (query, audit).
dedicated_process = False

HomeOption = typer.Option(None, "--home", help="Home folder holding all state (default: $MEDIARECON_HOME or ./var).",
                          show_default=False)


def load_settings(home: Optional[Path], must_be_home: bool = True):
    """The settings, or exit 2 naming the wrong variable; by default the home must be one (a mistyped --home
    is refused instead of starting a new, empty home)."""
    from mediarecon.settings import Settings, SettingsError
    from mediarecon.state.home import MARKER

    try:
        settings = Settings.from_env(home)
    except SettingsError as e:
        fail(str(e), 2)
    if must_be_home and not settings.home.is_home():
        root = settings.home.root
        fail(f"{root} is not a mediarecon home (no {MARKER}{'' if root.exists() else '; the folder does not exist'}):"
             f" create one with `mediarecon init --home {root}`, or give --home / MEDIARECON_HOME", 2)
    return settings


def fail(message: str, code: int):
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def json_default(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)  # Decimal stays exact as a string


def render_table(columns, rows) -> str:
    cells = [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
    out = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
