"""`flask webhooks …` (URL upkeep, dispatch, prune) and `flask scheduler` (the periodic safety net)."""
import logging
import os
import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from hostadmin.webhooks import service

DEFAULT_SAFETY_NET_INTERVAL = 300


@click.group("webhooks")
def webhooks_cli():
    """Plaid webhooks: URL upkeep and the event log."""


@webhooks_cli.command("update-urls")
@click.option("--force", is_flag=True, help="Also update items whose stored URL already matches.")
@with_appcontext
def update_urls(force):
    """Point every connected item's webhook at PUBLIC_BASE_URL/webhooks/plaid (run after it changes)."""
    from hostadmin.banking.plaid_client import get_client
    from hostadmin.banking.connect import webhook_url
    from hostadmin.webhooks.upkeep import update_webhook_urls

    click.echo(f"webhook URL: {webhook_url()}")
    results = update_webhook_urls(get_client(), force=force)
    for update in results:
        click.echo(f"item {update.item.id} ({update.item.display_name}): {update.result}")
    failed = [u for u in results if u.result.startswith("failed")]
    click.echo(f"{len(results) - len(failed)} ok, {len(failed)} failed")
    if failed:
        raise SystemExit(1)


@webhooks_cli.command("refusals")
@click.option("--minutes", type=click.IntRange(1, 24 * 60), default=60, show_default=True)
@with_appcontext
def refusals(minutes):
    """Refused webhook requests per minute and reason (counted in Redis; only samples are rows)."""
    import redis

    from hostadmin.webhooks import flood

    try:
        counts = flood.recent_counts(minutes)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis cannot be read: {exc}") from None
    for minute, by_reason in counts.items():
        for reason, count in sorted(by_reason.items()):
            click.echo(f"{minute:%Y-%m-%d %H:%M} UTC  {count:>7}  {reason}")
    if not counts:
        click.echo(f"no refused requests in the last {minutes} minutes")


@webhooks_cli.command("safety-net")
@with_appcontext
def safety_net():
    """Run the periodic job once, here: dispatch waiting events, sync quiet items, prune old events."""
    click.echo(service.run_safety_net())


@click.command("scheduler")
@click.option("--interval", type=int, default=None, help="Seconds between safety-net runs.")
@with_appcontext
def scheduler_command(interval):
    """Run RQ's cron scheduler: the webhook safety net (default queue) and report file expiry (hourly, reports
    queue). Run exactly one."""
    from rq.cron import CronScheduler

    from hostadmin.extensions import queues
    from hostadmin.queueing import run_with_redis_retry
    from hostadmin.reports.jobs import expire_files
    from hostadmin.webhooks.jobs import safety_net_job

    every = interval or current_app.config.get("SAFETY_NET_INTERVAL_SECONDS", DEFAULT_SAFETY_NET_INTERVAL)
    click.echo(f"scheduler: webhook safety net every {every} s on queue 'default'")

    def schedule():
        scheduler = stoppable(CronScheduler)(connection=queues.connection)
        scheduler.register(safety_net_job, "default", interval=every, job_timeout=1800)
        scheduler.register(expire_files, "reports", interval=3600, job_timeout=600)
        scheduler.start()  # returns only when asked to stop; raises when Redis fails
        return True

    run_with_redis_retry("scheduler", queues.connection, schedule)


def stoppable(scheduler_class):
    """`scheduler_class` whose SIGTERM/SIGINT is never lost inside a log call.

    RQ's handler raises StopRequested wherever the signal lands; when that is inside the logging module,
    logging swallows the exception ("--- Logging error ---") and the scheduler runs on. Here a signal that
    lands in logging is re-delivered a moment later, outside it.
    """
    from rq.exceptions import StopRequested

    class Stoppable(scheduler_class):
        def _request_stop(self, signum, frame):
            if _inside_logging(frame):
                signal.signal(signal.SIGALRM, self._request_stop)
                signal.setitimer(signal.ITIMER_REAL, 0.05)
                return
            self.log.info("CronScheduler %s: received shutdown signal %s", self.name, signum)
            raise StopRequested()

    return Stoppable


def _inside_logging(frame):
    while frame is not None:
        if frame.f_code.co_filename.startswith(LOGGING_DIR):
            return True
        frame = frame.f_back
    return False


LOGGING_DIR = os.path.dirname(logging.__file__)
