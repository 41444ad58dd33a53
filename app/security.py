"""Who is calling: principals, API keys and role checks (pure helpers, no queries)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from app.db.models import Role

KEY_PREFIX = "cj_"


@dataclass(frozen=True, slots=True)
class Principal:
    actor_id: int | None
    role: Role
    college_id: int | None = None
    enterprise_id: int | None = None
    scope: dict[str, Any] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


# The actor used by CLI commands run by the machine's operator.
SYSTEM = Principal(actor_id=None, role=Role.ADMIN)


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random tokens: a fast hash is as safe as a slow one and keeps lookups O(1).
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
