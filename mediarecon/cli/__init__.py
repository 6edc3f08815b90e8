"""`mediarecon`: the command line. Every command works on one home folder (MEDIARECON_HOME or --home).

The commands are grouped by who uses them; importing a group registers its commands on `app`."""

from mediarecon.cli import common
from mediarecon.cli.common import app
from mediarecon.cli import operator, auditor, on_call, end_of_contract, dashboard  # noqa: F401,E402  (registration)

__all__ = ["app", "main"]


def main() -> None:
    """The console script `mediarecon`: the process is the command's own."""
    common.dedicated_process = True
    app()
