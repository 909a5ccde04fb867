"""Files uploaded through the import and partner-list pages, kept under the uploads folder until committed.

An upload is named by a random token; a small JSON file beside it keeps the name the user knows.
Its size is capped while the request body arrives (web/body_limit.py), before anything is parsed
or spooled; uploads never committed are removed after `import_upload_ttl_hours` by the worker's tick.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from ecoops.config import Settings
from ecoops.permissions import NotFound

_TOKEN = re.compile(r"[0-9a-f]{32}")
_SUFFIXES = (".csv", ".json", ".errors.csv")


def save_upload(folder: Path, stream: BinaryIO, filename: str) -> str:
    """Store the stream under a new token (its size was capped as the request arrived)."""
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    path, size = folder / f"{token}.csv", 0
    with path.open("wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            out.write(chunk)
    name = Path(filename.replace("\\", "/")).name[:300] or "upload.csv"
    (folder / f"{token}.json").write_text(json.dumps({"filename": name, "size": size}))
    return token


def upload_path(folder: Path, token: str) -> Path:
    path = folder / f"{token}.csv"
    if not _TOKEN.fullmatch(token) or not path.exists():
        raise NotFound("no such upload (it may have been imported already, or left too long)")
    return path


def upload_filename(folder: Path, token: str) -> str:
    meta = json.loads((folder / f"{token}.json").read_text())
    return str(meta["filename"])


def dry_run_report_path(folder: Path, token: str) -> Path:
    return folder / f"{token}.errors.csv"


def remove_upload(folder: Path, token: str) -> None:
    for suffix in _SUFFIXES:
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def remove_stale_uploads(_session: Session, settings: Settings, now: datetime) -> int:
    """A worker tick job: remove the uploads nobody touched for `import_upload_ttl_hours`.

    An upload's age runs from its last change (saved, or its dry-run report written). Returns how
    many uploads were removed.
    """
    folder = settings.uploads_dir
    if not folder.is_dir():
        return 0
    oldest = now.timestamp() - settings.import_upload_ttl_hours * 3600
    removed = 0
    for meta in folder.glob("*.json"):
        token = meta.stem
        files = [folder / f"{token}{suffix}" for suffix in _SUFFIXES]
        try:
            newest = max(f.stat().st_mtime for f in files if f.exists())
        except (FileNotFoundError, ValueError):  # removed meanwhile by a commit
            continue
        if _TOKEN.fullmatch(token) and newest < oldest:
            remove_upload(folder, token)
            removed += 1
    return removed
