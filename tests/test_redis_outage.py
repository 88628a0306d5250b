"""The worker and the scheduler ride out a Redis restart: they retry with backoff, say so, and carry on."""
import subprocess
import time

import pytest
from rq import Queue
from rq.job import Job

from tests.support.processes import flask_env, start_flask
from tests.support.redis_server import Output, RedisServer


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def eventually(check, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.1)


def stop(process, output):
    """SIGTERM the process; its exit code (it must stop within 60 s, however loaded the machine)."""
    process.terminate()
    try:
        return process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"still running 60 s after SIGTERM:\n{output}") from None


def test_scheduler_keeps_scheduling_after_redis_restarts(app, tmp_path, redis_server):
    env = flask_env(app, tmp_path, REDIS_URL=redis_server.url)
    scheduler = start_flask(env, "scheduler", "--interval", "1")
    output = Output(scheduler)
    safety_nets = lambda: Queue("default", connection=redis_server.client()).count  # noqa: E731
    eventually(lambda: safety_nets() >= 1, what="a first safety-net job")

    redis_server.stop()
    output.wait_for("scheduler: Redis is unavailable")
    assert scheduler.poll() is None, str(output)
    redis_server.start()  # empty: as after a crash

    eventually(lambda: safety_nets() >= 1, what="a safety-net job after the restart")
    assert "scheduler: Redis answers again" in str(output)
    assert scheduler.poll() is None, str(output)
    assert stop(scheduler, output) == 0, str(output)


def test_worker_started_before_redis_waits_for_it_and_keeps_working_after_it_restarts(app, tmp_path, redis_server):
    env = flask_env(app, tmp_path, REDIS_URL=redis_server.url)
    redis_server.stop()  # Redis comes up after the worker (a reboot, a deploy)
    worker = start_flask(env, "worker", "default")
    output = Output(worker)
    output.wait_for("worker: Redis is unavailable")
    assert worker.poll() is None, str(output)
    redis_server.start()
    first = Queue("default", connection=redis_server.client()).enqueue("os.getpid")
    eventually(lambda: first.get_status(refresh=True) == "finished", what="a job once Redis is up")
    assert "worker: Redis answers again" in str(output)

    redis_server.stop()
    time.sleep(3)  # let every part of the worker (dequeue, heartbeats, maintenance) meet the outage
    assert worker.poll() is None, str(output)
    redis_server.start()
    job = Queue("default", connection=redis_server.client()).enqueue("os.getpid")

    eventually(lambda: Job.fetch(job.id, connection=redis_server.client()).get_status() == "finished",
               what="a job after the restart")
    assert worker.poll() is None, str(output)
    assert stop(worker, output) == 0, str(output)
