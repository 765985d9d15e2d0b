"""`make run` on a fresh checkout: gunicorn serves, a signed journey's PDF appears by itself,
and one Ctrl-C stops everything.

The checkout is a copy of this working tree's files (what `git clone` would give, plus the
changes not committed yet) in a temporary folder, so its `instance/` is made afresh. It reuses
the virtualenv `make test` has just installed (`VENV=...`, and `-o` so that make never
reinstalls it from the copy): creating a virtualenv is the one step not run here.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.bench.tablet_client import Tablet

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
# What make, a CI job or a developer's shell may have set that a clinic's server would not.
NOT_INHERITED = {
    "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "DATABASE_URL", "SECRET_KEY", "PDF_RENDER_MODE",
    "GUNICORN_BIND", "GUNICORN_RENDER_WORKER", "RATELIMIT_STORAGE_URI", "SEAL_KEY_DIR",
    "PUBLIC_BASE_URL",
}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_checkout(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


class MakeRun:
    def __init__(self, checkout: Path):
        self.checkout = checkout
        self.port = free_port()
        self.output = checkout / "make-run.log"
        env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
        env["GUNICORN_WORKERS"] = "2"  # two cores shared by the whole suite
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(
                ["make", "-o", f"{VENV}/.installed", "run", f"VENV={VENV}",
                 "HOST=127.0.0.1", f"PORT={self.port}"],
                cwd=checkout, env=env, stdout=output, stderr=subprocess.STDOUT,
                # Its own process group, as a terminal gives a foreground command: Ctrl-C is
                # a SIGINT to the whole group.
                start_new_session=True,
            )

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_until_serving(self, timeout: float = 90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make run exited with {self.process.returncode}:\n{self.log()}")
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5)
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"make run did not serve within {timeout} s:\n{self.log()}")

    def ctrl_c(self, timeout: float = 45) -> None:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"make run was still running {timeout} s after Ctrl-C:\n{self.log()}")

    def group_is_empty(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.2)
        return False

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    run = MakeRun(fresh_checkout(tmp_path_factory.mktemp("checkout")))
    yield run
    run.kill()


def stored_pdfs(database: Path) -> list[bytes]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT content FROM record_pdfs")]


def test_make_run_serves_through_gunicorn_renders_pdfs_and_stops_on_one_ctrl_c(make_run):
    home = make_run.wait_until_serving()
    assert home.status == 200
    assert home.headers["Server"] == "gunicorn"  # not Werkzeug's development server
    log = make_run.log()
    assert f"http://127.0.0.1:{make_run.port}/" in log
    assert "flask --app wsgi create-staff" in log and "--role admin" in log
    database = make_run.checkout / "instance" / "consent.sqlite3"
    assert database.exists()  # the embedded default, made in the checkout's own instance/

    tablet = Tablet("127.0.0.1", make_run.port)
    try:
        tablet.journey("Maria Example")
    finally:
        tablet.close()
    # Nothing else was started: the render worker that make run started makes the PDF.
    deadline = time.monotonic() + 60
    while not (pdfs := stored_pdfs(database)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(pdfs) == 1, make_run.log()
    assert pdfs[0].startswith(b"%PDF-")

    make_run.ctrl_c()
    assert make_run.group_is_empty(), make_run.log()
    log = make_run.log()
    # The worker finished its pass and stopped by itself; the master waited for it.
    assert "SIGINT: stopping after the PDFs in hand" in log and "The PDF worker stopped." in log
    assert "The PDF render worker has stopped" in log
    assert "Traceback" not in log


def test_the_worker_service_stops_cleanly_on_sigterm(make_run):
    """What `systemctl stop consentapp-worker` sends (after the first test, on its database)."""
    database = make_run.checkout / "instance" / "consent.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env |= {"DATABASE_URL": f"sqlite:///{database}", "PDF_RENDER_MODE": "worker"}
    worker = subprocess.Popen(
        [str(VENV / "bin" / "flask"), "--app", "wsgi", "worker", "--poll", "0.2"],
        cwd=make_run.checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not heartbeats_since(database, worker.pid):
            time.sleep(0.2)
        assert heartbeats_since(database, worker.pid), "the worker never beat"
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, output.decode()
    assert b"SIGTERM: stopping after the PDFs in hand" in output
    assert b"The PDF worker stopped." in output


def heartbeats_since(database: Path, pid: int) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT count(*) FROM worker_heartbeats WHERE worker_id LIKE ?", (f"%:{pid}",)
        ).fetchone()[0]
