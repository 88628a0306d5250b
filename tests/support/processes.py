"""Running the app's own commands (`flask …`) in real subprocesses against the test's database."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def flask_env(app, tmp_path, **extra):
    """Environment for a subprocess that uses the same database, Redis and Plaid as `app`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAID_", "TEST_"))}
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "PLAID_ENV": "local",
        "PLAID_HOST": app.config["PLAID_HOST"],
        "HOSTADMIN_INSTANCE_DIR": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update({key: str(value) for key, value in extra.items()})
    return env


def flask_command(*args):
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def start_flask(env, *args, **popen):
    """Start `flask --app wsgi <args>`; returns the Popen (`popen`: more Popen arguments)."""
    return subprocess.Popen(flask_command(*args), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **popen)


def run_flask(env, *args, timeout=120):
    """Run `flask --app wsgi <args>` to completion; returns the CompletedProcess."""
    return subprocess.run(flask_command(*args), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
