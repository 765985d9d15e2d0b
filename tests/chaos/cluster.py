"""The app in real processes, as production runs it: gunicorn with the project's
gunicorn.conf.py and `flask --app ... worker` processes, against one database.

Used by the crash tests (tests/test_crash_recovery.py) and the bad-day script
(tests/chaos/bad_day.py). Everything is started through the public commands and watched
through the database's tables, so it keeps working as the package is reorganised.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.chaos.chaos_app"
# Every connection of an app process calls itself this plus its pid (tests/chaos/chaos_app.py).
APPLICATION_NAME_PREFIX = "consent-chaos-"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def terminate_connections(database_url: str, application_name: str) -> int:
    """pg_terminate_backend every connection that calls itself `application_name` (a LIKE
    pattern), from a connection of our own; returns how many were terminated."""
    import psycopg

    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE %s "
            "AND pid <> pg_backend_pid()",
            (application_name,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


class Cluster:
    def __init__(self, database_url: str, workdir: Path, seal_key_dir: str, *,
                 render_mode: str = "worker", gunicorn_workers: int = 2,
                 lease_seconds: float = 3, extra_env: dict | None = None):
        self.database_url = database_url
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.lease_seconds = lease_seconds
        self.env = {
            **os.environ,
            "SECRET_KEY": "crash-test-secret-key",
            "DATABASE_URL": database_url,
            "SEAL_KEY_DIR": seal_key_dir,
            "CLINIC_NAME": "Riverside Skin Clinic",
            "PDF_RENDER_MODE": render_mode,
            "PDF_RENDER_LEASE_SECONDS": str(lease_seconds),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            # Where the patient's phone reaches the app: the finish screen's copy link needs it.
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(gunicorn_workers),
            "RATELIMIT_STORAGE_URI": "memory://",
            "CHAOS_DIR": str(self.workdir),
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.env.pop("CHAOS_RENDER_DELAY", None)
        self.gunicorn: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.engine = create_engine(database_url)

    # -- processes -------------------------------------------------------------------------
    def flask(self, *args: str, timeout: float = 120, env: dict | None = None):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", APP, *args], cwd=ROOT,
            env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout,
        )

    def start_gunicorn(self) -> None:
        with open(self.workdir / "gunicorn.log", "ab") as log:  # the child keeps its copy
            self.gunicorn = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                 "--access-logfile", str(self.workdir / "access.log"),
                 "--access-logformat", '%(t)s %(s)s "%(r)s" %(M)s', f"{APP}:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=log,
            )
        self.wait_until_serving()

    def wait_until_serving(self, timeout: float = 60) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.log_tail("gunicorn.log"))
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/")
                status = connection.getresponse().status
                connection.close()
                if status == 200 and len(self.gunicorn_worker_pids()) >= 1:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer: " + self.log_tail("gunicorn.log"))

    def gunicorn_worker_pids(self) -> list[int]:
        pid = self.gunicorn.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(child) for child in children.read_text().split()]

    def wait_ready(self, process: subprocess.Popen, timeout: float = 120) -> None:
        """Until the process has loaded the app (tests/chaos/chaos_app.py says so)."""
        path = self.workdir / "ready.log"

        def ready():
            if process.poll() is not None:
                raise RuntimeError(f"process {process.pid} exited")
            return path.exists() and str(process.pid) in path.read_text().split()

        self.wait_for(ready, timeout, f"process {process.pid} to load the app")

    def start_worker(self, render_delay: float = 0, poll: float = 0.2) -> subprocess.Popen:
        number = len(self.workers)
        with open(self.workdir / f"worker-{number}.log", "ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", APP, "worker", "--poll", str(poll)],
                cwd=ROOT, env={**self.env, "CHAOS_RENDER_DELAY": str(render_delay)},
                stdout=log, stderr=log,
            )
        self.workers.append(worker)
        return worker

    @staticmethod
    def kill(process_or_pid) -> None:
        pid = getattr(process_or_pid, "pid", process_or_pid)
        os.kill(pid, signal.SIGKILL)
        if hasattr(process_or_pid, "wait"):
            process_or_pid.wait(timeout=10)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        self.workers = []
        if self.gunicorn is not None and self.gunicorn.poll() is None:
            self.gunicorn.send_signal(signal.SIGTERM)
            try:
                self.gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
        self.engine.dispose()

    def log_tail(self, name: str, size: int = 3000) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    # -- what the test watches -------------------------------------------------------------
    def renders_started(self, pid: int | None = None) -> list[tuple[int, float]]:
        path = self.workdir / "renders.log"
        lines = path.read_text().split("\n") if path.exists() else []
        started = [(int(p), float(t)) for p, t in (line.split() for line in lines if line)]
        return [entry for entry in started if pid is None or entry[0] == pid]

    def forget_renders(self) -> None:
        """Start the list of renders (and of their delays) afresh."""
        for name in ("renders.log", "render-delays", "first-render"):
            (self.workdir / name).unlink(missing_ok=True)

    def wait_for(self, condition, timeout: float, what: str, interval: float = 0.05):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")

    def schedule_render_delays(self, *delays: float | str) -> None:
        """The next renders to start (in any process) wait these, in order: seconds, or
        "gate:NAME" for a render held until open_gate(NAME)."""
        (self.workdir / "render-delays").write_text("\n".join(str(d) for d in delays))

    def open_gate(self, name: str) -> None:
        (self.workdir / name).touch()

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).all()

    def record_ids(self, name: str) -> list[str]:
        return [row[0] for row in self.rows(
            "SELECT id FROM consent_records WHERE patient_name = :name", name=name)]

    def records_without_pdf(self) -> list[str]:
        return [row[0] for row in self.rows(
            "SELECT id FROM consent_records WHERE id NOT IN (SELECT record_id FROM record_pdfs)")]

    def pdf_versions(self, record_id: str) -> list[tuple[int, int | None]]:
        """(version, events_through) of each PDF the record has, oldest first."""
        rendered = self.rows(
            "SELECT details FROM record_events WHERE record_id = :id AND kind = 'pdf_rendered' "
            "ORDER BY id", id=record_id)
        found = [json.loads(d) if isinstance(d, str) else d for (d,) in rendered]
        return [(item["version"], item.get("events_through")) for item in found]

    def latest_pdf(self, record_id: str) -> tuple[int, bytes] | None:
        row = self.rows(
            "SELECT version, content FROM record_pdfs WHERE record_id = :id "
            "ORDER BY version DESC LIMIT 1", id=record_id)
        return (row[0][0], bytes(row[0][1])) if row else None
