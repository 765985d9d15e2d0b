"""Crashes, in real processes: a render worker killed mid-render, a gunicorn worker killed
mid-request, decisions rendered in several processes at once, database connections
terminated (PostgreSQL). The app runs as production runs it (gunicorn with gunicorn.conf.py,
`flask worker`), once for the module, with short render leases and a render made slow on
purpose where the timing is the point (tests/chaos/chaos_app.py)."""

import time

import pytest

from .chaos.cluster import APPLICATION_NAME_PREFIX, Cluster, terminate_connections
from .chaos.tablet import Lost, Tablet, copy_code
from .conftest import STAFF_PASSWORD
from .pdf import pdf_text

LEASE_SECONDS = 3
SAVED = "Your signed form has been saved."
# A live worker looks for work this often (tests/chaos/cluster.py starts them so), and the
# slack this shared 2-core machine needs to schedule a process that woke up.
POLL_SECONDS = 0.2
SLACK_SECONDS = 3


@pytest.fixture(scope="module")
def cluster(database_url, seal_key_dir, tmp_path_factory):
    cluster = Cluster(database_url, tmp_path_factory.mktemp("crash"), seal_key_dir,
                      render_mode="worker", gunicorn_workers=2, lease_seconds=LEASE_SECONDS)
    cluster.start_gunicorn()
    yield cluster
    cluster.stop()


@pytest.fixture
def fresh(app, cluster):
    """Empty tables (the app fixture), no worker left running from an earlier test."""
    cluster.forget_renders()
    yield cluster
    for worker in cluster.workers:
        if worker.poll() is None:
            cluster.kill(worker)
    cluster.workers = []


def _signed(cluster, name: str, *screening_yes: str, **journey) -> Tablet:
    tablet = Tablet(cluster.port)
    tablet.to_signature(name, *screening_yes, **journey)
    answer = tablet.sign(name)
    assert answer.landed_on == "/finished" and SAVED in answer.text, answer.status
    return tablet


def test_a_render_worker_killed_mid_render_is_taken_over_within_the_lease(fresh):
    cluster = fresh
    doomed = cluster.start_worker(render_delay=60)  # it would take a minute: it is killed
    _signed(cluster, "Killed Render")
    cluster.wait_for(lambda: cluster.renders_started(doomed.pid), 30, "the doomed render")
    survivor = cluster.start_worker()
    cluster.wait_ready(survivor)
    time.sleep(POLL_SECONDS * 5)  # the survivor looks for work; the job is leased to another
    assert cluster.records_without_pdf() != []

    cluster.kill(doomed)
    killed_at = time.time()
    cluster.wait_for(lambda: cluster.records_without_pdf() == [], 60, "the survivor's PDF")
    # The survivor began to render once the dead worker's lease lapsed: at most a lease
    # after its last renewal, plus one look for work (the render itself takes what it takes).
    [(_, doomed_started), (survivor_pid, taken_over)] = cluster.renders_started()
    assert survivor_pid == survivor.pid
    assert taken_over - killed_at <= LEASE_SECONDS + POLL_SECONDS + SLACK_SECONDS, (
        taken_over - killed_at)
    [record_id] = cluster.record_ids("Killed Render")
    assert [version for version, _ in cluster.pdf_versions(record_id)] == [1]


