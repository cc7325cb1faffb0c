"""What the browser tests share: Debian's Chromium and its flags, the local HTTP server for a built
site (generator/bench/serve.py, the browser bench's too), and the check that skips (or, under
CI=true, fails) where the browser is missing."""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from generator.bench.serve import serve  # noqa: F401 (the tests' server, imported from here)

from helpers import skip_unless_ci

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--autoplay-policy=no-user-gesture-required"]


def require_browser() -> None:
    """Skip where Chromium or Playwright is missing; fail instead under CI=true."""
    if not Path(CHROMIUM).exists():
        skip_unless_ci(f"Chromium not found ({CHROMIUM}): `make test` installs Debian's chromium with "
                       "apt-get as root or with passwordless sudo, and could not here")
    if importlib.util.find_spec("playwright") is None:
        skip_unless_ci("Playwright is not installed (it is pinned in requirements.txt)")


def settle(page, timeout: float = 60) -> None:
    """Wait out the live page's one reload into cross-origin isolation (docs/javascripts/live/
    isolation.js) until it says whether it is isolated; at once for any other page."""
    import time

    from playwright.sync_api import Error as PlaywrightError

    probe = ("!location.pathname.endsWith('/en-vivo.html') "
             "|| Boolean(document.getElementById('live-state')?.dataset.isolated)")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.evaluate(probe):
                return
        except PlaywrightError:
            pass   # the document went away with the reload
        time.sleep(0.1)
    raise AssertionError(f"{page.url} did not settle in {timeout} s")
