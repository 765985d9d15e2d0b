"""Benchmarks: `python tests/bench/run.py` (add --small for the quick run `make test` does).

Everything runs on this machine against 127.0.0.1: the app under gunicorn with the project's
gunicorn.conf.py, render workers as `flask worker` processes, and load from this process.
The database is a SQLite file in a temporary folder, or with `--database
postgresql://USER@HOST:PORT/NAME` PostgreSQL: each section then creates a database of its own
(NAME, NAME_search, ...: none may exist yet) and drops it when done (tests/bench/databases.py).
Prints a table, then one last line of JSON. Speed is given as ratios against baselines run in
the same process, alternately, because these machines are noisy; give the load average
(`uptime`) with any figure.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import scale  # noqa: E402
from tests.bench.databases import postgresql_url, scratch  # noqa: E402
from tests.bench.tablet_client import Tablet, UnexpectedResponse  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving tests/bench/bench_app.py with the project's own gunicorn.conf.py, and
    `render_workers` PDF render workers (`flask worker`) beside it."""

    def __init__(self, database: str, render_mode: str, recycle_workers: bool = True,
                 render_workers: int = 0, web_workers: int | None = None):
        self.port = free_port()
        self.recycle_workers = recycle_workers
        self.database = database
        self.render_workers = render_workers
        self.renderers: list[subprocess.Popen] = []
        env = {
            **os.environ,
            "SECRET_KEY": "benchmark-only-secret",
            "DATABASE_URL": database,
            "PDF_RENDER_MODE": render_mode,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "RATELIMIT_STORAGE_URI": "memory://",
            # The phones of the copy-page section all come from 127.0.0.1, and the QR code
            # needs an address a phone can trust.
            "PATIENT_COPY_LIMIT": "100000 per minute",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
        }
        if web_workers is not None:
            env["GUNICORN_WORKERS"] = str(web_workers)
        self.env = env

    def migrate(self) -> None:
        migrate(self.database)

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--access-logfile", "/dev/null",
             *([] if self.recycle_workers else ["--max-requests", "0"]),
             "tests.bench.bench_app:app"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        import http.client

        # The port opens before the workers have loaded the app, and each takes seconds to
        # boot: measure only once every worker has answered, or the first figures would
        # time the boots.
        deadline = time.monotonic() + 90
        answered: set[str] = set()
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/bench/hello")
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    answered.add(response.getheader("X-Worker-Pid"))
                connection.close()
            except OSError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                break
            workers = {str(pid) for pid in self.worker_pids()}
            if workers and workers <= answered:
                self.renderers = start_renderers(self.env, self.render_workers)
                return self
        raise RuntimeError("gunicorn did not start: " + self.process.stderr.read().decode())

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        stop_renderers(self.renderers)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def start_renderers(env: dict, count: int) -> list[subprocess.Popen]:
    """`count` render workers, niced as production runs them (deploy/, gunicorn.conf.py)."""
    nice = 10  # deploy/consentapp-worker.service's Nice=

    return [subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "tests.bench.bench_app", "worker"],
        cwd=ROOT, env={**env, "PDF_RENDER_MODE": "worker"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: os.nice(nice),
    ) for _ in range(count)]


def stop_renderers(renderers: list[subprocess.Popen]) -> None:
    for process in renderers:
        process.send_signal(signal.SIGTERM)
    for process in renderers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def migrate(database: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tests.bench.bench_app", "db", "upgrade"],
        cwd=ROOT, env={**os.environ, "SECRET_KEY": "benchmark-only-secret",
                       "DATABASE_URL": database},
        check=True, capture_output=True,
    )


