"""Notebook 02 in a real browser, presented as the teacher's guide says: JupyterLab at 1280x720 in Presentation Mode
with the table of contents open runs it, a slider of the widget explorer moves, the MACs follow, and no test marker
shows (nbval's markers are cell tags).

Drives Debian's Chromium (/usr/bin/chromium) with Playwright for Python; `playwright install` is
never needed. Without them the test is skipped locally and fails under CI=true. The screenshot
goes to test-results/browser/explorer.png.
"""

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from gooknet_helpers.blocks import Inception
from gooknet_helpers.costs import measure

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_bottleneck_1x1.ipynb"
SCREENSHOT = ROOT / "test-results" / "browser" / "explorer.png"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REDUCED_LINE = r"Inception \(1x1 reduction\): output \S+, params [\d,]+, MACs "


def reduced_line(macs: int) -> re.Pattern:
    """The explorer's line for the module with reductions, showing `macs` multiply-adds."""
    return re.compile(rf"{REDUCED_LINE}{macs:,}(?![,\d])")


# No news or update checks (they would pop up a notification over the notebook).
NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def require_browser() -> None:
    """Skip (fail under CI=true) unless Chromium and Playwright are installed."""
    missing = []
    if not CHROMIUM.exists():
        missing.append("Chromium at /usr/bin/chromium (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright for Python (pip install playwright)")
    if missing:
        message = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyterlab(root_dir: Path, tmp: Path) -> Iterator[str]:
    """A JupyterLab server on 127.0.0.1 serving `root_dir`, with its own settings; yields its URL; always killed."""
    names = ("JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_RUNTIME_DIR")
    dirs = {name: tmp / name.lower() for name in names}
    settings = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(NOTIFICATION_SETTINGS))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--allow-root",  # CI containers run as root
        "--IdentityProvider.token=",  # no token (ServerApp.token is deprecated since jupyter_server 2)
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root_dir}",
    ]
    log_path = tmp / "jupyterlab.log"
    env = os.environ | {name: str(path) for name, path in dirs.items()}
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        # The server and its kernels share one process group.
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_explorer_slider_updates_macs(tmp_path):
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    assert NOTEBOOK.exists(), f"{NOTEBOOK} is missing"
    root_dir = tmp_path / "notebooks"
    root_dir.mkdir()
    shutil.copy(NOTEBOOK, root_dir)  # the committed notebook is never touched
    before = measure(Inception(192, 64, 96, 128, 16, 32, 32), (192, 28, 28)).macs
    after = measure(Inception(192, 64, 96, 128, 16, 33, 32), (192, 28, 28)).macs

    with jupyterlab(root_dir, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})  # a classroom projector
        page.set_default_timeout(30_000)
        try:
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}")
            # The kernel is ready when the status bar names it idle (before that it reads "No Kernel | ...").
            idle = page.get_by_text(re.compile(r"^Python 3 .*\| Idle$"))
            idle.wait_for(timeout=60_000)
            # The live route of docs/teachers_guide.md: Presentation Mode, with the table of contents as slide list.
            page.get_by_role("menuitem", name="View", exact=True).click()
            page.locator(".lm-Menu-item", has_text="Appearance").first.hover()
            page.locator(".lm-Menu-item", has_text="Presentation Mode").first.click()
            expect(page.locator(".jp-mod-presentationMode")).to_have_count(1)
            page.get_by_role("menuitem", name="View", exact=True).click()
            page.locator(".lm-Menu-item", has_text="Table of Contents").first.click()
            toc = page.get_by_role("treeitem").filter(has_text="5. Explore the widths").first
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            label = page.locator(".widget-label", has_text=re.compile(r"^#5x5$"))
            slider = page.locator(".widget-hslider").filter(has=label)
            output = page.locator(".widget-output").filter(has_text=re.compile(REDUCED_LINE))
            expect(output).to_contain_text(reduced_line(before), timeout=60_000)
            # Move the slider only once every cell has run: no "[*]" prompt left, the kernel idle.
            expect(page.locator(".jp-InputPrompt", has_text="[*]")).to_have_count(0, timeout=60_000)
            idle.wait_for()
            expect(page.locator(".widget-hslider")).to_have_count(8)  # all of the explorer's sliders
            toc.click()  # the table of contents leads to the explorer's section
            expect(page.locator(".jp-NotebookPanel")).not_to_contain_text("NBVAL")

            slider.locator(".noUi-handle").focus()
            page.keyboard.press("ArrowRight")
            expect(slider.locator(".widget-readout")).to_have_text("33")
            expect(output).to_contain_text(reduced_line(after), timeout=60_000)
            # Idle again: the update's figure has arrived (iopub keeps order); let it decode before the screenshot.
            idle.wait_for()
            for image in output.locator("img").all():
                image.evaluate("img => img.decode()")
            output.scroll_into_view_if_needed()
        finally:
            # Saved on failure too: it shows what the browser saw.
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOT)
            browser.close()