def test_records_rerender_takes_over_a_dead_workers_job_and_exits_0(fresh):
    cluster = fresh
    doomed = cluster.start_worker(render_delay=60)
    _signed(cluster, "Rerendered Patient")
    cluster.wait_for(lambda: cluster.renders_started(doomed.pid), 30, "the doomed render")
    cluster.kill(doomed)
    killed_at = time.time()

    result = cluster.flask("records", "rerender", timeout=LEASE_SECONDS + 60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stored 1 PDF(s)" in result.stdout and "0 still not rendered" in result.stdout
    # It waited for the lease to lapse (it was started before), then rendered at once.
    [(_, _), (_, taken_over)] = cluster.renders_started()
    assert LEASE_SECONDS - 1 <= taken_over - killed_at
    assert cluster.records_without_pdf() == []


def test_a_gunicorn_worker_killed_after_the_commit_loses_nothing_and_duplicates_nothing(fresh):
    cluster = fresh
    tablet = Tablet(cluster.port)
    tablet.to_signature("Killed After Commit")
    form = tablet.sign_form("Killed After Commit")
    with pytest.raises(Lost):
        tablet.sign("Killed After Commit", chaos="kill-after-commit", form=form)
    assert len(cluster.record_ids("Killed After Commit")) == 1  # committed, then killed
    assert cluster.scalar("SELECT count(*) FROM patient_drafts") == 0  # no answers linger

    again = tablet.sign("Killed After Commit", form=form)  # the patient taps Sign again
    assert again.status == 200 and again.landed_on == "/finished", again.status
    assert SAVED in again.text and copy_code(again.text)
    assert len(cluster.record_ids("Killed After Commit")) == 1
    assert all(answer.status < 500 for answer in tablet.answers)


def test_a_gunicorn_worker_killed_before_answering_leaves_the_finish_page_next(fresh):
    cluster = fresh
    tablet = Tablet(cluster.port)
    tablet.to_signature("Killed Before Answer")
    form = tablet.sign_form("Killed Before Answer")
    with pytest.raises(Lost):
        tablet.sign("Killed Before Answer", chaos="kill-before-answer", form=form)

    # The tablet never heard back; its next request learns that the form was saved.
    page = tablet.get("/")
    assert page.status == 200 and SAVED in page.text
    again = tablet.sign("Killed Before Answer", form=form)  # or it taps Sign again
    assert again.status == 200 and "Signature" not in again.text
    assert len(cluster.record_ids("Killed Before Answer")) == 1
    assert all(answer.status < 500 for answer in tablet.answers)


def _staff_tablet(cluster, auth, role: str, email: str) -> Tablet:
    auth.create(email=email, role=role)
    staff = Tablet(cluster.port)
    staff.get("/staff/login")
    answer = staff.post("/staff/login", {"email": email, "password": STAFF_PASSWORD})
    assert answer.status == 200 and "/staff/login" not in answer.landed_on
    return staff


def _decide(staff: Tablet, record_id: str, action: str, data: dict) -> None:
    staff.get(f"/staff/records/{record_id}")
    answer = staff.post(f"/staff/records/{record_id}/{action}", data)
    assert answer.status == 200, (action, answer.status)


def test_three_decisions_in_a_second_leave_a_newest_pdf_that_shows_all_three(fresh, auth):
    cluster = fresh
    for worker in [cluster.start_worker() for _ in range(2)]:  # renders in two processes
        cluster.wait_ready(worker)
    _signed(cluster, "Three Decisions", "diabetes", photos=("clinical",))
    [record_id] = cluster.record_ids("Three Decisions")
    cluster.wait_for(lambda: cluster.latest_pdf(record_id), 60, "the first PDF")
    clinician = _staff_tablet(cluster, auth, "clinician", "dr.ruiz@example.org")

    # Three decisions one after the other, as fast as a clinician can click. The render
    # that starts first (it read the fewest events) is held until the two later ones are
    # stored by the other process: a newest version from stale events would show here.
    cluster.schedule_render_delays("gate:first-render", 0, 0)
    _decide(clinician, record_id, "review", {"decision": "approved", "note": "HbA1c fine."})
    _decide(clinician, record_id, "countersign", {"clinician_name": "Dr Ana Ruiz"})
    _decide(clinician, record_id, "photo-consent/withdraw", {"photo_consent": "clinical"})

    def jobs_left():
        return cluster.scalar("SELECT count(*) FROM render_jobs WHERE record_id = :id "
                              "AND status <> 'done'", id=record_id)

    cluster.wait_for(lambda: jobs_left() == 1 and len(cluster.renders_started()) == 4, 60,
                     "the two later renders stored, the first one still held")
    cluster.open_gate("first-render")
    cluster.wait_for(lambda: jobs_left() == 0, 60, "the first render done")
    [(_, _), (held_pid, _), *later] = cluster.renders_started()
    assert held_pid not in {pid for pid, _ in later}  # the later ones: the other process
    versions = cluster.pdf_versions(record_id)
    throughs = [through for _, through in versions]
    assert [v for v, _ in versions] == list(range(1, len(versions) + 1))
    assert throughs == sorted(throughs) and len(set(throughs)) == len(throughs), versions
    version, content = cluster.latest_pdf(record_id)
    text = pdf_text(content)
    assert "Approved for treatment by a clinician" in text
    assert "Countersigned by a clinician" in text and "Dr Ana Ruiz" in text
    assert "Photo consent withdrawn" in text


@pytest.fixture
def postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("terminating connections is a PostgreSQL matter (SQLite has none)")


def _terminate_app_connections(cluster) -> int:
    return terminate_connections(cluster.database_url, f"{APPLICATION_NAME_PREFIX}%")


def _app_error_page(answer) -> bool:
    """The app's own "please try again" page, never gunicorn's bare one."""
    return answer.status == 503 and "Please try again" in answer.text


def test_terminated_connections_give_no_5xx_and_no_duplicate(postgresql, fresh):
    cluster = fresh
    tablet = Tablet(cluster.port)
    tablet.start()
    assert _terminate_app_connections(cluster) >= 1  # the pools' idle connections
    tablet.to_signature("Dropped Connection")  # every page still answers

    # A connection lost in the middle of a request, before it committed anything: retried.
    answer = tablet.post("/step/esign", {"agree": "y"}, chaos="drop-connection")
    assert answer.status == 200 and answer.landed_on == "/step/sign", answer.status
    assert Tablet(cluster.port).get("/staff/login", chaos="drop-connection").status == 200

    # Lost as the signature commits: it may or may not be stored, so it is not replayed;
    # the app's own page asks to try again, and the next tap finds the form saved (or,
    # as here, where the commit failed, saves it once).
    form = tablet.sign_form("Dropped Connection")
    answer = tablet.sign("Dropped Connection", chaos="drop-connection-at-commit", form=form)
    assert _app_error_page(answer), (answer.status, answer.text[:300])
    assert cluster.record_ids("Dropped Connection") == []
    again = tablet.sign("Dropped Connection", form=form)
    assert again.status == 200 and SAVED in again.text
    assert len(cluster.record_ids("Dropped Connection")) == 1
    assert all(answer.status < 500 or _app_error_page(answer) for answer in tablet.answers)
