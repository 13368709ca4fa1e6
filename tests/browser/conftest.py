"""Real-browser set-up: the app served on 127.0.0.1 from its own SQLite file, one Chromium.

The server runs in a subprocess with a fresh database (migrate, load_plans, load_demo), so the
browser sees exactly what `make run` serves, and pytest-django's in-memory database and the
flushes of transactional tests play no part: these tests never touch the `db` fixture. Every
test gets a fresh browser context (cookies, storage) whose console is watched for errors and
Content-Security-Policy violations.

Without Chromium at /usr/bin/chromium every test here is skipped with the reason.
The server and the browser live as long as this package's tests (package scope), so the rest
of the suite never runs beside Playwright's event loop (Django refuses database calls there).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.support import (
    BASE_DIR,
    CHROMIUM,
    CHROMIUM_ARGS,
    CONTEXT,
    DESKTOP,
    MISSING_CHROMIUM,
    log_in,
)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=MISSING_CHROMIUM))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(
        f"the server did not answer {url} in {seconds} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="package")
def app_url(tmp_path_factory) -> Iterator[str]:
    """The app with the four plans and the demo accounts, served by runserver on a free port."""
    root = tmp_path_factory.mktemp("browser-app")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{root}/db.sqlite3",
        "MEDIA_ROOT": str(root / "media"),
        "DJANGO_DEBUG": "true",  # runserver serves the static files (and plotly.js) itself
        # Axes stays on, as in production, but the suite's logins must never lock anyone out.
        "AXES_ENABLED": "true",
        "AXES_FAILURE_LIMIT": "1000",
        "OTP_REQUIRED_FOR_OFFICE": "false",  # the demo office account has no authenticator
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    # One process for the three set-up commands: each Django start-up costs seconds.
    setup = (
        "from django.core.management import call_command as c; "
        "c('migrate', interactive=False, verbosity=0); c('load_plans', verbosity=0); "
        "c('load_demo', verbosity=0)"
    )
    done = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [*manage, "shell", "--no-imports", "-c", setup],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"setting up the served database failed:\n{done.stderr[-3000:]}")
    port = _free_port()
    log = root / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603 - as above
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{url}/accounts/login/", server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class ConsoleWatch:
    """What the page's console said that a user should never cause: errors, CSP refusals."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        # Every page names its icon (base.html), so not even /favicon.ico may be a 404.
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error) -> None:
        self.errors.append(f"uncaught: {error}")

    def assert_clean(self) -> None:
        assert self.errors == [], "browser console:\n" + "\n".join(self.errors)


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture(scope="package")
def logged_in(browser, app_url) -> Callable[[str], dict]:
    """The cookies of one login per demo user, made once: each login hashes a password, slow."""
    states: dict[str, dict] = {}

    def state_for(username: str) -> dict:
        if username not in states:
            context = browser.new_context(base_url=app_url, **CONTEXT)
            log_in(context.new_page(), username)
            states[username] = context.storage_state()
            context.close()
        return states[username]

    return state_for


@pytest.fixture
def new_page(browser, app_url, console, logged_in):
    """Open a page in a fresh context, `new_page(as_user="office", viewport=PHONE)`.

    Without `as_user` the page is anonymous; contexts are closed after the test.
    """
    contexts = []

    def open_page(*, as_user: str | None = None, viewport: dict[str, int] = DESKTOP, **options):
        if as_user:
            options["storage_state"] = logged_in(as_user)
        context = browser.new_context(
            base_url=app_url,
            viewport=viewport,
            **CONTEXT,
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_page_error)
        return page

    yield open_page
    for context in contexts:
        context.close()
