"""The app as README's production section runs it: `gunicorn -c gunicorn.conf.py wsgi:app`.

One gunicorn with two workers for the whole module, on the default install (SQLite under a
temporary folder, no RATELIMIT_STORAGE_URI, nothing else running), driven over HTTP from
addresses of the loopback range so each test has an address of its own. What is checked
here is what only a real multi-process server shows: limits shared by every worker, the
access log, and a web worker's memory after a hostile upload.
"""

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from consentapp import create_app
from consentapp.extensions import db

from .conftest import _test_config
from .hostile_files import tiny_dictionaries
from .journey import PatientJourney

ROOT = Path(__file__).resolve().parent.parent
STAFF_PASSWORD = "served over two workers"
PATIENT, DOB = "Philippa Quockerwodger", "1958-11-23"
SECOND_PATIENT = "Bartholomew Zanzibar"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A browser from one address: cookies kept, redirects not followed, one connection each."""

    def __init__(self, port: int, address: str = "127.0.0.1"):
        self.port, self.address, self.cookies = port, address, {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.address, 0)
        )
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or "01 Jan 1970" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, response.headers, data.decode("utf-8", "replace")

    def get(self, path: str):
        return self.request("GET", path)

    def token(self, path: str) -> str:
        status, _, page = self.get(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def post(self, path: str, fields: dict, token_from: str | None = None):
        fields = {**fields, "csrf_token": self.token(token_from or path)}
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def upload(self, path: str, name: str, content: bytes, token_from: str):
        token = self.token(token_from)
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
            f"filename=\"upload.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.request("POST", path, body,
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def sign_in(self, email: str, password: str = STAFF_PASSWORD):
        return self.post("/staff/login", {"email": email, "password": password})


class Gunicorn:
    def __init__(self, workdir: Path, database_url: str, seal_key_dir: str):
        self.port = _free_port()
        self.log_path = workdir / "gunicorn.log"
        self.env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("RATELIMIT_", "GUNICORN_", "PUBLIC_BASE_URL"))
        }
        self.env.update({
            "SECRET_KEY": "served-test-secret-key",
            "DATABASE_URL": database_url,
            "SEAL_KEY_DIR": seal_key_dir,
            "CLINIC_NAME": "Riverside Skin Clinic",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
        })

    def __enter__(self) -> "Gunicorn":
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            if len(self.worker_pids()) == 2:
                try:
                    if Browser(self.port).get("/staff/login")[0] == 200:
                        return self
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start: " + self.log_path.read_text())

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def rss_kb(self) -> dict[int, int]:
        sizes = {}
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes[pid] = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        return sizes

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory, seal_key_dir):
    workdir = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{workdir / 'consent.sqlite3'}"
    app = create_app(_test_config(url, SEAL_KEY_DIR=seal_key_dir,
                                  PUBLIC_BASE_URL="http://127.0.0.1"))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    for email in ("victim@clinic.test", "nul@clinic.test", "dr.ruiz@clinic.test"):
        made = app.test_cli_runner().invoke(args=[
            "create-staff", email, "--role", "clinician", "--password", STAFF_PASSWORD,
        ])
        assert made.exit_code == 0, made.output
    for name in (PATIENT, SECOND_PATIENT):  # signed on a tablet, PDFs made
        journey = PatientJourney(app.test_client())
        journey.complete("diabetes", name=name, dob=DOB)
    with app.app_context():
        db.engine.dispose()
    with Gunicorn(workdir, url, seal_key_dir) as served:
        served.app = app
        yield served


def _served_by(log: str, path: str) -> set[str]:
    """The worker pids the access log names for requests to `path`."""
    return set(re.findall(rf'"POST {re.escape(path)} HTTP/1\.[01]" \d+ .*<(\d+)>', log))


def _attempts(server, address: str, emails: list[str], password: str) -> list[int]:
    """Sign-in attempts sent at once, each from a fresh browser: their status codes."""
    def attempt(email: str) -> int:
        status, _, page = Browser(server.port, address).sign_in(email, password)
        if status == 200:
            assert "do not match an active staff account" in page
        return status

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(attempt, emails))
    print(f"\n{len(emails)} failed sign-ins from {address}: {statuses.count(200)} checked, "
          f"{statuses.count(429)} refused (429)")
    return statuses


def test_five_failures_lock_the_account_in_every_worker(server):
    statuses = _attempts(server, "127.0.0.2", ["victim@clinic.test"] * 12, "wrong password!!")
    assert sorted(statuses) == [200] * 5 + [429] * 7, statuses
    assert len(_served_by(server.log_text(), "/staff/login")) == 2  # both workers counted
    # Locked: the right password no longer opens it, whichever worker answers, and neither
    # does the same address with a control character the form strips before the lookup.
    for email in ("victim@clinic.test", "VICTIM@clinic.test", "vic\x01tim@clinic.test",
                  "victim@clinic.test\x00", " victim@clinic.test "):
        for _ in range(2):
            status, _, page = Browser(server.port, "127.0.0.6").sign_in(email)
            assert status == 429, (email, status)
            assert "Signing in is paused" in page


def test_control_characters_in_the_email_count_towards_the_same_account(server):
    emails = ["nul\x00@clinic.test", "n\x01ul@clinic.test", "nul@clinic.test\x7f"] * 3
    statuses = _attempts(server, "127.0.0.3", emails, "wrong password!!")
    assert sorted(statuses) == [200] * 5 + [429] * 4, statuses
    status, _, _ = Browser(server.port, "127.0.0.7").sign_in("nul@clinic.test")
    assert status == 429


def test_thirty_failures_from_one_address_pause_it_for_every_account(server):
    emails = [f"nobody{number}@clinic.test" for number in range(36)]
    statuses = _attempts(server, "127.0.0.4", emails, "wrong password!!")
    assert sorted(statuses) == [200] * 30 + [429] * 6, statuses
    status, _, page = Browser(server.port, "127.0.0.4").sign_in("dr.ruiz@clinic.test")
    assert status == 429 and "from this computer" in page
    assert Browser(server.port, "127.0.0.8").sign_in("dr.ruiz@clinic.test")[0] == 302


def test_the_copy_link_limit_holds_across_workers(server):
    def guess(_number: int) -> int:
        return Browser(server.port, "127.0.0.5").get(f"/copy/{uuid.uuid4().hex}")[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(guess, range(14)))
    print(f"\n14 copy-link guesses: {statuses.count(404)} answered, {statuses.count(429)} "
          "refused (429)")
    assert sorted(statuses) == [404] * 10 + [429] * 4, statuses


def test_a_huge_upload_gets_a_verdict_at_once_and_leaves_the_workers_as_they_were(server):
    browser = Browser(server.port, "127.0.0.9")
    assert browser.sign_in("dr.ruiz@clinic.test")[0] == 302
    hostile = tiny_dictionaries(1_500_000)
    assert len(hostile) > 16_000_000
    browser.get("/staff/verify")  # both workers have served pages before they are measured
    before = server.rss_kb()
    timings = []
    for _ in range(2):
        started = time.monotonic()
        status, _, page = browser.upload("/staff/verify", "pdf", hostile, "/staff/verify")
        timings.append(time.monotonic() - started)
        assert status == 200, page[-2000:]
        assert "too large or too complex to check" in page
    after = server.rss_kb()
    growth_mb = max((after[pid] - before.get(pid, after[pid])) / 1024 for pid in after)
    print(f"\nhuge upload: {len(hostile) / 1e6:.1f} MB, answered in "
          f"{', '.join(f'{t:.2f} s' for t in timings)}; worker RSS growth {growth_mb:.1f} MB "
          f"({before} -> {after} kB)")
    assert max(timings) < 3
    assert growth_mb < 50
    assert set(after) == set(before)  # no worker was killed for it


def test_a_staff_session_leaves_no_patient_data_in_the_access_log(server):
    browser = Browser(server.port, "127.0.0.1")
    assert browser.sign_in("dr.ruiz@clinic.test")[0] == 302
    status, headers, _ = browser.post("/staff/search", {
        "q": PATIENT.split()[1], "dob": DOB, "date_from": "", "date_to": "", "procedure": "",
        "status": "", "sort": "newest",
    }, token_from="/staff/")
    assert status in (302, 303)
    results = headers["Location"]
    status, _, page = browser.get(results)
    assert status == 200 and PATIENT in page
    record = re.search(r'href="(/staff/records/[0-9a-f-]{36})"', page).group(1)
    for path in re.findall(r'href="(/staff/\?[^"]+)"', page):  # status tabs and pages
        assert browser.get(path.replace("&amp;", "&"))[0] == 200
    csv = re.search(r'href="(/staff/records\.csv\?[^"]+)"', page).group(1).replace("&amp;", "&")
    status, _, exported = browser.get(csv)
    assert status == 200 and PATIENT in exported
    assert browser.get(record)[0] == 200
    status, _, _ = browser.get(record + "/pdf")
    assert status == 200
    assert browser.get(record + "/fhir")[0] == 200
    browser.post(record + "/review", {"decision": "approved", "note": "Fine."}, token_from=record)
    assert browser.post("/staff/search", {"q": SECOND_PATIENT, "dob": "", "date_from": "",
                                          "date_to": "", "procedure": "", "status": "",
                                          "sort": "name"}, token_from="/staff/")[0] in (302, 303)
    status, _, _ = browser.post("/staff/logout", {}, token_from="/staff/")
    assert status == 302
    # Signed out, an old results address asks for a sign-in and remembers only the path.
    status, headers, _ = browser.get(results)
    assert status == 302 and "search" not in headers["Location"]

    log = server.log_text()
    assert '"POST /staff/search HTTP/1.1" 303' in log or '"POST /staff/search HTTP/1.1" 302' in (
        log)
    for secret in (*PATIENT.split(), *SECOND_PATIENT.split(), DOB, DOB.replace("-", "%2D"),
                   PATIENT.split()[1].lower()):
        assert secret not in log, secret
    # Paths only: no query string reaches the log at all.
    for line in log.splitlines():
        request = re.search(r'"(?:GET|POST) (\S+) HTTP', line)
        if request:
            assert "?" not in request.group(1), line

