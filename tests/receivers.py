"""Real receivers on 127.0.0.1 for the alert tests: an SMTP server (aiosmtpd) and a JSON webhook."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpReceiver:
    """Every message received, parsed: .messages is a list of (envelope recipients, EmailMessage). With a
    login and password, it requires SMTP AUTH (plain text: loopback only) and counts the logins."""

    def __init__(self, port: int | None = None, login: str | None = None, password: str | None = None):
        self.port = port or free_port()
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.login, self.password, self.logins = login, password, 0
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                receiver.messages.append((list(envelope.rcpt_tos), msg))
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.login
                  and auth_data.password.decode() == self.password)
            receiver.logins += ok
            return AuthResult(success=ok)

        auth = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False} if login else {}
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **auth)

    def url(self, to: str, sender: str = "alertes@mediarecon.test") -> str:
        account = f"{self.login}:{self.password}@" if self.login else ""
        return f"mailto://{account}127.0.0.1:{self.port}?from={sender}&to={to}&mode=insecure"

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()


class WebhookReceiver:
    """A JSON webhook: .posts is every body received."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.posts: list[dict] = []
        self.authorizations: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.authorizations.append(self.headers.get("Authorization"))
                receiver.posts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/alertes"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def attachments(msg) -> list[tuple[str, str, bytes]]:
    return [(part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
            for part in msg.iter_attachments()]


class Hits:
    """An HTTP server on loopback that only counts the requests it receives (a read that must not happen)."""

    def __init__(self):
        self.count = 0
        hits = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.count += 1
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"planted")

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/planted.csv"
