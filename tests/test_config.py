"""Configuration from the environment; production refuses defaults."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("given,expected", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_url_forms(given, expected):
    assert normalise_database_url(given) == expected


def production_env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAID_", "DATABASE_", "REDIS_"))}
    env.update({
        "HOSTADMIN_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/x",
        "REDIS_URL": "redis://127.0.0.1:6379/0", "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PLAID_CLIENT_ID": "client", "PLAID_SECRET": "secret", "PLAID_ENV": "sandbox",
        "PUBLIC_BASE_URL": "https://admin.example.org",
    })
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def start(env):
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_production_starts_with_every_secret_set():
    result = start(production_env())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("overrides,message", [
    ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    ({"ENCRYPTION_KEY": "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMDAwMDAwMDA="}, "ENCRYPTION_KEY is still the development default"),
    ({"PLAID_SECRET": None}, "PLAID_SECRET is not set"),
    ({"PLAID_ENV": "local"}, "PLAID_ENV is 'local'"),
    ({"DATABASE_URL": "sqlite:////tmp/hostadmin.sqlite3"}, "DATABASE_URL is SQLite (use PostgreSQL)"),
    ({"PAYPAL_CERT_SCHEMES": "https,http"}, "PAYPAL_CERT_SCHEMES is not https"),  # the `make run` demo setting
])
def test_production_refuses_missing_or_default_secrets(overrides, message):
    result = start(production_env(**overrides))
    assert result.returncode != 0
    assert message in result.stderr.strip().splitlines()[-1]