def engine_of(database: str):
    from sqlalchemy import create_engine

    return create_engine(database)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def requests_per_second(port: int, path: str, cookie: str, clients: int, seconds: float) -> float:
    import http.client

    stop = time.monotonic() + seconds
    counts = [0] * clients

    def hammer(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status}")
            counts[index] += 1
        connection.close()

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def bench_throughput(server: Server, rounds: int, seconds: float) -> dict:
    """A patient step page against hello-world, and against a view that only finds the
    patient's draft (what every step does before its template: the floor of a step page)."""
    tablet = Tablet("127.0.0.1", server.port)
    tablet.get("/")
    tablet.post("/start", {"procedure": "microneedling"}, "/step/about")
    cookie = "; ".join(f"{k}={v}" for k, v in tablet.cookies.items())
    paths = {"hello": "/bench/hello", "draft_read": "/bench/draft", "step": "/step/about"}
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for path in paths.values():  # warm every worker up first
        requests_per_second(server.port, path, cookie, 8, 1.0)
    for _ in range(rounds):  # alternate, so drift in the machine hits all alike
        for name, path in paths.items():
            rates[name].append(requests_per_second(server.port, path, cookie, 8, seconds))
    tablet.close()
    rps = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "hello_rps": round(rps["hello"]),
        "draft_read_rps": round(rps["draft_read"]),
        "step_rps": round(rps["step"]),
        "draft_read_ratio_vs_hello": round(rps["draft_read"] / rps["hello"], 3),
        "step_throughput_ratio_vs_hello": round(rps["step"] / rps["hello"], 3),
    }


def bench_signing(server: Server, journeys: int) -> dict:
    timings = []
    tablet = Tablet("127.0.0.1", server.port)
    for number in range(journeys):
        timings.append(tablet.journey(f"Sign Timing{number}"))
    tablet.close()
    return {"sign_p50_ms": round(statistics.median(timings), 1),
            "sign_p95_ms": round(p95(timings), 1)}


def bench_concurrency(server: Server, tablets: int, journeys_each: int, rss_after: int) -> dict:
    errors: list[str] = []
    done = 0
    lock = threading.Lock()
    rss_early: dict[int, float] = {}
    step_page_ms: list[float] = []

    def run_tablet(index: int) -> None:
        nonlocal done
        tablet = Tablet("127.0.0.1", server.port)
        for number in range(journeys_each):
            try:
                tablet.journey(f"Tablet{index:02d} Journey{number:02d}")
            except (UnexpectedResponse, OSError) as exc:
                errors.append(str(exc))
                step_page_ms.extend(tablet.step_page_ms)
                tablet.close()
                tablet = Tablet("127.0.0.1", server.port)
                continue
            with lock:
                done += 1
                if done == rss_after:
                    rss_early.update({pid: rss_mb(pid) for pid in server.worker_pids()})
        step_page_ms.extend(tablet.step_page_ms)
        tablet.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=tablets) as pool:
        list(pool.map(run_tablet, range(tablets)))
    elapsed = time.monotonic() - started
    rss_late = {pid: rss_mb(pid) for pid in server.worker_pids()}
    growth = max((rss_late[pid] - rss_early[pid] for pid in rss_early if pid in rss_late),
                 default=0.0)

    from sqlalchemy import text

    engine = engine_of(server.database)
    with engine.connect() as connection:
        stored = connection.scalar(text(
            "SELECT count(*) FROM consent_records WHERE patient_name LIKE 'Tablet%'"
        ))
    engine.dispose()
    return {
        "journeys": done,
        "journeys_per_second": round(done / elapsed, 1),
        "step_pages_per_second": round(len(step_page_ms) / elapsed),
        "step_page_p95_ms_under_load": round(p95(step_page_ms), 1),
        "concurrency_errors": len(errors),
        "lost_records": done - stored,
        "rss_growth_mb": round(growth, 1),
    }


def bench_pages(server: Server) -> dict:
    """Every patient page in Chromium: its total weight, and requests leaving the app.

    A tablet client answers every step over HTTP first; Chromium then gets its session
    cookie, so it may open each step page directly, with an empty cache every time.
    """
    import shutil

    from playwright.sync_api import sync_playwright

    origin = f"http://127.0.0.1:{server.port}"
    tablet = Tablet("127.0.0.1", server.port)
    tablet.to_signature("Page Weight")
    tablet.close()
    paths = ["/step/about", "/step/concerns", "/step/medicines", "/step/health",
             "/step/screening", "/step/outcome", "/step/expect", "/step/benefits",
             "/step/risks", "/step/alternatives", "/step/before_visit", "/step/aftercare",
             "/step/understanding", "/step/signer", "/step/photos", "/step/review",
             "/step/esign", "/step/sign"]
    weights: dict[str, int] = {}
    external: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
        )
        for path in ["/", *paths]:
            context = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
            if path != "/":
                context.add_cookies([{"name": name, "value": value, "url": origin}
                                     for name, value in tablet.cookies.items()])
            page = context.new_page()
            loaded: list[int] = []
            page.on("request", partial(_note_external, origin, external))
            page.on("response", partial(_note_size, loaded))
            page.goto(origin + path, wait_until="networkidle")
            if not page.url.endswith(path):
                raise RuntimeError(f"{path} sent the browser to {page.url}")
            weights[path] = sum(loaded)
            context.close()
        browser.close()
    heaviest = max(weights, key=weights.get)
    return {
        "patient_page_kb": round(weights[heaviest] / 1024, 1),
        "heaviest_page": heaviest,
        "external_requests": len(external),
    }


