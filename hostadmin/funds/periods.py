"""Closing and reopening months; each change is audited and commits or rolls back."""
from sqlalchemy import select

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.funds import cleared
from hostadmin.funds.cleared import ClearedDateError
from hostadmin.funds.models import ClosedPeriod
from hostadmin.ledger.models import Host
from hostadmin.text import clean_text


def close_month(host, user, month, reason=None):
    """Close `month` ("YYYY-MM", host time zone): nothing can be recorded in it until it is reopened."""
    month = cleared.parse_month(month)
    reason = clean_text(reason or "", 2000).strip() or None
    stored_file = None
    try:
        # Waits for ledger writes in flight (their trigger holds the host row FOR SHARE), so no row
        # can land in the month after this closing commits.
        _lock_host(host)
        if month >= cleared.month_of(host, utcnow()):
            raise ClearedDateError(f"{cleared.month_name(month)} has not ended yet: only past months can be closed")
        if cleared.closing_in_force(host, month) is not None:
            raise ClearedDateError(f"{cleared.month_name(month)} is already closed")
        period = ClosedPeriod(host_id=host.id, month=month, reason=reason,
                              closed_by_id=_user_id(user), closed_at=utcnow())
        db.session.add(period)
        db.session.flush()
        audit.record(host, user, "period.close", period, after={"month": month}, data={"reason": reason})
        # The month's report is stored as it closes (a report that does not reconcile refuses the closing).
        from hostadmin.reports.service import store_closed_month
        stored_file = store_closed_month(host, period, user).file_name
        db.session.commit()
    except Exception:
        db.session.rollback()
        if stored_file is not None:
            from hostadmin.reports.files import remove
            remove(stored_file)
        raise
    return period


def reopen_month(host, user, month, reason):
    """Reopen a closed month; the reason is required and kept with the closing and in the audit log."""
    month = cleared.parse_month(month)
    reason = clean_text(reason or "", 2000).strip()
    if not reason:
        raise ClearedDateError("say why the month is reopened: a reason is required")
    try:
        _lock_host(host)
        period = cleared.closing_in_force(host, month)
        if period is None:
            raise ClearedDateError(f"{cleared.month_name(month)} is not closed")
        period.reopened_at, period.reopened_by_id, period.reopen_reason = utcnow(), _user_id(user), reason
        audit.record(host, user, "period.reopen", period, before={"month": month, "closed": True},
                     after={"month": month, "closed": False}, data={"reason": reason})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return period


def closed_months(host):
    """The months closed now for the host, newest first."""
    return db.session.scalars(select(ClosedPeriod.month).where(
        ClosedPeriod.host_id == host.id, ClosedPeriod.reopened_at.is_(None))
        .order_by(ClosedPeriod.month.desc())).all()


def _lock_host(host):
    db.session.scalars(select(Host.id).where(Host.id == host.id).with_for_update(key_share=True)).first()


def _user_id(user):
    return getattr(user, "id", None)
