"""The sections of tests/bench/run.py about several processes and what people feel.

- render workers: 500 queued renders drained by one `flask worker`, then by two (each on a
  database of its own, filled the same way), and no PDF rendered twice;
- sign to PDF: tablets signing back to back, and each patient's phone opening its copy page
  at once, before the PDF exists, then again until it can download it;
- human pace: many tablets, each answering one page every few seconds, as a person does;
- scale out: two gunicorn instances on two ports, one database, tablets whose requests
  alternate between them.
"""

import random
import re
import statistics
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from tests.bench.tablet_client import Tablet, UnexpectedResponse


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else 0.0


def _app(database: str):
    from consentapp import create_app

    return create_app({
        "SECRET_KEY": "benchmark-only-secret", "SQLALCHEMY_DATABASE_URI": database,
        "PDF_RENDER_MODE": "worker", "RATELIMIT_ENABLED": False,
    })


def seed_signed_records(database: str, count: int) -> None:
    """`count` signed records committed through records.commit, as the tablet commits them
    (the same path as tests/conftest.py's make_record): each has its render job queued."""
    from consentapp.extensions import db
    from consentapp.models import utcnow
    from consentapp.procedures import catalog
    from consentapp.procedures.eligibility import age_on, evaluate
    from consentapp.records import commit
    from consentapp.records.commit import Submission, commit_record
    from consentapp.records.signature import parse
    from tests.journey import all_screening_answers, drawn_signature

    app = _app(database)
    with app.app_context():
        item = catalog.available()[("microneedling", "en")]
        catalog.snapshot(item)
        db.session.commit()
        answers = all_screening_answers()
        dob = date(1970, 5, 5)
        assert evaluate(item.definition, answers, age=age_on(dob, date.today())).outcome \
            != "not_eligible"
        signature = parse(drawn_signature(), 6000)
        for number in range(count):
            name = f"Render Queue{number:04d}"
            commit_record(item.definition, Submission(
                submission_key=f"bench-render-{number}", definition_sha256=item.sha256,
                language="en", patient_name=name, patient_dob=dob, patient_contact=None,
                answers=answers, acknowledged_risks=("bruising",), signer_name=name,
                signature_method="drawn", signature=signature,
                teach_back=[{"key": q.key, "attempts": [q.answer], "correct": True}
                            for q in item.definition.teach_back],
                photo_consent=commit.photo_consent("en", {}),
                esign_agreement=commit.esign_agreement("en", utcnow()),
            ))
        db.session.remove()
        db.engine.dispose()


def wait_for_renderers(database: str, count: int) -> None:
    """Until `count` render workers have said they run (their first heartbeat)."""
    from sqlalchemy import text

    from tests.bench.run import engine_of

    engine = engine_of(database)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                beating = connection.scalar(text(
                    "SELECT count(*) FROM worker_heartbeats WHERE mode = 'worker'"))
            if beating >= count:
                return
            time.sleep(0.1)
        raise RuntimeError("the render workers did not start")
    finally:
        engine.dispose()


def _drain(env: dict, database: str, workers: int, jobs: int) -> tuple[float, dict]:
    """Start `workers` render workers, wait until each has said it runs, then release the
    parked jobs and time until every one is done. Returns the seconds and what was stored."""
    from sqlalchemy import text

    from tests.bench.run import engine_of, start_renderers, stop_renderers

    engine = engine_of(database)
    with engine.begin() as connection:  # parked: out of reach until every worker is up
        connection.execute(text("UPDATE render_jobs SET attempts = 1000"))
    renderers = start_renderers({**env, "DATABASE_URL": database}, workers)
    try:
        wait_for_renderers(database, workers)
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("UPDATE render_jobs SET attempts = 0"))
        while True:
            with engine.connect() as connection:
                left = connection.scalar(text(
                    "SELECT count(*) FROM render_jobs WHERE status != 'done'"))
            if not left:
                break
            if time.monotonic() - started > 3600:
                raise RuntimeError(f"{left} renders still owed after an hour")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        stop_renderers(renderers)
    with engine.connect() as connection:
        stored = {
            "pdfs": connection.scalar(text("SELECT count(*) FROM record_pdfs")),
            "records_with_pdf": connection.scalar(text(
                "SELECT count(DISTINCT record_id) FROM record_pdfs")),
            "rendered_events": connection.scalar(text(
                "SELECT count(*) FROM record_events WHERE kind = 'pdf_rendered'")),
            "claims": connection.scalar(text("SELECT sum(attempts) FROM render_jobs")),
        }
    engine.dispose()
    if stored["records_with_pdf"] != jobs:
        raise RuntimeError(f"{jobs} renders queued, {stored['records_with_pdf']} records got one")
    return elapsed, stored


