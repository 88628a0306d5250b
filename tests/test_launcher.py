"""`make run`'s launcher keeps the app up: a child that stops is started again; SIGTERM stops everything."""
import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil

from tests.support.processes import ROOT
from tests.support.redis_server import Output, free_port


def children_named(launcher, word):
    return [child for child in psutil.Process(launcher.pid).children() if word in child.cmdline()]


def test_launcher_restarts_a_child_that_stopped_and_stops_everything_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PLAID_", "TEST_", "REDIS_", "DATABASE_", "HOSTADMIN_", "PUBLIC_", "PORT"))}
    env.update(PORT=str(port), PLAID_LOCAL_PORT=str(free_port()), PYTHONUNBUFFERED="1",
               HOSTADMIN_INSTANCE_DIR=str(tmp_path / "instance"))
    launcher = subprocess.Popen([sys.executable, "-m", "hostadmin.launcher"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Output(launcher)
    try:
        output.wait_for("hostadmin is running at", timeout=240)
        [scheduler] = children_named(launcher, "scheduler")

        scheduler.send_signal(signal.SIGKILL)  # as if Redis had blinked under an older scheduler

        output.wait_for("launcher: the scheduler stopped (exit -9); starting it again")
        deadline = time.monotonic() + 60
        while not [child for child in children_named(launcher, "scheduler") if child.pid != scheduler.pid]:
            assert launcher.poll() is None, str(output)
            assert time.monotonic() < deadline, str(output)
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        children = psutil.Process(launcher.pid).children()

        launcher.send_signal(signal.SIGTERM)

        assert launcher.wait(60) == 0, str(output)
        assert not psutil.wait_procs(children, timeout=30)[1]  # every child is gone with it
    finally:
        if launcher.poll() is None:
            for child in psutil.Process(launcher.pid).children(recursive=True):
                child.kill()
            launcher.kill()
