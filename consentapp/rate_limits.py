"""Rate limits that every process shares, and sign-in attempts held while a password is checked.

Flask-Limiter keeps its counters where RATELIMIT_STORAGE_URI says. Its `memory://` store
lives in each process, so gunicorn's five workers each allowed their own five failed
sign-ins per account (23 got through, not 5) and a locked account still signed in on a worker
that had not counted the failures. The default here is therefore `database://`: the
`rate_limit_windows` table in the app's own database, SQLite or PostgreSQL, shared by every
worker and every app server that uses that database, with nothing else to install. `limits`
has no SQL store, so DatabaseStorage below is one: a `limits.storage.Storage` with
`MovingWindowSupport`, registered under the `database` scheme. `redis://...` (limits' own
RedisStorage) when RATELIMIT_STORAGE_URI says so, for a chain of clinics with its Redis.

Each key is one row: its moving window is the list of the entries' times, newest first and
never longer than the limit (what limits' Redis store keeps in a list). Taking an entry
first writes the row (an upsert that changes nothing), which takes the row's lock on
PostgreSQL and the database's write lock on SQLite; so two workers can never both see
room for the last entry, with no lock of our own to forget.

A sign-in must be counted before its password is checked, or eight guesses sent at once
all pass the "fewer than five failures so far?" test before any of them fails (Flask-
Limiter's deduct_when tests first and counts after the response). So `reserve()` takes an
entry from each limit up front, atomically, and a sign-in that succeeds gives its entries
back: exactly five failures per account and thirty per address, however many are in flight.
"""

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, MovingWindowSupport, RedisStorage, Storage
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, limiter
from .models import RateLimitWindow
from .settings import REFUNDABLE_SCHEMES

DATABASE_SCHEME = "database"


class DatabaseStorage(Storage, MovingWindowSupport):
    """The `limits` store on the app's own database (`RATELIMIT_STORAGE_URI=database://`).

    It runs on a connection of its own, never the request's session, so a limit is
    committed on the spot and a view's own transaction is left as it was. The engine is the
    current app's, found when it is needed (Flask-Limiter calls inside a request).
    """

    STORAGE_SCHEME = [DATABASE_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    # -- the moving window (RATELIMIT_STRATEGY = "moving-window", the app's default) ---------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with db.engine.begin() as connection:
            entries = self._lock(connection, key, now)
            live = [at for at in entries if at > now - expiry]
            if len(live) + amount > limit:
                return False
            self._store(connection, key, ([now] * amount + live)[:limit], now + expiry)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with db.engine.connect() as connection:
            row = connection.execute(
                select(RateLimitWindow.entries).where(RateLimitWindow.key == key)
            ).scalar()
        live = [at for at in json.loads(row or "[]") if at > now - expiry][:limit]
        return (live[-1], len(live)) if live else (now, 0)

    def release_entry(self, key: str) -> None:
        """Give back the newest entry (a sign-in that succeeded is not a failure)."""
        with db.engine.begin() as connection:
            entries = self._lock(connection, key, time.time())
            if entries:
                connection.execute(
                    update(RateLimitWindow).where(RateLimitWindow.key == key)
                    .values(entries=json.dumps(entries[1:]))
                )

    # -- the fixed window, and what every store must answer ----------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with db.engine.begin() as connection:
            self._lock(connection, key, now)
            row = connection.execute(
                select(RateLimitWindow.counter, RateLimitWindow.expires_at)
                .where(RateLimitWindow.key == key)
            ).one()
            counter, expires_at = (row.counter, row.expires_at) if row.expires_at > now else (
                0, now + expiry
            )
            connection.execute(
                update(RateLimitWindow).where(RateLimitWindow.key == key)
                .values(counter=counter + amount, expires_at=expires_at)
            )
            return counter + amount

    def get(self, key: str) -> int:
        with db.engine.connect() as connection:
            row = connection.execute(
                select(RateLimitWindow.counter, RateLimitWindow.expires_at)
                .where(RateLimitWindow.key == key)
            ).first()
        return row.counter if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with db.engine.connect() as connection:
            expires_at = connection.execute(
                select(RateLimitWindow.expires_at).where(RateLimitWindow.key == key)
            ).scalar()
        return expires_at if expires_at is not None else time.time()

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(select(func.count()).select_from(RateLimitWindow))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(RateLimitWindow)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(RateLimitWindow).where(RateLimitWindow.key == key))

    # -- rows ---------------------------------------------------------------------------------

    @staticmethod
    def _lock(connection, key: str, now: float) -> list[float]:
        """Write the key's row (creating it), which locks it until commit; its entries.

        Rows whose every entry has expired go in the same transaction, so the table holds
        only the keys of the last window.
        """
        connection.execute(delete(RateLimitWindow).where(RateLimitWindow.expires_at < now))
        table = RateLimitWindow.__table__
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(
            insert(table)
            .values(key=key, entries="[]", counter=0, expires_at=now)
            .on_conflict_do_update(index_elements=["key"],
                                   set_={"expires_at": table.c.expires_at})
        )
        entries = connection.execute(
            select(RateLimitWindow.entries).where(RateLimitWindow.key == key)
        ).scalar_one()
        return json.loads(entries)

    @staticmethod
    def _store(connection, key: str, entries: list[float], expires_at: float) -> None:
        connection.execute(
            update(RateLimitWindow).where(RateLimitWindow.key == key)
            .values(entries=json.dumps(entries), expires_at=expires_at)
        )


