"""The key that signs session cookies: from ``CHANJIAO_SECRET_KEY``, else generated once and kept."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.settings import Settings

DEFAULT_FILE = Path("var") / "secret_key"


def session_secret(settings: Settings, path: Path = DEFAULT_FILE) -> str:
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    # Kept beside the default database so a restart keeps everyone signed in.
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created exclusively and readable by the owner only; a concurrent first start keeps the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
