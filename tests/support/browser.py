"""The browser tests' site and browser: the real server and worker processes on a migrated,
demo-seeded SQLite file, and Debian's Chromium through Playwright (never a downloaded browser).

Used by tests/app/web/test_browser.py and test_axe.py, each with one site and one browser per
module.  Servers listen on 127.0.0.1 only and are stopped by the pids started here.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.db.engine import make_engine, make_session_factory
from app.db.models import Actor, College, Role
from app.services.catalog import load_catalog
from app.services.demo import demo_actors, seed_demo
from app.services.users import reset_users_of_actors
from tests.conftest import migrate

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass
class Site:
    url: str
    users: dict[str, tuple[str, str]]  # role key -> (username, password)
    database: str = ""  # the server's database, for tests that check what was (not) stored
    colleges: dict[str, int] = field(default_factory=dict)  # role key -> the user's college
    actors: dict[str, int] = field(default_factory=dict)  # role key -> the user's actor id
    by_actor: dict[int, tuple[str, str]] = field(default_factory=dict)  # every demo user by actor id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    # 90 s: on a loaded 2-core machine importing the app alone takes 17 s.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


@contextmanager
def demo_site(directory: Path) -> Iterator[Site]:
    """The demo data (seed 2027) behind a server and a worker; a user per role (the first of each;
    placement offices one per province, keyed ``placement_office@贵州``)."""
    url = f"sqlite:///{directory / 'demo.db'}"
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        load_catalog(session)
        seed_demo(session, 2027)
    with factory.begin() as session:
        actors = demo_actors(session)
        provinces = dict(session.execute(select(College.id, College.province)).all())
        credentials = reset_users_of_actors(session, actors)
        by_actor = {a.id: a for a in session.scalars(select(Actor))}
        users: dict[str, tuple[str, str]] = {}
        actor_of: dict[str, int] = {}
        colleges: dict[str, int] = {}
        every: dict[int, tuple[str, str]] = {}
        for cred in credentials:
            actor = by_actor[cred.actor_id]
            every.setdefault(actor.id, (cred.username, cred.password))
            key = cred.role.value
            if cred.role is Role.PLACEMENT_OFFICE:
                key += "@" + provinces[actor.college_id]
            if key not in users:
                users[key] = (cred.username, cred.password)
                actor_of[key] = actor.id
                if actor.college_id is not None:
                    colleges[key] = actor.college_id
    engine.dispose()

    port = _free_port()
    env = {**os.environ, "CHANJIAO_DATABASE_URL": url, "CHANJIAO_SECRET_KEY": "browser-test-" + "k" * 40,
           "CHANJIAO_WORKER_POLL_S": "0.2", "CHANJIAO_RATE_LIMIT_ENABLED": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    worker = subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", server)
        yield Site(f"http://127.0.0.1:{port}", users, url, colleges, actor_of, every)
    finally:
        for process in (worker, server):
            process.terminate()
        for process in (worker, server):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, width: int = 1280, locale: str = "zh-CN") -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    context.set_default_timeout(15_000)
    return context.new_page()


def sign_in(page: Page, site: Site, who: str | int) -> None:
    """Signs in as a role key of ``site.users`` or as the user of an actor id."""
    from playwright.sync_api import expect

    username, password = site.by_actor[who] if isinstance(who, int) else site.users[who]
    page.goto(site.url + "/login")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(password)
    page.get_by_role("button", name=re.compile("登录|Sign in")).click()
    page.wait_for_load_state()
    expect(page.locator("form[action='/logout']")).to_be_visible()