def init_app(app: Flask) -> None:
    """Called before limiter.init_app, which finds DatabaseStorage by its scheme (limits
    registers a Storage subclass under its STORAGE_SCHEME when the class is defined)."""
    scheme = str(app.config["RATELIMIT_STORAGE_URI"]).split("://", 1)[0]
    if scheme not in REFUNDABLE_SCHEMES:  # the settings refuse these first; a second look
        raise RuntimeError(f"sign-in limits cannot give entries back to {scheme}://")


def _give_back(storage: Storage, key: str) -> None:
    """Return the newest entry of a moving window to whichever store holds it."""
    if isinstance(storage, DatabaseStorage):
        storage.release_entry(key)
    elif isinstance(storage, RedisStorage):
        # limits' moving window in Redis is a list of the entries' times, newest first
        # (LPUSH, then LTRIM to the limit): dropping the head gives one back.
        storage.get_connection().lpop(storage.prefixed_key(key))
    elif isinstance(storage, MemoryStorage):
        with storage.locks[key]:
            if storage.events.get(key):
                storage.events[key].pop(0)
    else:  # refused at start-up (settings), so this is a programming error
        raise TypeError(f"cannot give entries back to {type(storage).__name__}")


@dataclass
class Reservation:
    """Entries taken in every limit of an attempt, or the first limit that had no room."""

    refused: str | None = None  # the name of the limit that was full
    _held: list[tuple[RateLimitItem, str]] = field(default_factory=list)

    def give_back(self) -> None:
        """The attempt does not count (it succeeded): return every entry it took."""
        for item, key in self._held:
            _give_back(limiter.storage, item.key_for(key))
        self._held.clear()


def reserve(limits: Iterable[tuple[str, str, str]]) -> Reservation:
    """Take one entry in each (name, limit text, key); all of them or none.

    The first limit without room is named in `refused`, and the entries already taken for
    this attempt are given back: an attempt that was not made costs nothing.
    """
    reservation = Reservation()
    if not limiter.enabled:
        return reservation
    strategy = limiter.limiter
    for name, limit_text, key in limits:
        item = parse(limit_text)
        if not strategy.hit(item, key):
            reservation.give_back()
            reservation.refused = name
            return reservation
        reservation._held.append((item, key))
    return reservation