def _note_external(origin: str, external: list[str], request) -> None:
    if not request.url.startswith((origin, "data:")):
        external.append(request.url)


def _note_size(loaded: list[int], response) -> None:
    loaded.append(len(response.body()) if response.status == 200 else 0)


def bench_search(records: int, repeat: int, database: str | None) -> dict:
    """The staff dashboard's searches over many generated records (tests/bench/search_bench)."""
    from tests.bench.search_bench import run as run_search

    result = run_search(records, repeat, database)
    return {
        "search_records": result["records"],
        "search_build_s": result["build_s"],
        "search_1m_p50_ms": result["p50_ms"],
        "search_1m_p95_ms": result["p95_ms"],
        "search_slowest": max(result["scenarios"],
                              key=lambda name: result["scenarios"][name]["p95_ms"]),
    }


def _record_html_and_document(app) -> tuple[str, dict]:
    """A typical record: a patient completes the journey; the document of its first PDF."""
    from consentapp.extensions import db
    from consentapp.models import ConsentRecord
    from consentapp.records.document import rebuild_document
    from consentapp.records.render import render_html
    from tests.journey import PatientJourney

    PatientJourney(app.test_client()).complete()
    with app.app_context():
        record = db.session.scalars(db.select(ConsentRecord)).one()
        document = rebuild_document(record, version=1)
        return render_html(document), document


def _naive_folder(workdir: Path, html: str) -> tuple[str, str]:
    """The same page the ordinary way: CSS inlined in a <style>, fonts as files beside it."""
    import shutil

    from consentapp.paths import STATIC_DIR

    shutil.copytree(STATIC_DIR / "fonts", workdir / "fonts")
    (workdir / "css").mkdir()
    css = (STATIC_DIR / "css" / "pdf.css").read_text(encoding="utf-8")
    # The stylesheet's url("../fonts/...") resolve against the page's base URL: css/.
    naive_html = html.replace("</head>", f"<style>{css}</style></head>", 1)
    return naive_html, (workdir / "css").as_uri() + "/"


def bench_pdf(rounds: int, database: str) -> dict:
    """Our render-and-seal of a typical record vs WeasyPrint's plain write_pdf() of it.

    Ours is what production runs (render_pdf then seal_for_app); the naive baseline renders
    the same HTML, CSS and fonts with default options. Alternated in this one process.
    """
    import io

    import weasyprint
    from flask_migrate import upgrade
    from pypdf import PdfReader

    from consentapp import create_app
    from consentapp.extensions import db
    from consentapp.records.render import render_pdf
    from consentapp.records.seal import seal_for_app

    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        app = create_app({
            "SECRET_KEY": "benchmark-only-secret",
            "SQLALCHEMY_DATABASE_URI": database,
            "SEAL_KEY_DIR": str(work / "seal"),
            "PDF_RENDER_MODE": "inline",
            "RATELIMIT_ENABLED": False,
        })
        with app.app_context():
            upgrade()
        html, document = _record_html_and_document(app)
        naive_html, naive_base = _naive_folder(work, html)

        def naive() -> bytes:
            return weasyprint.HTML(string=naive_html, base_url=naive_base).write_pdf()

        def ours() -> bytes:  # as the render worker does it, in an app context
            with app.app_context():
                return seal_for_app(app, render_pdf(document))

        # Once each outside the timing (the first seal makes the clinic's key), and a check
        # that the baseline lays out the same pages.
        pages = len(PdfReader(io.BytesIO(ours())).pages)
        if len(PdfReader(io.BytesIO(naive())).pages) != pages:
            raise RuntimeError("the naive render does not lay out the same pages")
        naive_ms, ours_ms = [], []
        for _ in range(rounds):
            for run, timings in ((naive, naive_ms), (ours, ours_ms)):
                started = time.perf_counter()
                run()
                timings.append((time.perf_counter() - started) * 1000)
        with app.app_context():
            db.engine.dispose()
    naive_median, ours_median = statistics.median(naive_ms), statistics.median(ours_ms)
    return {
        "pdf_pages": pages,
        "pdf_ms": round(ours_median, 1),
        "pdf_naive_ms": round(naive_median, 1),
        "pdf_speedup_vs_naive": round(naive_median / ours_median, 2),
    }


