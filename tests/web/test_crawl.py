"""The demo used as people do: shared/tools/crawl_check.py signed in as four kinds of user, eight at once.

It follows every link and submits every GET form with the values left in place (how the dashboards'
422 was found). The tool lives in the shared folder beside the clone (../shared), in CI too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.live_site import ADMIN, PARTNER_MANAGER, PARTNER_USER, PASSWORD, SELLER, demo_site, serve

CRAWL = Path(__file__).resolve().parents[3] / "shared" / "tools" / "crawl_check.py"
MAX_PAGES = 300  # per person: 4 alone, then 8 at once; both backends take about 3 min on 2 busy cores


@pytest.mark.all_backends
def test_crawl_of_the_demo_finds_no_failure(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    assert CRAWL.is_file(), f"{CRAWL} is missing: the crawl check needs the shared folder beside the clone"
    site = demo_site(backend, tmp_path, request)
    logins = [
        arg
        for email in (ADMIN, PARTNER_MANAGER, SELLER, PARTNER_USER)
        for arg in ("--login", email, PASSWORD)
    ]
    with serve(site, tmp_path / "server.log") as url:
        command = [
            sys.executable,
            str(CRAWL),
            url,
            *logins,
            "--concurrency",
            "8",
            "--max-pages",
            str(MAX_PAGES),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    report = "\n".join(done.stdout.splitlines()[-70:])  # its FAIL lines, the count and the page times
    assert done.returncode == 0, f"crawl_check failed:\n{report}\n{done.stderr[-2000:]}"
