"""Failed sign-ins lock a username for a while, whatever the password tried next."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.services.signin_guard import SignInGuard
from tests.app.web.conftest import sign_in


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_guard_locks_after_the_limit_and_forgets_after_the_window() -> None:
    clock = FakeClock()
    guard = SignInGuard(max_failures=3, window_s=60, clock=clock)
    for _ in range(2):
        guard.failed("Alice ")
        assert guard.retry_after("alice") is None
    guard.failed("ALICE")
    assert guard.retry_after("alice") == 60
    assert guard.retry_after("bob") is None
    clock.now += 59
    assert guard.retry_after("alice") == 1
    clock.now += 1
    assert guard.retry_after("alice") is None
    guard.failed("alice")
    assert guard.retry_after("alice") is None  # a new window starts with one failure


def test_success_clears_the_failures() -> None:
    guard = SignInGuard(max_failures=2, window_s=60, clock=FakeClock())
    guard.failed("carol")
    guard.succeeded("carol")
    guard.failed("carol")
    assert guard.retry_after("carol") is None


def test_locked_username_is_refused_even_with_the_right_password(app_client: TestClient,
                                                                 market: dict[str, Any]) -> None:
    limit = app_client.app.state.settings.login_max_failures  # type: ignore[attr-defined]
    for _ in range(limit):
        assert sign_in(app_client, "college_a", password="guess").status_code == 401
    locked = sign_in(app_client, "college_a")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert 'role="alert"' in locked.text
    assert app_client.get("/programs", follow_redirects=False).status_code == 303  # not signed in
    # Another user is not affected.
    assert sign_in(app_client, "college_b").status_code == 303
