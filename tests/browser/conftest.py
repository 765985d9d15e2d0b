"""Browser fixtures: the app served on a loopback port, and Debian's Chromium via Playwright."""

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def server_url(app):
    """The app on 127.0.0.1 with a free port, for as long as the test runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required for browser tests (.ci/run installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


VIEWPORTS = {
    "tablet-portrait": {"width": 820, "height": 1180},
    "tablet-landscape": {"width": 1180, "height": 820},
    "phone": {"width": 390, "height": 844},
}


class PageProblems(list):
    """Every script error and console error of the pages a test opens: the test fails on
    any, whatever it asserted (fixtures below attach this to each page). A test that opens
    an error page on purpose names the console line it expects with expect()."""

    def __init__(self):
        super().__init__()
        self.expected: list[str] = []

    def expect(self, text: str) -> None:
        self.expected.append(text)

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.append(f"{page.url}: page error: {error}"))
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page, message) -> None:
        if message.type == "error" and not any(text in message.text for text in self.expected):
            self.append(f"{page.url}: console error: {message.text}")


@pytest.fixture
def page_problems():
    problems = PageProblems()
    yield problems
    assert not problems, "\n".join(problems)


@pytest.fixture
def new_page(chromium, page_problems):
    """new_page(viewport=...) -> a page in a fresh browser context, watched for errors."""
    contexts = []

    def open_(**options):
        context = chromium.new_context(**options)
        context.on("page", page_problems.watch)  # pages the app opens itself, too
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def open_device(new_page):
    """open_device("phone", java_script_enabled=False) -> a fresh touch page of that size."""

    def open_(name: str = "tablet-portrait", **options):
        return new_page(viewport=VIEWPORTS[name], has_touch=True, device_scale_factor=1,
                        **options)

    return open_


@pytest.fixture
def tablet(open_device):
    """A portrait tablet: 820x1180, touch."""
    return open_device("tablet-portrait")


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
