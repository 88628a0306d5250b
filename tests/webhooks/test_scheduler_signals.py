"""The scheduler stops on SIGTERM even when the signal lands inside a log call (RQ's handler alone loses it)."""
import logging
import os
import signal
import time

import pytest
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from hostadmin.webhooks.cli import stoppable


class SignalWhileFormatting(logging.Formatter):
    """Sends SIGTERM to this process from inside logging, as a signal arriving mid-log would."""

    def format(self, record):
        os.kill(os.getpid(), signal.SIGTERM)
        return super().format(record)


def test_sigterm_arriving_inside_a_log_call_still_stops_the_scheduler(app):
    from hostadmin.extensions import queues
    scheduler = stoppable(CronScheduler)(connection=queues.connection)
    handler = logging.StreamHandler()
    handler.setFormatter(SignalWhileFormatting())
    logger = logging.getLogger("test.scheduler.signals")
    logger.addHandler(handler)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGALRM)
    try:
        scheduler._install_signal_handlers()
        with pytest.raises(StopRequested):
            logger.warning("a line logged while the signal arrives")  # logging swallows what is raised here
            time.sleep(2)  # the re-delivered signal ends this sleep
    finally:
        logger.removeHandler(handler)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGALRM, previous[1])
