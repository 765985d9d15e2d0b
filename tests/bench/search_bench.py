"""Dashboard search time on many records, on SQLite or PostgreSQL.

Generates N records with bulk inserts into a temporary SQLite database, or with COPY into a
PostgreSQL database of its own (schema from the real migrations, rows shaped like real ones:
answers, a drawn signature), signs a clinician in, and times GET /staff/ through the Flask
test client for a set of searches: the whole request, so queries, the status counts, the
review queue and the template are all in the figure.

    .venv/bin/python -m tests.bench.search_bench                # 100,000 records, SQLite
    .venv/bin/python -m tests.bench.search_bench --records 5000 --repeat 5
    .venv/bin/python -m tests.bench.search_bench --records 1000000 \
        --database postgresql://postgres@127.0.0.1:5432/bench_search   # created, then dropped

Prints a table, then one JSON line with p50/p95 in milliseconds. Not part of the test suite
(tests/test_search_bench.py runs it on a few hundred records to keep it working).
"""

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

FIRST_NAMES = [
    "María", "José", "Zoë", "Søren", "Łukasz", "Chloé", "Ana", "Maria", "Mariana", "Jürgen",
    "Françoise", "Noémie", "Ingrid", "Grace", "Olusegun", "Aoife", "Siobhán", "Mei", "Priya",
    "Ahmed", "Fatima", "Émile", "Björn", "Agnieszka", "Tomás", "Lucía", "Renée", "Dvořák",
    "Kateřina", "Ömer", "Ayşe", "Nguyễn", "Hélène", "Paul", "John", "Sarah", "Emma", "Liam",
]
SURNAMES = [
    "Núñez", "O'Brien", "García", "Müller", "Øvergård", "Kowalski", "López", "Smith", "Jones",
    "Fernández", "Ruiz", "Martín", "Dubois", "Lefèvre", "Novák", "Wiśniewski", "Yılmaz",
    "Okafor", "Ní Bhriain", "Schröder", "Åkesson", "Ibáñez", "Gonçalves", "Brontë", "Čapek",
    "Taylor", "Brown", "Wilson", "Nakamura", "Patel", "Singh", "Kim", "Tran", "Rossi",
]
SCENARIOS = [
    ("newest first", {}),
    ("name, partial", {"q": "mar"}),
    ("name, accented", {"q": "núñez"}),
    ("name, folded", {"q": "NUNEZ"}),
    ("name, two words", {"q": "maria garc"}),
    ("name, no match", {"q": "zzyzx"}),
    ("date of birth", {"dob": "1971-04-09"}),
    ("date range", {"date_from": "2025-03-01", "date_to": "2025-03-31"}),
    ("needs review", {"status": "needs_review"}),
    ("signed, by name", {"procedure": "microneedling", "status": "signed", "sort": "name"}),
    ("name + status", {"q": "ana", "status": "needs_review"}),
    ("name + birth date", {"q": "lop", "dob": "1971-04-09"}),
    ("short name", {"q": "li"}),
    ("oldest first", {"sort": "oldest"}),
    ("name, z to a", {"sort": "name_desc"}),
    ("by birth date", {"sort": "dob"}),
    ("procedure", {"procedure": "microneedling"}),
    ("deep page", {"page": "1000"}),
    ("deep page, by name", {"sort": "name", "page": "500"}),
    ("deep page, needs review", {"status": "needs_review", "page": "300"}),
]
OUTCOMES = [("eligible", "signed")] * 7 + [("needs_review", "needs_review")] * 2 + [
    ("not_eligible", "not_eligible")
]


def generate_people(count: int, seed: int = 7) -> list[tuple[str, date]]:
    rng = random.Random(seed)
    people = []
    for _ in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if rng.random() < 0.3:
            name = f"{rng.choice(FIRST_NAMES)} {name}"
        dob = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        people.append((name, dob))
    return people


