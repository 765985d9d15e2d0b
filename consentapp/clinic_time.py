"""The clinic's own time: the one place that turns the database's naive UTC into the clinic's
time zone (CLINIC_TIMEZONE) and back.

The database stores every moment as naive UTC. People read them in the clinic's zone: a
birthday starts at the clinic's midnight, a search for "9 April" means the clinic's 9 April,
and a PDF shows the clinic's time with the exact UTC beside it where they differ.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import Flask, current_app

UTC_NAME = "UTC"


def zone_name() -> str:
    """The app's configured clinic time zone (an IANA name, checked by settings.py)."""
    return current_app.config["CLINIC_TIMEZONE"]


def _zone(tz_name: str) -> ZoneInfo:
    return ZoneInfo(tz_name)


def as_utc(moment: datetime) -> datetime:
    """A stored naive UTC time, made aware."""
    return moment.replace(tzinfo=_zone(UTC_NAME))


def local(moment: datetime, tz_name: str) -> datetime:
    return as_utc(moment).astimezone(_zone(tz_name))


def clinic_today() -> date:
    """Today in the clinic's own time zone."""
    return datetime.now(_zone(zone_name())).date()


def utc_start_of(day: date, tz_name: str) -> datetime:
    """Midnight of a day in the clinic's time zone, as the naive UTC the database stores."""
    start = datetime.combine(day, time.min, tzinfo=_zone(tz_name))
    return start.astimezone(_zone(UTC_NAME)).replace(tzinfo=None)


def local_text(moment: datetime, tz_name: str, with_seconds: bool = False) -> str:
    """"2026-04-09 14:32 BST": with the zone's abbreviation, so daylight saving is visible."""
    return local(moment, tz_name).strftime(
        "%Y-%m-%d %H:%M:%S %Z" if with_seconds else "%Y-%m-%d %H:%M %Z"
    )


def clinic_time(moment: datetime | None, with_seconds: bool = False) -> str:
    """A stored (naive UTC) time in the app's clinic time zone; "" for none."""
    if moment is None:
        return ""
    return local_text(moment, zone_name(), with_seconds)


def utc_text(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def when(moment: datetime | None, tz_name: str) -> dict | None:
    """A time for a document: {"utc", "local"}; the clinic's own time first, and "local" is
    the UTC text itself when the clinic keeps UTC."""
    if moment is None:
        return None
    formatted = {"utc": utc_text(moment)}
    formatted["local"] = (
        formatted["utc"] if tz_name == UTC_NAME
        else local(moment, tz_name).strftime(f"%Y-%m-%d %H:%M {tz_name}")
    )
    return formatted


def in_language(moment: datetime | None, tz_name: str, language: str) -> dict | None:
    """A time as the patient reads it ("9 de abril de 2026, 14:32"), in the clinic's zone,
    with the exact UTC time beside it for staff (as `when`)."""
    if moment is None:
        return None
    moment_local = local(moment, tz_name)
    return {
        "local": f"{format_date(moment_local, 'long', locale=language)}, "
                 f"{format_time(moment_local, 'short', locale=language)} ({tz_name})",
        "utc": utc_text(moment),
        "in_utc": tz_name == UTC_NAME,
    }


def _clinic_time_filter(moment, with_seconds=False):
    if isinstance(moment, str):  # a time stored in a JSON column, as ISO 8601 naive UTC
        moment = datetime.fromisoformat(moment)
    return clinic_time(moment, with_seconds)


def init_app(app: Flask) -> None:
    # A Jinja filter belongs to the whole app (Jinja has no per-blueprint filters); it is a
    # formatting function, safe for any page, and only the staff pages use it today.
    app.add_template_filter(_clinic_time_filter, "clinic_time")
