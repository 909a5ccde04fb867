"""What `ecoops serve --demo` changes: the settings that make one demo instance work on its own host."""

from __future__ import annotations

import os

from ecoops.demo.catcher import Catchers


def demo_environment(port: int, catchers: Catchers, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The ECOOPS_* variables to serve the demo on `port` with, keeping the caller's address and cookie."""
    environ = dict(os.environ) if environ is None else environ
    url = environ.get("ECOOPS_PUBLIC_URL") or f"http://127.0.0.1:{port}"
    return {
        "ECOOPS_DEMO": "true",
        # A second demo instance (make demo-partner) runs on another port of the same host: browsers
        # would send one instance's cookie to the other and sign each other out.
        "ECOOPS_SESSION_COOKIE": environ.get("ECOOPS_SESSION_COOKIE") or f"ecoops_session_{port}",
        # Private mapping needs the address partners reach us at, and plain http on loopback.
        "ECOOPS_PUBLIC_URL": url,
        "ECOOPS_PSI_ALLOW_HTTP_LOOPBACK": "true",
        # Every message goes to the catcher, never out: no real SMTP server or Slack workspace.
        "ECOOPS_SMTP_HOST": catchers.smtp_host,
        "ECOOPS_SMTP_PORT": str(catchers.smtp_port),
        "ECOOPS_SMTP_STARTTLS": "false",
        "ECOOPS_SMTP_USERNAME": "",
        "ECOOPS_SMTP_PASSWORD": "",
        "ECOOPS_SLACK_BOT_TOKEN": "",
        "ECOOPS_SLACK_WEBHOOK_URL": catchers.slack_webhook_url,
    }
