"""Reading what the demo's catcher caught (demo/catcher.py): a page of messages, newest first, or one."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from ecoops.demo.catcher import maildir
from ecoops.pagination import Page


@dataclass(frozen=True)
class Caught:
    key: str
    received: datetime
    sender: str
    to: str
    subject: str
    body: str = ""  # filled only when one message is opened


def _caught(key: str, message: mailbox.MaildirMessage, *, with_body: bool = False) -> Caught:
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    body = ""
    if with_body:
        part = parsed.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
    return Caught(
        key=key,
        received=datetime.fromtimestamp(message.get_date(), UTC),
        sender=str(parsed.get("From", "")),
        to=str(parsed.get("To", "")),
        subject=str(parsed.get("Subject", "")).strip(),
        body=body,
    )


def caught_page(var_dir: Path, *, page: int, per_page: int) -> Page[Caught]:
    box = maildir(var_dir)
    newest_first = sorted(box.iteritems(), key=lambda item: (item[1].get_date(), item[0]), reverse=True)
    chosen = newest_first[(page - 1) * per_page : page * per_page]
    return Page([_caught(key, message) for key, message in chosen], len(newest_first), page, per_page)


def caught_message(var_dir: Path, key: str) -> Caught | None:
    try:
        message = maildir(var_dir)[key]  # only keys the Maildir lists: no path is built from `key`
    except KeyError:
        return None
    return _caught(key, message, with_body=True)
