"""Throttling of failed sign-ins: a username that failed too often is locked for a while.

Kept in memory per server process, like the API's rate limits: enough to stop a password being
guessed through one server; a shared store would be needed to pool several servers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_TRACKED = 10_000


@dataclass
class _Failures:
    count: int
    first_at: float


class SignInGuard:
    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}

    @staticmethod
    def _key(username: str) -> str:
        return username.strip().casefold()

    def retry_after(self, username: str) -> float | None:
        """Seconds until ``username`` may try again, or None when it may try now."""
        now = self._clock()
        with self._lock:
            entry = self._failures.get(self._key(username))
            if entry is None:
                return None
            left = entry.first_at + self.window_s - now
            if left <= 0:
                del self._failures[self._key(username)]
                return None
            return left if entry.count >= self.max_failures else None

    def failed(self, username: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                self._forget_expired(now)
            key = self._key(username)
            entry = self._failures.get(key)
            if entry is None or entry.first_at + self.window_s <= now:
                self._failures[key] = _Failures(1, now)
            else:
                entry.count += 1

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(self._key(username), None)

    def _forget_expired(self, now: float) -> None:
        for key in [k for k, e in self._failures.items() if e.first_at + self.window_s <= now]:
            del self._failures[key]
