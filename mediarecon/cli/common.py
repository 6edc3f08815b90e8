"""What every command shares: the app, the --home option, the settings, the one way to fail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Optional

import typer

class ExitCode(IntEnum):
    """What every command's exit status means (README, "Exit codes"): one table for all of them."""

    OK = 0
    FAILED = 1  # the command ran and failed: a query refused or in error, a build failed, an unreadable file
    USAGE = 2  # a wrong option, setting, rules file or home, or something asked for that does not exist
    LOCKED = 3  # another run holds the home
    INCOMPLETE = 4  # `run`: published, without a source that could not be reached
    NOTHING_YET = 5  # no run has made it yet: the published warehouse, the alert store, the data dictionary
    INTERRUPTED = 130  # Ctrl-C


# -h as well as --help, on every command and group
CONTEXT = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    help="Reconciles what the French State orders, is invoiced and receives when it buys advertising space.",
    no_args_is_help=True,
    add_completion=False,
    context_settings=CONTEXT,
)


def _version(value: bool) -> None:
    if value:
        from mediarecon import __version__

        typer.echo(f"mediarecon {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Reconciles what the French State orders, is invoiced and receives when it buys advertising space."""

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
        fail(str(e), ExitCode.USAGE)
    if must_be_home and not settings.home.is_home():
        root = settings.home.root
        fail(f"{root} is not a mediarecon home (no {MARKER}{'' if root.exists() else '; the folder does not exist'}):"
             f" create one with `mediarecon init --home {root}`, or give --home / MEDIARECON_HOME", ExitCode.USAGE)
    return settings


def fail(message: str, code: ExitCode):
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def json_default(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)  # Decimal stays exact as a string


def _is_number(v) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def french_number(v) -> str:
    """1234567.5 -> `1 234 567,5`: spaces between thousands, a decimal comma; a Decimal keeps its digits."""
    text = format(v, ",f") if isinstance(v, Decimal) else f"{v:,}"
    return text.replace(",", " ").replace(".", ",")


def french_cell(v) -> str:
    """A value as a French spreadsheet reads it: decimal comma, dd/mm/yyyy dates."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, Decimal):
        return format(v, "f").replace(".", ",")
    if isinstance(v, float):
        return repr(v).replace(".", ",")
    return str(v)


def render_table(columns, rows) -> str:
    """A terminal table: numbers right-aligned, with their thousands apart (French: `560 042 448,58`)."""
    numeric = [all(_is_number(r[i]) for r in rows if r[i] is not None) and any(r[i] is not None for r in rows)
               for i in range(len(columns))]
    cells = [[("" if v is None else french_number(v) if numeric[i] else str(v)) for i, v in enumerate(r)] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(vals):
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w)
                         for i, (v, w) in enumerate(zip(vals, widths))).rstrip()

    out = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
