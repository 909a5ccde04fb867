"""Local stand-ins for the outside world: an HTTP server (Slack's webhook and Web API, webhook receivers)
that records every request and answers as scripted, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived

    def json(self) -> Any:
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: Any = "ok"
    headers: dict[str, str] = field(default_factory=dict)


class StandIn:
    """A threaded HTTP server on 127.0.0.1: records requests, answers scripted `Answer`s then the default.

    Slack Web API paths (/api/<method>) answer {"ok": true, ...} by default. With `secret`, webhook
    signatures are checked and each request's `verified` outcome recorded.
    """

    def __init__(self, secret: str | None = None, delay: float = 0.0) -> None:
        self.delay = delay  # seconds each answer takes, to stretch work across a crash test's kills
        self.requests: list[Request] = []
        self.verified: list[bool] = []
        self.script: deque[Answer] = deque()
        self.secret = secret
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the sender was killed
                    self.answer()

            def answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = standin.record(Request(self.path, headers, body, time.time()))
                time.sleep(standin.delay)
                payload = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                data = payload.encode()
                self.send_response(answer.status)
                content_type = "text/plain" if isinstance(answer.body, str) else "application/json"
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
            if self.secret is not None:
                try:
                    Webhook(self.secret).verify(request.body, request.headers)
                    self.verified.append(True)
                except WebhookVerificationError:  # e.g. a body cut short by a killed sender
                    self.verified.append(False)
                    return Answer(400, "bad signature")
            if self.script:
                return self.script.popleft()
        if request.path.startswith("/api/users.lookupByEmail"):
            return Answer(body={"ok": True, "user": {"id": "U0OWNER"}})
        if request.path.startswith("/api/"):
            return Answer(body={"ok": True, "channel": "C1", "ts": f"{time.time():.6f}"})
        return Answer()

    def answer(self, *answers: Answer) -> None:
        """The next requests get these answers, in order."""
        with self.lock:
            self.script.extend(answers)

    def posts_to(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """aiosmtpd handler keeping each message as received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_with: str | None = None  # e.g. "451 try later" or "550 no such user"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox
