"""A clinic's bad day, as a script (not part of `make test`):

    python tests/chaos/bad_day.py [--database URL] [--patients 20] [--at-once 8]

20 patients sign, 8 at a time, through `gunicorn -c gunicorn.conf.py` with
PDF_RENDER_MODE=worker and one `flask --app ... worker`, while the render worker is killed
with SIGKILL twice mid-render (and restarted, as its service would be), one gunicorn
worker is killed mid-load and another as one patient's signature commits, and on
PostgreSQL every app connection is terminated once.
A tablet whose answer is lost, or that is asked to try again, taps Sign again (up to three
times) and then looks at the welcome screen, as a patient would.

Then it counts records, PDFs, 5xx answers, duplicate records, the longest time a record
waited for its PDF, and runs `records rerender` and `audit check`. Prints a table and a
last line of JSON. Without --database it uses a new SQLite file; with a PostgreSQL URL, the
database must exist and its public schema is dropped and made again.
"""

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.chaos.cluster import (  # noqa: E402
    APPLICATION_NAME_PREFIX,
    Cluster,
    terminate_connections,
)
from tests.chaos.tablet import Lost, Tablet  # noqa: E402

SAVED = "Your signed form has been saved."
KILLED_AT_SIGN = 9  # the patient whose Sign kills a gunicorn worker after the commit


class Day:
    def __init__(self, cluster: Cluster, patients: int):
        self.cluster = cluster
        self.patients = patients
        self.signed = 0
        self.lock = threading.Lock()
        self.lost_answers = 0
        self.retaps = 0
        self.not_finished: list[str] = []
        self.answers: list = []
        self.chaos_log: list[str] = []

    def patient(self, number: int) -> None:
        name = f"Bad Day Patient{number:02d}"
        tablet = Tablet(self.cluster.port, timeout=120)
        try:
            for _attempt in range(3):  # a journey cut short by a lost answer starts again
                try:
                    tablet.to_signature(name)
                    break
                except Lost:
                    with self.lock:
                        self.lost_answers += 1
            form = tablet.sign_form(name)
            finished = False
            for attempt in range(4):
                # One patient's Sign kills its gunicorn worker the moment the record is
                # committed, before the answer: the worst moment for a worker to die.
                chaos = "kill-after-commit" if number == KILLED_AT_SIGN and not attempt else None
                try:
                    answer = tablet.sign(name, form=form, chaos=chaos)
                except Lost:
                    with self.lock:
                        self.lost_answers += 1
                    continue
                if answer.status == 200 and SAVED in answer.text:
                    finished = True
                    break
                if answer.status == 200 and "Signature" not in answer.text:
                    break  # sent to the welcome screen: the tablet looks once more below
                with self.lock:
                    self.retaps += 1
            if not finished:
                try:
                    finished = SAVED in tablet.get("/").text
                except Lost:
                    pass
            with self.lock:
                self.signed += 1
                if not finished:
                    self.not_finished.append(name)
        finally:
            with self.lock:
                self.answers.extend(tablet.answers)

    def wait_signed(self, count: int) -> None:
        while self.signed < count:
            time.sleep(0.05)

    def note(self, what: str) -> None:
        self.chaos_log.append(f"{time.strftime('%H:%M:%S')} {what}")

    def kill_render_worker(self, worker):
        cluster = self.cluster
        before = len(cluster.renders_started(worker.pid))
        cluster.wait_for(lambda: len(cluster.renders_started(worker.pid)) > before, 120,
                         "a render in the worker")
        time.sleep(0.05)
        cluster.kill(worker)
        self.note(f"killed the render worker {worker.pid} mid-render (SIGKILL)")
        time.sleep(1)
        fresh = cluster.start_worker()
        self.note(f"restarted the render worker: {fresh.pid}")
        return fresh

    def chaos(self, postgresql: bool) -> None:
        cluster = self.cluster
        worker = cluster.workers[-1]
        self.wait_signed(3)
        worker = self.kill_render_worker(worker)
        self.wait_signed(7)
        victim = random.choice(cluster.gunicorn_worker_pids())
        cluster.kill(victim)
        self.note(f"killed gunicorn worker {victim} (SIGKILL) with 8 tablets busy")
        self.wait_signed(11)
        self.kill_render_worker(worker)
        if postgresql:
            self.wait_signed(14)
            count = terminate_connections(cluster.database_url, f"{APPLICATION_NAME_PREFIX}%")
            self.note(f"terminated {count} app connections (pg_terminate_backend)")



def reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--at-once", type=int, default=8)
    parser.add_argument("--lease", type=float, default=30,
                        help="PDF_RENDER_LEASE_SECONDS (default: the production default)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bad-day-"))
    url = args.database or f"sqlite:///{workdir / 'bad-day.sqlite3'}"
    postgresql = url.startswith("postgresql")
    if postgresql:
        reset_postgresql(url)
    cluster = Cluster(url, workdir, str(workdir / "seal"), render_mode="worker",
                      gunicorn_workers=5, lease_seconds=args.lease)
    migrated = cluster.flask("db", "upgrade")
    if migrated.returncode:
        raise SystemExit(migrated.stderr)
    # A clinic that has been running has its sealing key: make it now, not at the first PDF.
    cluster.flask("forms", "preview", "microneedling", "--out", str(workdir / "sample.pdf"))
    day = Day(cluster, args.patients)
    started = time.monotonic()
    try:
        cluster.start_gunicorn()
        cluster.wait_ready(cluster.start_worker())  # running before the first patient, as usual
        chaos = threading.Thread(target=day.chaos, args=(postgresql,), daemon=True)
        chaos.start()
        with ThreadPoolExecutor(max_workers=args.at_once) as pool:
            list(pool.map(day.patient, range(args.patients)))
        chaos.join(timeout=180)
        signing_seconds = time.monotonic() - started

        def all_rendered():
            return not cluster.records_without_pdf() and not cluster.scalar(
                "SELECT count(*) FROM render_jobs WHERE status <> 'done'")

        try:
            cluster.wait_for(all_rendered, args.lease * 3 + 60, "every PDF", interval=0.5)
        except AssertionError:
            pass
        rerender = cluster.flask("records", "rerender")
        audit = cluster.flask("audit", "check")
        results = figures(cluster, day, signing_seconds, rerender, audit, postgresql)
    finally:
        cluster.stop()
    print(f"logs in {workdir}")
    for line in day.chaos_log:
        print(line)
    width = max(len(key) for key in results)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(results))


def _moment(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def figures(cluster, day, signing_seconds, rerender, audit, postgresql) -> dict:
    records = cluster.rows("SELECT id, patient_name, completed_at FROM consent_records")
    names = [name for _, name, _ in records]
    first_pdf = dict(cluster.rows(
        "SELECT record_id, min(created_at) FROM record_pdfs GROUP BY record_id"))
    taken_over = {rid for (rid,) in cluster.rows(
        "SELECT record_id FROM render_jobs WHERE attempts > 1")}
    wait_of = {rid: (_moment(first_pdf[rid]) - _moment(done)).total_seconds()
               for rid, _, done in records if rid in first_pdf}
    waits = list(wait_of.values())
    others = [wait for rid, wait in wait_of.items() if rid not in taken_over]
    killed = [wait for rid, wait in wait_of.items() if rid in taken_over]
    status = [answer.status for answer in day.answers]
    bare = sum(1 for a in day.answers
               if a.status >= 500 and "<h1><p>Internal Server Error</p></h1>" in a.text)
    return {
        "database": "postgresql" if postgresql else "sqlite",
        "patients": day.patients,
        "records": len(records),
        "duplicates": len(names) - len(set(names)),
        "patients_without_a_record": day.patients - len(set(names)),
        "patients_not_shown_the_finish_page": len(day.not_finished),
        "records_with_pdf": len(first_pdf),
        "pdf_versions": cluster.scalar("SELECT count(*) FROM record_pdfs"),
        "answers": len(status),
        "answers_5xx": sum(1 for s in status if s >= 500),
        "answers_503_try_again": sum(1 for s in status if s == 503),
        "answers_5xx_bare_gunicorn": bare,
        "answers_lost": day.lost_answers,
        "sign_tapped_again": day.retaps,
        "longest_pdf_wait_s": round(max(waits), 1) if waits else None,
        "median_pdf_wait_s": round(sorted(waits)[len(waits) // 2], 1) if waits else None,
        "longest_pdf_wait_killed_render_s": round(max(killed), 1) if killed else None,
        "longest_pdf_wait_other_s": round(max(others), 1) if others else None,
        "render_jobs_attempts_max": cluster.scalar("SELECT max(attempts) FROM render_jobs"),
        "records_rerender_exit": rerender.returncode,
        "audit_check_exit": audit.returncode,
        "signing_seconds": round(signing_seconds, 1),
        "lease_seconds": cluster.lease_seconds,
    }


if __name__ == "__main__":
    main()
