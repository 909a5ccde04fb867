"""The demo's mail catcher: a local SMTP server and a Slack webhook stand-in, both writing to a Maildir.

`ecoops serve --demo` starts them and points the SMTP and Slack settings at them, so the demo's
automation delivers (nothing ends as a dead letter) and what it sent can be read at /demo/mail.
"""

from __future__ import annotations

import json
import mailbox
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

MAIL_FOLDER = "demo/mail"  # under the var dir


def maildir(var_dir: Path) -> mailbox.Maildir:
    (var_dir / MAIL_FOLDER).parent.mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(var_dir / MAIL_FOLDER, create=True)


class _SmtpHandler:
    def __init__(self, box: mailbox.Maildir) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.box.add(envelope.original_content or envelope.content)
        return "250 Message accepted"


def _slack_as_mail(payload: dict[str, Any]) -> EmailMessage:
    """A Slack webhook post, kept as an e-mail so one page lists both."""
    text = str(payload.get("text") or "")
    message = EmailMessage()
    message["From"] = "Slack (demo stand-in)"
    message["To"] = "Slack webhook"
    message["Subject"] = "Slack: " + (text.splitlines() or ["(no text)"])[0][:120]
    message["Date"] = formatdate(localtime=False)
    message.set_content(text + "\n\n" + json.dumps(payload.get("blocks", []), indent=2))
    return message


def _slack_handler(box: mailbox.Maildir) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                box.add(_slack_as_mail(json.loads(body)))
                status, answer = 200, b"ok"
            except ValueError:
                status, answer = 400, b"invalid_payload"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # quiet, like the app's log
            pass

    return Handler


def _free_port(host: str) -> int:
    # aiosmtpd's Controller connects to its own port to check it is up, so it needs a real one, not 0.
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Catchers:
    smtp_host: str
    smtp_port: int
    slack_webhook_url: str


@contextmanager
def running_catchers(var_dir: Path, host: str = "127.0.0.1") -> Iterator[Catchers]:
    """Both catchers on free local ports while the block runs."""
    box = maildir(var_dir)
    smtp_port = _free_port(host)
    smtp = Controller(_SmtpHandler(box), hostname=host, port=smtp_port)
    smtp.start()
    slack = ThreadingHTTPServer((host, 0), _slack_handler(box))
    thread = threading.Thread(target=slack.serve_forever, name="demo-slack-catcher", daemon=True)
    thread.start()
    try:
        yield Catchers(host, smtp_port, f"http://{host}:{slack.server_port}/")
    finally:
        slack.shutdown()
        slack.server_close()
        smtp.stop()
