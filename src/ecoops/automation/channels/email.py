"""E-mail over SMTP: text and HTML parts, attachments, buttons as links, the delivery uid as Message-ID."""

from __future__ import annotations

import base64
import html
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from ecoops.automation.channels.base import Outgoing, PermanentError, RetryableError
from ecoops.automation.messages import Message
from ecoops.config import Settings


def message_id(uid: str, sender: str) -> str:
    """A Message-ID derived from the delivery uid, so a resent delivery carries the same id."""
    domain = sender.rpartition("@")[2] or "ecoops.invalid"
    return f"<{uid}@{domain}>"


def _links(message: Message) -> list[tuple[str, str]]:
    links = [(b.label, b.url or message.link) for b in message.buttons if b.url or message.link]
    if message.link and not links:
        links.append(("Open in ecoops", message.link))
    return links


def text_body(message: Message) -> str:
    lines = [message.text, ""] + [f"{label}: {url}" for label, url in _links(message)]
    return "\n".join(lines).rstrip() + "\n"


def html_body(message: Message) -> str:
    if message.html:
        return message.html
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in message.text.split("\n\n") if p.strip())
    links = "".join(
        f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>'
        for label, url in _links(message)
    )
    return f"<!doctype html><html><body>{paragraphs}{links}</body></html>"


def build(outgoing: Outgoing, settings: Settings) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = str(Address(addr_spec=outgoing.target))
    mail["Subject"] = outgoing.message.subject or outgoing.message.text.split("\n", 1)[0][:120]
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(outgoing.uid, settings.mail_from)
    mail["X-Ecoops-Delivery"] = outgoing.uid
    mail.set_content(text_body(outgoing.message))
    mail.add_alternative(html_body(outgoing.message), subtype="html")
    for attachment in outgoing.message.attachments:
        maintype, _, subtype = attachment["content_type"].partition("/")
        mail.add_attachment(
            base64.b64decode(attachment["data"]),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
        )
    return mail


def send(outgoing: Outgoing, settings: Settings) -> None:
    try:
        mail = build(outgoing, settings)
    except (ValueError, IndexError) as exc:  # a malformed address: no retry will fix it
        raise PermanentError(f"cannot address {outgoing.target!r}: {exc}") from exc
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.delivery_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = RetryableError if all(400 <= c < 500 for c in codes) else PermanentError
        raise error(f"recipient refused: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        error = RetryableError if 400 <= exc.smtp_code < 500 else PermanentError
        raise error(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:  # connection refused, timeouts, dropped connections
        server = f"{settings.smtp_host}:{settings.smtp_port}"
        raise RetryableError(f"SMTP server {server} unreachable: {exc}") from exc
