"""The dashboard's commands: `web` serves it, `users` manages who may log in (docs/dashboard.md)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Literal, Optional

import typer

from mediarecon.cli.common import CONTEXT, ExitCode, HomeOption, app, fail, load_settings, render_table

users_app = typer.Typer(
    context_settings=CONTEXT, help="Who may log in to the dashboard (`mediarecon web`), with which role.")
app.add_typer(users_app, name="users")


def _store(home: Optional[Path]):
    from mediarecon.web.users import UserStore

    settings = load_settings(home)
    return settings, UserStore(settings.home.users_db)


@users_app.command("add")
def users_add(
    login: str = typer.Argument(..., help="The login (lower-case letters, digits, . _ @ -)."),
    role: Literal["coordinator", "auditor", "advertiser"] = typer.Option(
        ..., "--role", help="coordinator (SIG: sees all, acknowledges alerts), auditor (sees all, read-only) or"
                            " advertiser (sees its own rows only)."),
    advertiser: Optional[str] = typer.Option(None, "--advertiser", help="For --role advertiser: its id (ADV-…)."),
    home: Optional[Path] = HomeOption,
):
    """Add a user. The password is read from standard input (typed twice at a terminal, else its first
    line), never from an argument, and stored only as a salted scrypt hash."""
    from mediarecon.paths import read_seed
    from mediarecon.web.users import UserError

    settings, store = _store(home)
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            fail("the two passwords differ: nothing added", ExitCode.USAGE)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = store.add(login, role, password, advertiser, {a["advertiser_id"] for a in read_seed("advertisers")})
    except UserError as e:
        fail(str(e), ExitCode.USAGE)
    typer.echo(f"added {user.login} ({user.role}{' ' + user.advertiser_id if user.advertiser_id else ''})"
               f" to {settings.home.users_db}")


@users_app.command("list")
def users_list(home: Optional[Path] = HomeOption):
    """The users, their role and advertiser (no password hash is ever shown)."""
    _, store = _store(home)
    typer.echo(render_table(["login", "role", "advertiser_id"],
                            [(u.login, u.role, u.advertiser_id) for u in store.users()]))


@users_app.command("remove")
def users_remove(login: str = typer.Argument(..., help="The login to remove."), home: Optional[Path] = HomeOption):
    """Remove a user; its open sessions end at once."""
    _, store = _store(home)
    if not store.remove(login):
        fail(f"no user {login!r} (see `mediarecon users list`)", ExitCode.USAGE)
    typer.echo(f"removed {login}")


@app.command()
def web(
    home: Optional[Path] = HomeOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (behind the reverse proxy: 127.0.0.1)."),
    port: int = typer.Option(8050, help="Port (0: any free port)."),
):
    """Serve the dashboard until Ctrl-C: findings with their evidence, campaigns, the monthly statement
    and alerts, each user seeing what its role allows (docs/dashboard.md). Read-only on the published
    warehouse; add users first with `mediarecon users add`."""
    import socket

    import uvicorn

    from mediarecon.web.app import create_app

    settings = load_settings(home)
    from mediarecon.web.users import UserStore

    if not UserStore(settings.home.users_db).users():
        typer.secho(f"warning: no user yet in {settings.home.users_db}: add one with"
                    " `mediarecon users add LOGIN --role coordinator`", fg="yellow", err=True)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections wait in the backlog from now on, before the server is up
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror}", ExitCode.USAGE)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"dashboard on http://{shown}:{sock.getsockname()[1]}/ (home {settings.home.root}; Ctrl-C to stop)")
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                                           proxy_headers=True, forwarded_allow_ips="127.0.0.1,::1"))
    server.run(sockets=[sock])