def bench_render_workers(env: dict, databases, jobs: int) -> dict:
    """One worker, then two, each draining `jobs` queued renders of its own database.
    `databases` yields two empty, migrated database addresses (a context manager each)."""
    figures = {}
    twice = 0
    for workers, database in zip((1, 2), databases, strict=True):
        with database as url:
            seed_signed_records(url, jobs)
            elapsed, stored = _drain(env, url, workers, jobs)
        figures[workers] = elapsed
        # Rendered twice: a second PDF of a record, or a job claimed more than once.
        twice += (stored["pdfs"] - jobs) + (stored["rendered_events"] - jobs) + (
            stored["claims"] - jobs)
    return {
        "render_jobs": jobs,
        "render_1_worker_s": round(figures[1], 1),
        "render_2_workers_s": round(figures[2], 1),
        "render_workers_speedup": round(figures[1] / figures[2], 2),
        "pdfs_rendered_twice": twice,
    }


COPY_URL = re.compile(r"http://127\.0\.0\.1:\d+(/copy/[A-Za-z0-9_-]{43})")


def _copy_path(finished_page: str) -> str:
    """The phone's copy page, read from the finish screen's QR code as a camera would."""
    from tests.test_patient_copy import qr_text

    match = COPY_URL.fullmatch(qr_text(finished_page))
    if not match:
        raise UnexpectedResponse("no copy link on the finish screen")
    return match.group(1)


class Phone:
    """The patient's phone: opens the copy page at once, then again whenever the page's own
    refresh says to, until it can press "Download my PDF"."""

    PREPARING = "Your copy is being prepared"
    REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')

    def __init__(self, port: int, path: str):
        import http.client

        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.path = path
        self.cookies: dict[str, str] = {}
        self.problems: list[str] = []
        self.preparing_seen = False

    def _request(self, method: str, body: str | None = None):
        from http.cookies import SimpleCookie

        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, self.path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, content

    def fetch_copy(self, timeout: float) -> None:
        """Until the page offers the download, then download the PDF."""
        started = time.monotonic()
        while True:
            response, content = self._request("GET")
            page = content.decode("utf-8", "replace")
            if response.status != 200:  # 5xx, or a link used up or expired before its use
                self.problems.append(f"copy page: {response.status}")
                return
            if "Download my PDF" in page:
                break
            refresh = self.REFRESH.search(page)
            if self.PREPARING not in page or not refresh:
                self.problems.append("copy page neither ready nor saying it is being prepared")
                return
            self.preparing_seen = True
            if time.monotonic() - started > timeout:
                self.problems.append("no PDF in time")
                return
            time.sleep(int(refresh.group(1)))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        response, content = self._request("POST", urllib.parse.urlencode({"csrf_token": token}))
        if response.status != 200 or not content.startswith(b"%PDF"):
            self.problems.append(f"download: {response.status}")
        self.connection.close()


