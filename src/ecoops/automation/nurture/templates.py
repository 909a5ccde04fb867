"""Rendering a step's subject and body: sandboxed Jinja2 templates over a fixed set of variables.

Templates are written by users, so they run in Jinja's sandbox (no attribute tricks), and an unknown
variable is an error rather than an empty string: a typo is refused when the step is saved, with
the variable's name, instead of reaching partners as a blank.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from ecoops.accounts.service import InvalidInput

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

VARIABLES: dict[str, str] = {
    "partner_name": "the partner's name",
    "stage": "the life-cycle stage the sequence belongs to",
    "stage_since": "the day the partner entered it (YYYY-MM-DD)",
    "day": "the step's day in the stage (0 on the first day)",
    "recipient_name": "the person the message is for (a partner contact, or the partner manager)",
    "manager_name": "the partner manager's name (empty when none)",
    "manager_email": "the partner manager's e-mail (empty when none)",
    "content_link": "the step's content link (empty when none)",
    "partner_page": "the partner's page in ecoops (for messages to the partner manager)",
    "portal_link": "the partner portal's sign-in page (for messages to partner contacts)",
}

SAMPLE: dict[str, str] = {
    "partner_name": "Acme Cloud",
    "stage": "onboarding",
    "stage_since": "2026-01-05",
    "day": "7",
    "recipient_name": "Dana Contact",
    "manager_name": "Pat Manager",
    "manager_email": "pat@example.com",
    "content_link": "https://example.com/playbook",
    "partner_page": "https://ecoops.example/partners/1",
    "portal_link": "https://ecoops.example/portal",
}


def render(template: str, values: Mapping[str, str]) -> str:
    return _ENV.from_string(template).render(**values).strip()


def check(template: str, label: str) -> None:
    """Refuse a template that does not parse or names a variable we do not have, saying which."""
    try:
        render(template, SAMPLE)
    except UndefinedError as exc:
        known = ", ".join(VARIABLES)
        raise InvalidInput(f"the {label} uses an unknown variable ({exc.message}); known: {known}") from None
    except TemplateError as exc:
        lineno = getattr(exc, "lineno", None)
        line = f" on line {lineno}" if lineno else ""
        raise InvalidInput(f"the {label} is not a valid template{line}: {exc.message}") from None


def as_html(text: str, link: str = "", link_title: str = "") -> str:
    """The body as simple HTML: escaped paragraphs, then the content link as a button-like link."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    parts = [f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs]
    if link:
        parts.append(
            f'<p><a href="{html.escape(link, quote=True)}">{html.escape(link_title or link)}</a></p>'
        )
    return "\n".join(parts)
