"""deploy/Caddyfile, as shipped, in front of gunicorn, for the tests of what a tablet on the
clinic's network sees (tests/test_https_front.py, tests/browser/test_https_front.py).

Caddy (Debian's package; .ci/run installs it) and gunicorn start once per test run, on free
loopback ports, Caddy with its own data folder in tmp (so its certificate authority is made
afresh) and the placeholders of the Caddyfile set to those ports. The app is configured as
deploy/consentapp.env configures it: one `https://` PUBLIC_BASE_URL, one trusted proxy, on the
test database. The "tablet" connects from 127.0.0.2, so its address differs from the proxy's
(127.0.0.1), and trusts nothing but the root certificate this Caddy made.
"""

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bench.tablet_client import Tablet

ROOT = Path(__file__).resolve().parents[1]
TABLET_ADDRESS = "127.0.0.2"  # the proxy reaches gunicorn from 127.0.0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, process: subprocess.Popen, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} did not come up within {timeout} s:\n{log.read_text()}")


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Front:
    """The ports and files of the running pair."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.gunicorn_port = free_port()
        self.https_port = free_port()
        self.http_port = free_port()
        self.base_url = f"https://localhost:{self.https_port}"
        self.root_cert = tmp / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.root_cert))


@pytest.fixture(scope="session")
def front(tmp_path_factory, database_url, seal_key_dir):
    caddy = shutil.which("caddy")
    assert caddy, "Debian's caddy is required for this test (.ci/run installs it)"
    front = Front(tmp_path_factory.mktemp("https-front"))
    app_env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GUNICORN_")},
        "SECRET_KEY": "https-front-test-secret",
        "DATABASE_URL": database_url,
        "SEAL_KEY_DIR": seal_key_dir,
        "PDF_RENDER_MODE": "worker",  # no PDF is needed here
        "PUBLIC_BASE_URL": front.base_url,
        "PROXY_FIX_X_FOR": "1",
        "PROXY_FIX_X_PROTO": "1",
        "GUNICORN_BIND": f"127.0.0.1:{front.gunicorn_port}",
        "GUNICORN_WORKERS": "1",
    }
    gunicorn = start([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                     app_env, front.tmp / "gunicorn.log")
    caddy_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(front.tmp),
        "XDG_DATA_HOME": str(front.tmp / "caddy-data"),
        "XDG_CONFIG_HOME": str(front.tmp / "caddy-config"),
        "CADDY_BIND": "127.0.0.1",
        "CADDY_HTTP_PORT": str(front.http_port),
        "CADDY_HTTPS_PORT": str(front.https_port),
        "CADDY_ADMIN": "off",
        "CADDY_CA_DIR": str(front.root_cert.parent),
        "CONSENT_ADDRESS": "localhost",
        "CONSENT_UPSTREAM": f"127.0.0.1:{front.gunicorn_port}",
    }
    caddy_process = start([caddy, "run", "--adapter", "caddyfile",
                           "--config", str(ROOT / "deploy" / "Caddyfile")],
                          caddy_env, front.tmp / "caddy.log")
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", front.gunicorn_port)).close()
                 or True, "gunicorn", gunicorn, front.tmp / "gunicorn.log")
        wait_for(lambda: front.root_cert.exists() and https_get(front, "/").status == 200,
                 "caddy", caddy_process, front.tmp / "caddy.log")
        yield front
    finally:
        stop(caddy_process)
        stop(gunicorn)


class TabletConnection(http.client.HTTPSConnection):
    """HTTPS from the tablet's own address, trusting only the clinic's root; it remembers the
    responses' headers, and can add a header a client might forge.

    Like a browser, it sends the page's address as Referer with a form it posts, unless the
    page's Referrer-Policy forbids it (Flask-WTF refuses a form over HTTPS without one; a
    real Chromium does the same in test_a_browser_signs_in_through_caddy).
    """

    def __init__(self, front: Front, extra_headers: dict | None = None):
        super().__init__("localhost", front.https_port, context=front.tls_context(), timeout=30)
        self.extra_headers = extra_headers or {}
        self.last_headers: http.client.HTTPMessage | None = None
        self.set_cookies: list[str] = []
        self.exchanges: list[tuple[str, str, http.client.HTTPMessage]] = []
        self._sent: tuple[str, str] = ("", "")

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout,
                                       source_address=(TABLET_ADDRESS, 0))
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)

    def request(self, method, url, body=None, headers=None, **kwargs):
        headers = {**(headers or {}), **self.extra_headers}
        if method == "POST" and self.exchanges:
            _, page, page_headers = self.exchanges[-1]
            # (A browser's default policy, strict-origin-when-cross-origin, sends it too.)
            if page_headers.get("Referrer-Policy") != "no-referrer":
                headers["Referer"] = f"https://{self.host}:{self.port}{page}"
        self._sent = (method, url)
        super().request(method, url, body, headers, **kwargs)

    def getresponse(self):
        response = super().getresponse()
        self.last_headers = response.headers
        self.set_cookies += response.headers.get_all("Set-Cookie") or []
        self.exchanges.append((*self._sent, response.headers))
        return response


def https_get(front: Front, path: str) -> http.client.HTTPResponse:
    connection = TabletConnection(front)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def tablet(front: Front, **headers) -> tuple[Tablet, TabletConnection]:
    device = Tablet("localhost", front.https_port)
    device.close()
    connection = TabletConnection(front, headers)
    device.connections = [connection]  # every request of this tablet through Caddy
    return device, connection