def _rows(people, sha256: str, seed: int = 11):
    from consentapp.records.search import search_key

    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 8)
    # A short stroke: the search never reads the signature, and a million long ones only
    # make the database slower to fill.
    stroke = [[40 + i * 60, 110 + (40 if i % 2 else -40)] for i in range(10)]
    answers = {f"question_{n}": "no" for n in range(14)} | {
        "goals": "Smoother skin on my cheeks and fewer acne scars", "areas": ["face"],
    }
    for index, (name, dob) in enumerate(people):
        outcome, status = rng.choice(OUTCOMES)
        when = start + timedelta(minutes=index * 9 + rng.randrange(9))
        signed = outcome != "not_eligible"
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        yield {
            "id": record_id, "submission_key": f"bench-{index}", "procedure_slug": "microneedling",
            "procedure_title": "Microneedling", "definition_version": "1.0.0",
            "definition_sha256": sha256, "language": "en", "patient_name": name,
            "patient_name_search": search_key(name), "patient_dob": dob,
            "patient_contact": None, "answers": answers, "outcome": outcome,
            "outcome_reasons": [], "acknowledged_risks": ["bruising"] if signed else [],
            "accepted_statements": ["consent"] if signed else [], "signer_name": name if signed
            else None, "signature": {"width": 700, "height": 220, "strokes": [stroke]}
            if signed else None, "signed_at": when if signed else None, "completed_at": when,
            "user_agent": "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)",
        }, {
            "record_id": record_id, "status": status, "patient_name_search": search_key(name),
            "patient_dob": dob, "procedure_slug": "microneedling", "completed_at": when,
            "updated_at": when,
        }


def build(app, count: int) -> float:
    """Fill the database; returns the seconds it took."""
    from consentapp.extensions import db
    from consentapp.models import StaffUser
    from consentapp.procedures import catalog
    from consentapp.staff.passwords import hash_password

    started = time.perf_counter()
    with app.app_context():
        item = catalog.available()[("microneedling", "en")]
        catalog.snapshot(item)
        db.session.add(StaffUser(email="bench@example.org", role="clinician",
                                 password_hash=hash_password("bench password 1")))
        db.session.commit()
        rows = _rows(generate_people(count), item.sha256)
        if db.engine.dialect.name == "postgresql":
            _copy_into_postgresql(rows)
        else:
            _insert_into_sqlite(rows)
    return time.perf_counter() - started


def _insert_into_sqlite(rows) -> None:
    from sqlalchemy import insert

    from consentapp.extensions import db
    from consentapp.models import ConsentRecord, RecordListing

    # The plain indexes are built once at the end, as on PostgreSQL (the same answers, and
    # a million rows in a minute rather than many).
    indexes = db.session.execute(db.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('consent_records', 'record_listings')"
    )).all()
    for name, _ in indexes:
        db.session.execute(db.text(f'DROP INDEX "{name}"'))
    records, listings = [], []
    for record, listing in rows:
        records.append(record)
        listings.append(listing)
        if len(records) == 5000:
            db.session.execute(insert(ConsentRecord), records)
            db.session.execute(insert(RecordListing), listings)
            records, listings = [], []
    if records:
        db.session.execute(insert(ConsentRecord), records)
        db.session.execute(insert(RecordListing), listings)
    for _, definition in indexes:
        db.session.execute(db.text(definition))
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def _copy_into_postgresql(rows) -> None:
    """COPY, with the tables' plain indexes dropped first and built once at the end (what
    pg_restore does): a million rows in a minute or two rather than many."""
    from consentapp.extensions import db
    from consentapp.models import ConsentRecord, RecordListing

    tables = {model.__tablename__: model for model in (ConsentRecord, RecordListing)}
    json_columns = {
        column.name for model in tables.values() for column in model.__table__.columns
        if column.type.__class__.__name__ == "JSON"
    }
    engine = db.engine
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = ANY(%s)"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)", (list(tables),)
        )
        indexes = cursor.fetchall()
        for _, name in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        first_record, first_listing = next(rows)
        columns = {"consent_records": list(first_record), "record_listings": list(first_listing)}

        def values(row: dict, names: list[str]) -> tuple:
            return tuple(json.dumps(row[name]) if name in json_columns and row[name] is not None
                         else row[name] for name in names)

        with cursor.copy(
            f"COPY consent_records ({', '.join(columns['consent_records'])}) FROM STDIN"
        ) as copy:
            copy.write_row(values(first_record, columns["consent_records"]))
            listings = [values(first_listing, columns["record_listings"])]
            for record, listing in rows:
                copy.write_row(values(record, columns["consent_records"]))
                listings.append(values(listing, columns["record_listings"]))
        with cursor.copy(
            f"COPY record_listings ({', '.join(columns['record_listings'])}) FROM STDIN"
        ) as copy:
            for listing in listings:
                copy.write_row(listing)
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for definition, _ in indexes:
            cursor.execute(definition)
        raw.commit()
        # VACUUM marks the pages all-visible, which lets the covering indexes answer alone
        # (index-only scans), as autovacuum would soon after a real clinic's inserts.
        raw.driver_connection.autocommit = True
        cursor.execute("VACUUM ANALYZE consent_records")
        cursor.execute("VACUUM ANALYZE record_listings")
    finally:
        raw.close()