class Databases:
    """Each section's database, made from one migrated at the start (a file copy, or
    PostgreSQL's CREATE DATABASE ... TEMPLATE), where migrating each took seconds."""

    def __init__(self, server, folder: Path):
        self.server, self.folder = server, folder
        self._template = scratch(server, "template", folder)

    def __enter__(self) -> "Databases":
        self.template = self._template.__enter__()
        migrate(self.template)
        return self

    def __exit__(self, *exc) -> None:
        self._template.__exit__(*exc)

    def new(self, section: str):
        return scratch(self.server, section, self.folder, template=self.template)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="a quick run that checks it works")
    parser.add_argument("--database", metavar="URL",
                        help="postgresql://USER@HOST:PORT/NAME: run every section on "
                        "PostgreSQL, in databases NAME and NAME_* that it creates and drops")
    parser.add_argument("--records", type=int, help="records the search section makes "
                        "(default 1,000,000; 300 with --small)")
    args = parser.parse_args()
    small = args.small
    server = postgresql_url(args.database) if args.database else None
    records = args.records or (300 if small else 1_000_000)
    results = Timed(database="postgresql" if server else "sqlite")
    if small:  # fewer gunicorn workers boot sooner; nothing small is a measurement
        os.environ.setdefault("GUNICORN_WORKERS", "2")
    with tempfile.TemporaryDirectory() as workdir, \
            Databases(server, Path(workdir)) as databases:
        with databases.new("pdf") as database:
            results.update(bench_pdf(rounds=2 if small else 15, database=database))
        with databases.new("main") as database:
            # Throughput is timed with worker recycling off: at these rates gunicorn's
            # max_requests would recycle every worker every few seconds, and the figures
            # would time the recycling. The load test below keeps it on, as production has.
            with Server(database, render_mode="thread", recycle_workers=False) as app_server:
                results.update(bench_throughput(app_server, rounds=1 if small else 5,
                                                seconds=0.5 if small else 3))
                results.update(bench_signing(app_server, journeys=3 if small else 60))
                results.update(bench_pages(app_server))
            # Load: rendering is left to the worker mode (no worker runs), so the tablets
            # measure the web tier alone.
            with Server(database, render_mode="worker") as load:
                results.update(bench_concurrency(
                    load, tablets=4 if small else 50, journeys_each=2 if small else 20,
                    rss_after=2 if small else 100,
                ))
        with databases.new("scale") as database:
            with Server(database, render_mode="worker") as first, \
                    Server(database, render_mode="worker") as second:
                results.update(scale.bench_scale_out(
                    first, second, tablets=1 if small else 20, journeys_each=1 if small else 5))
        env = Server("", render_mode="worker").env
        results.update(scale.bench_render_workers(
            env, [databases.new(f"render{n}") for n in (1, 2)],
            jobs=2 if small else 500,
        ))
        with databases.new("sign") as database:
            with Server(database, render_mode="worker", render_workers=2) as signing:
                results.update(scale.bench_sign_to_pdf(signing, tablets=2 if small else 50))
        with databases.new("pace") as database:
            with Server(database, render_mode="worker", render_workers=1) as pace:
                results.update(scale.bench_human_pace(
                    pace, tablets=3 if small else 200, seconds=2 if small else 60,
                    pace=0.5 if small else 5.0,
                ))
        with databases.new("search") as database:
            results.update(bench_search(records=records, repeat=2 if small else 20,
                                        database=database if server else None))
    print_table(results)
    print(json.dumps(results))


class Timed(dict):
    """results.update() that tells stderr how long each section took (stdout is the table)."""

    started = time.monotonic()

    def update(self, *args, **kwargs) -> None:
        super().update(*args, **kwargs)
        now = time.monotonic()
        print(f"[bench] {', '.join(dict(*args, **kwargs))[:60]}: {now - self.started:.1f} s",
              file=sys.stderr)
        self.started = now


def print_table(results: dict) -> None:
    width = max(len(key) for key in results)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