class PdfWatch:
    """When each record's PDF is stored, so downloadable (staff and phone alike): one query
    for all of them every 0.1 s, from a thread of its own."""

    def __init__(self, database: str, prefix: str):
        from tests.bench.run import engine_of

        self.engine, self.prefix = engine_of(database), prefix
        self.stored: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from sqlalchemy import text

        query = text("SELECT DISTINCT r.patient_name FROM record_pdfs p JOIN consent_records r"
                     " ON r.id = p.record_id WHERE r.patient_name LIKE :prefix")
        while not self._stop.wait(0.1):
            with self.engine.connect() as connection:
                names = connection.scalars(query, {"prefix": self.prefix + "%"}).all()
            now = time.monotonic()
            for name in names:
                self.stored.setdefault(name, now)

    def wait_for(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not set(names) <= set(self.stored):
            time.sleep(0.1)
        self._stop.set()
        self._thread.join()
        self.engine.dispose()


def bench_sign_to_pdf(server, tablets: int) -> dict:
    """`tablets` patients reach their signature at the same time and press "Sign and
    finish" back to back, one right after the other; each one's phone opens the copy page
    straight away (the PDF cannot exist yet), then as the page refreshes, until it downloads
    the PDF. Timed: from pressing "Sign and finish" to the PDF being stored, downloadable."""
    def walk(index: int) -> Tablet:
        tablet = Tablet("127.0.0.1", server.port)
        tablet.to_signature(f"Back Toback{index:03d}")
        return tablet

    def warm_up(index: int) -> None:  # each worker's first render loads fonts and more
        tablet = walk(index)
        tablet.sign(f"Warm Up{index:03d}")
        tablet.close()
        Phone(server.port, _copy_path(tablet.finished_page)).fetch_copy(timeout=600)

    wait_for_renderers(server.database, len(server.renderers))
    with ThreadPoolExecutor(max_workers=min(tablets, 16)) as pool:
        list(pool.map(warm_up, range(tablets, tablets + len(server.renderers))))
        ready = list(pool.map(walk, range(tablets)))
    watch = PdfWatch(server.database, "Back Toback")
    signed_at: dict[str, float] = {}
    phones: list[Phone] = []
    errors: list[str] = []
    followers = []
    started = time.monotonic()
    for index, tablet in enumerate(ready):
        name = f"Back Toback{index:03d}"
        signed_at[name] = time.monotonic()
        try:
            tablet.sign(name)
            phone = Phone(server.port, _copy_path(tablet.finished_page))
        except (UnexpectedResponse, OSError) as exc:
            errors.append(str(exc))
            continue
        finally:
            tablet.close()
        phones.append(phone)
        thread = threading.Thread(target=phone.fetch_copy, args=(600,))
        thread.start()
        followers.append(thread)
    signing_s = time.monotonic() - started
    watch.wait_for(list(signed_at), timeout=600)
    for thread in followers:
        thread.join()
    seconds = [watch.stored[name] - at for name, at in signed_at.items() if name in watch.stored]
    return {
        "sign_to_pdf_tablets": tablets,
        "sign_to_pdf_signing_s": round(signing_s, 1),
        "sign_to_pdf_p50_s": round(statistics.median(seconds), 2) if seconds else None,
        "sign_to_pdf_p95_s": round(_p95(seconds), 2),
        "copy_page_preparing_seen": sum(phone.preparing_seen for phone in phones),
        "copy_page_errors": len(errors) + len(signed_at) - len(seconds) + sum(
            len(phone.problems) for phone in phones),
    }


def bench_human_pace(server, tablets: int, seconds: float, pace: float) -> dict:
    """`tablets` tablets, each answering one page every `pace` seconds (a person reading
    and tapping), for `seconds`. Each starts at a random point of a journey (reached before
    the clock starts, slowly), so pages, signatures and renders are spread as in a clinic
    that has been open a while. Timed: each step page a tablet asks for."""
    rng = random.Random(5)
    steps = 24  # pages of a journey, about
    walkers = []

    def prepare(index: int):
        tablet = Tablet("127.0.0.1", server.port)
        journey = _endless_journey(tablet, f"Human Pace{index:03d}")
        for _ in range(rng.randrange(steps)):
            next(journey)
        tablet.step_page_ms.clear()
        return tablet, journey

    with ThreadPoolExecutor(max_workers=8) as pool:
        walkers = list(pool.map(prepare, range(tablets)))
    errors: list[str] = []
    stop_at = time.monotonic() + seconds
    pages = 0
    lock = threading.Lock()

    def walk(index: int) -> None:
        nonlocal pages
        tablet, journey = walkers[index]
        time.sleep(random.uniform(0, pace))  # not all in step
        while time.monotonic() < stop_at:
            turn = time.monotonic()
            try:
                next(journey)
            except (UnexpectedResponse, OSError) as exc:
                with lock:
                    errors.append(str(exc))
                return
            with lock:
                pages += 1
            time.sleep(max(0.0, pace - (time.monotonic() - turn)))

    threads = [threading.Thread(target=walk, args=(i,)) for i in range(tablets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timings = [ms for tablet, _ in walkers for ms in tablet.step_page_ms]
    for tablet, _ in walkers:
        tablet.close()
    return {
        "human_pace_tablets": tablets,
        "human_pace_pages": pages,
        "human_pace_step_p50_ms": round(statistics.median(timings), 1) if timings else None,
        "human_pace_step_p95_ms": round(_p95(timings), 1),
        "human_pace_errors": len(errors),
    }


def _endless_journey(tablet: Tablet, name: str):
    """Journey after journey on one tablet, a page at a time (the signature is a page)."""
    number = 0
    while True:
        patient = f"{name} Visit{number:03d}"
        yield from tablet.steps_to_signature(patient)
        yield
        tablet.sign(patient)
        yield
        number += 1


def bench_scale_out(first, second, tablets: int, journeys_each: int) -> dict:
    """Tablets whose requests alternate between two app servers (gunicorn instances on two
    ports, one database) complete their journeys: sessions, drafts, CSRF tokens and
    records live in the database, nothing in a process."""
    errors: list[str] = []
    done = 0
    lock = threading.Lock()

    def run(index: int) -> None:
        nonlocal done
        for number in range(journeys_each):
            tablet = Tablet("127.0.0.1", [first.port, second.port])
            try:
                tablet.journey(f"Scale Out{index:02d} Visit{number:02d}")
            except (UnexpectedResponse, OSError) as exc:
                with lock:
                    errors.append(str(exc))
            else:
                with lock:
                    done += 1
            finally:
                tablet.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=tablets) as pool:
        list(pool.map(run, range(tablets)))
    elapsed = time.monotonic() - started
    from sqlalchemy import text

    from tests.bench.run import engine_of

    engine = engine_of(first.database)
    with engine.connect() as connection:
        stored = connection.scalar(text(
            "SELECT count(*) FROM consent_records WHERE patient_name LIKE 'Scale Out%'"))
    engine.dispose()
    return {
        "scale_out_servers": 2,
        "scale_out_journeys": done,
        "scale_out_journeys_per_second": round(done / elapsed, 1),
        "scale_out_errors": len(errors),
        "scale_out_lost_records": done - stored,
    }
