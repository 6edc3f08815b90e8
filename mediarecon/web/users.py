"""The dashboard's users and sessions: <home>/web/users.sqlite, never rebuilt.

A password is kept only as a salted scrypt hash (slow on purpose: about 0.1 s per check). A session is a
random token in an HttpOnly cookie; the file keeps only its SHA-256, so a copy of the file opens no
session. Each session has its own CSRF token, which every POST must carry.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

ROLES = ("coordinator", "auditor", "advertiser")
LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD = 12
# n=2^15, r=8: 32 MiB and ~0.1 s per hash on this machine's cores (OWASP's scrypt floor is n=2^17 at r=8, p=1
# for interactive logins on fast servers; 2^15 keeps a failed-login flood from exhausting two cores)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

SCHEMA = """
create table if not exists users (
    login text primary key,
    role text not null check (role in ('coordinator', 'auditor', 'advertiser')),
    advertiser_id text,
    password_hash text not null,
    created_at text not null,
    check ((role = 'advertiser') = (advertiser_id is not null))
);
create table if not exists sessions (
    token_sha256 text primary key,
    login text not null references users (login) on delete cascade,
    csrf_token text not null,
    created_at text not null,
    expires_at text not null
);
"""


class UserError(ValueError):
    """A user could not be added or removed; the message says why in one line."""


@dataclass(frozen=True)
class User:
    login: str
    role: str
    advertiser_id: str | None


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: dt.datetime


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=2**26, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                               maxmem=2**26, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


# checked against when the login is unknown, so that an unknown login costs the same time as a wrong password
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class UserStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.executescript(SCHEMA)
        path.chmod(0o600)  # password hashes: readable by the service account only

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        con.execute("pragma foreign_keys = on")
        return con

    # ------------------------------------------------------------------ users
    def add(self, login: str, role: str, password: str, advertiser_id: str | None = None,
            known_advertisers: set[str] | None = None) -> User:
        if not LOGIN_PATTERN.fullmatch(login):
            raise UserError(f"login {login!r}: 1 to 64 characters, lower-case letters, digits and . _ @ - (first a"
                            " letter or digit)")
        if role not in ROLES:
            raise UserError(f"--role {role!r} must be one of {', '.join(ROLES)}")
        if role == "advertiser" and not advertiser_id:
            raise UserError("--role advertiser needs --advertiser ADV-… (the advertiser whose rows the user sees)")
        if role != "advertiser" and advertiser_id:
            raise UserError(f"--advertiser is for --role advertiser only (a {role} sees every advertiser)")
        if advertiser_id and known_advertisers is not None and advertiser_id not in known_advertisers:
            raise UserError(f"--advertiser {advertiser_id!r} is not a known advertiser id (see the advertisers seed)")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
        with closing(self._connect()) as con, con:
            try:
                con.execute("insert into users values (?, ?, ?, ?, ?)",
                            [login, role, advertiser_id, hash_password(password), _now().isoformat()])
            except sqlite3.IntegrityError:
                raise UserError(f"user {login!r} exists: remove it first to change its role or password") from None
        return User(login, role, advertiser_id)

    def remove(self, login: str) -> bool:
        """Remove a user and end its sessions; False when there was no such user."""
        with closing(self._connect()) as con, con:
            con.execute("delete from sessions where login = ?", [login])
            return con.execute("delete from users where login = ?", [login]).rowcount > 0

    def users(self) -> list[User]:
        with closing(self._connect()) as con:
            return [User(r["login"], r["role"], r["advertiser_id"])
                    for r in con.execute("select login, role, advertiser_id from users order by login")]

    def authenticate(self, login: str, password: str) -> User | None:
        with closing(self._connect()) as con:
            row = con.execute("select * from users where login = ?", [login]).fetchone()
        ok = verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
        return User(row["login"], row["role"], row["advertiser_id"]) if row and ok else None

    # ------------------------------------------------------------------ sessions
    def open_session(self, user: User, hours: float) -> tuple[str, Session]:
        """A new session: (the cookie's token, the session)."""
        token, now = secrets.token_urlsafe(32), _now()
        expires = now + dt.timedelta(hours=hours)
        csrf = secrets.token_urlsafe(32)
        with closing(self._connect()) as con, con:
            con.execute("delete from sessions where expires_at < ?", [now.isoformat()])
            con.execute("insert into sessions values (?, ?, ?, ?, ?)",
                        [_token_hash(token), user.login, csrf, now.isoformat(), expires.isoformat()])
        return token, Session(user, csrf, expires)

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, or None (unknown, expired, or its user removed)."""
        if not token:
            return None
        with closing(self._connect()) as con:
            row = con.execute("select u.login, u.role, u.advertiser_id, s.csrf_token, s.expires_at from sessions s"
                              " join users u using (login) where s.token_sha256 = ?", [_token_hash(token)]).fetchone()
        if row is None:
            return None
        expires = dt.datetime.fromisoformat(row["expires_at"])
        if expires <= _now():
            self.close_session(token)
            return None
        return Session(User(row["login"], row["role"], row["advertiser_id"]), row["csrf_token"], expires)

    def close_session(self, token: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute("delete from sessions where token_sha256 = ?", [_token_hash(token)])
