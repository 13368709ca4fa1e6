"""Helpers of the real-browser tests: where Chromium is, the demo logins, screenshots, axe."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Debian's Chromium; CHROMIUM_PATH names another build (Playwright cannot download one here).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
MISSING_CHROMIUM = f"Chromium not installed at {CHROMIUM}: apt-get install chromium fonts-noto-cjk"
# The closed network refuses Chromium's own background calls; turn them off so they neither
# wait nor fill the console.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
BASE_DIR = Path(__file__).resolve().parents[2]
# The README shows docs/screenshots/; `make screenshots` refreshes them. An ordinary test run
# writes elsewhere, so that it leaves the working tree as it was.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or tempfile.gettempdir() + "/tracker-screenshots"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The browser asks for Chinese, as the bureau's browsers do (the UI follows Accept-Language).
CONTEXT = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}

PASSWORDS = {
    "office": "office-demo-2026",
    "leader": "leader-demo-2026",
    "liaison": "liaison-demo-2026",
    "liaison2": "liaison-demo-2026",
}


def log_in(page, username: str) -> None:
    """Log in through the login form, as people do."""
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save SCREENSHOTS/<name>.png; JPEG-like sizes come from keeping the page short."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=full_page, animations="disabled")
    return path
