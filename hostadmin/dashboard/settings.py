"""A host's settings: its time zone (the months, dates and report periods are in it)."""
from zoneinfo import available_timezones

from sqlalchemy import exists, select, update

from hostadmin.audit import service as audit
from hostadmin.extensions import db
from hostadmin.funds.models import ClosedPeriod
from hostadmin.ledger.models import Host


class SettingsError(ValueError):
    """A refused change; `field` names the form field at fault."""

    def __init__(self, message, field="timezone"):
        super().__init__(message)
        self.field = field


def time_zones():
    """Every IANA zone name, sorted (UTC first)."""
    return ["UTC", *sorted(zone for zone in available_timezones() if zone != "UTC")]


def set_timezone(host, user, zone):
    """Change the host's time zone, audited; refused while a month is closed.

    A month in force would otherwise change under its stored report: rows near its edges would move in or out
    of it. The lock orders this with closings and ledger writes (their trigger holds the host row FOR SHARE);
    the conditional UPDATE decides on SQLite, which has no FOR UPDATE.
    """
    if zone not in available_timezones():
        raise SettingsError("Choose a time zone from the list (an IANA name such as Europe/Berlin).")
    before = host.timezone
    if zone == before:
        raise SettingsError(f"The time zone is already {zone}: nothing to change.")
    try:
        db.session.scalars(select(Host.id).where(Host.id == host.id).with_for_update(key_share=True)).first()
        changed = db.session.execute(
            update(Host).where(Host.id == host.id, ~exists().where(ClosedPeriod.host_id == host.id,
                                                                    ClosedPeriod.reopened_at.is_(None)))
            .values(timezone=zone).execution_options(synchronize_session=False)).rowcount
        if not changed:
            raise SettingsError("A month is closed: its rows would move with the time zone. Reopen the "
                                "closed months first (Reports), then change it and close them again.")
        audit.record(host, user, "host.timezone", host, before={"timezone": before},
                     after={"timezone": zone})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(host)
    return host
