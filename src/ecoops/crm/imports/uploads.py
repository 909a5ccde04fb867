"""Files uploaded through the import page, kept under the uploads folder until they are committed.

An upload is named by a random token; a small JSON file beside it keeps the name the user knows.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import BinaryIO

from ecoops.accounts.service import InvalidInput
from ecoops.permissions import NotFound

MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # larger files import through the CLI
_TOKEN = re.compile(r"[0-9a-f]{32}")


def save_upload(folder: Path, stream: BinaryIO, filename: str) -> str:
    """Store the stream under a new token, refusing (and removing) anything over MAX_UPLOAD_BYTES."""
    limit = MAX_UPLOAD_BYTES
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    path, size = folder / f"{token}.csv", 0
    with path.open("wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                path.unlink()
                raise InvalidInput(
                    f"{filename}: larger than {limit // (1 << 20)} MiB; use `ecoops import` instead"
                )
            out.write(chunk)
    name = Path(filename.replace("\\", "/")).name[:300] or "upload.csv"
    (folder / f"{token}.json").write_text(json.dumps({"filename": name, "size": size}))
    return token


def upload_path(folder: Path, token: str) -> Path:
    path = folder / f"{token}.csv"
    if not _TOKEN.fullmatch(token) or not path.exists():
        raise NotFound("no such upload (it may have been imported already)")
    return path


def upload_filename(folder: Path, token: str) -> str:
    meta = json.loads((folder / f"{token}.json").read_text())
    return str(meta["filename"])


def dry_run_report_path(folder: Path, token: str) -> Path:
    return folder / f"{token}.errors.csv"


def remove_upload(folder: Path, token: str) -> None:
    for suffix in (".csv", ".json", ".errors.csv"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)
