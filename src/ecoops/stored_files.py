"""Files people upload and the app keeps (influence evidence, enablement content): copied under a random
token into a folder of their own, refused when empty or past a cap, always served back as a download."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import BinaryIO

from ecoops.accounts.service import InvalidInput


def keep_file(stream: BinaryIO, filename: str, folder: Path, cap: int, kept_as: str) -> tuple[str, int]:
    """Copy the stream to `folder` under a random token, refusing it when empty or past `cap` bytes;
    the token and the size. `kept_as` ends the refusal: "… larger than N bytes, the most kept as …"."""
    folder.mkdir(parents=True, exist_ok=True)
    token, size = secrets.token_hex(16), 0
    path = folder / token
    with path.open("wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > cap:
                break
            out.write(chunk)
    if size > cap or size == 0:
        path.unlink(missing_ok=True)
        raise InvalidInput(
            f"file: {filename} is empty"
            if size == 0
            else f"file: {filename} is larger than {cap:,} bytes, the most kept as {kept_as}"
        )
    return token, size


def file_name(filename: str, default: str) -> str:
    """The name without any folder a browser put before it, as a download will offer it."""
    return Path(filename.replace("\\", "/")).name[:300] or default
