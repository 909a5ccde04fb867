"""Uploads never committed are removed by the worker's tick once nobody touched them for the TTL."""

import io
import os
from datetime import UTC, datetime, timedelta

from ecoops.automation.jobs import TICK_JOBS
from ecoops.crm.imports import uploads
from ecoops.crm.imports.uploads import remove_stale_uploads


def _aged(folder, token, hours: float, now: datetime, suffixes=(".csv", ".json")) -> None:
    moment = (now - timedelta(hours=hours)).timestamp()
    for suffix in suffixes:
        os.utime(folder / f"{token}{suffix}", (moment, moment))


def test_uploads_older_than_the_ttl_are_removed(session, settings):
    assert remove_stale_uploads in TICK_JOBS
    folder, now = settings.uploads_dir, datetime.now(UTC)
    assert remove_stale_uploads(session, settings, now) == 0  # no uploads folder yet

    def upload() -> str:
        return uploads.save_upload(folder, io.BytesIO(b"Id,Name\n1,x\n"), "accounts.csv")

    stale, fresh, dry_run_lately = upload(), upload(), upload()
    _aged(folder, stale, settings.import_upload_ttl_hours + 0.1, now)
    _aged(folder, fresh, settings.import_upload_ttl_hours - 0.1, now)
    _aged(folder, dry_run_lately, 48, now)
    uploads.dry_run_report_path(folder, dry_run_lately).write_text("line,column,value,problem\n")

    assert remove_stale_uploads(session, settings, now) == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{token}{suffix}"
        for token, suffixes in (
            (fresh, (".csv", ".json")),
            (dry_run_lately, (".csv", ".json", ".errors.csv")),
        )
        for suffix in suffixes
    )
    later = now + timedelta(hours=settings.import_upload_ttl_hours + 1)
    assert remove_stale_uploads(session, settings, later) == 2
    assert list(folder.iterdir()) == []