def _sign_in(client) -> None:
    import re

    page = client.get("/staff/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post("/staff/login", data={
        "email": "bench@example.org", "password": "bench password 1", "csrf_token": token,
    })
    assert response.status_code == 302, "the benchmark clinician could not sign in"


def _results_address(client, args: dict) -> str:
    """Where the dashboard shows this search: a name, birth date or date is kept on the
    server and the address holds its id (an address with them in it moves there)."""
    from urllib.parse import urlencode

    response = client.get("/staff/", query_string=args)
    if response.status_code == 302:
        return response.headers["Location"]
    assert response.status_code == 200
    return "/staff/?" + urlencode(args)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(share * (len(ordered) - 1))), len(ordered) - 1)]


def measure(app, repeat: int) -> tuple[dict, list[float]]:
    """Time each search `repeat` times as a signed-in clinician (after build())."""
    import re

    client = app.test_client()
    _sign_in(client)
    results, every = {}, []
    for name, args in SCENARIOS:
        address = _results_address(client, args)
        client.get(address)  # warm the caches once
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(address)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        total = re.search(r'role="status">(More than )?([\d,]+) records?', response.text)
        results[name] = {
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(_percentile(timings, 0.95), 1),
            "max_ms": round(max(timings), 1),
            "found": int(total.group(2).replace(",", "")) if total else 0,
            # "More than" found: the dashboard counts no further (records/search.py).
            "more": bool(total and total.group(1)),
        }
        every += timings
    return results, every


def run(count: int, repeat: int, database: str | None = None) -> dict:
    """`database`: the address of an empty database to fill (default: a SQLite file)."""
    from consentapp import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
            "PDF_RENDER_MODE": "worker",
        })
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        build_seconds = build(app, count)
        results, every = measure(app, repeat)
        with app.app_context():
            from consentapp.extensions import db

            db.engine.dispose()
    return {
        "records": count, "database": "postgresql" if database and database.startswith(
            "postgresql") else "sqlite",
        "requests": len(every), "build_s": round(build_seconds, 1),
        "p50_ms": round(statistics.median(every), 1),
        "p95_ms": round(_percentile(every, 0.95), 1),
        "scenarios": results,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per search")
    parser.add_argument("--database", metavar="URL",
                        help="postgresql://... naming a database to create (and drop)")
    args = parser.parse_args(argv)
    from tests.bench.databases import postgresql_url, scratch

    server = postgresql_url(args.database) if args.database else None
    with tempfile.TemporaryDirectory() as folder, scratch(server, "main", Path(folder)) as url:
        result = run(args.records, args.repeat, url if server else None)
    print(f"{args.records:,} records on {result['database']} (built in {result['build_s']} s), "
          f"{args.repeat} requests per search, times in ms for the whole GET /staff/")
    print(f"{'search':<24} {'p50':>8} {'p95':>8} {'max':>8} {'found':>8}")
    for name, figures in result["scenarios"].items():
        found = f"{figures['found']}{'+' if figures['more'] else ''}"
        print(f"{name:<24} {figures['p50_ms']:>8} {figures['p95_ms']:>8} "
              f"{figures['max_ms']:>8} {found:>8}")
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
