"""hostadmin: a server-rendered admin for a fiscal host."""
import logging
import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import INSTANCE_DIR, config_from_environment

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None, overrides=None):
    """Build the app from a config class (default: the environment's) plus a dict of overrides."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(INSTANCE_DIR),
    )
    config = config or config_from_environment()
    config.validate()
    app.config.from_object(config)
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        # The client's address and scheme come from the X-Forwarded-For/-Proto headers that this
        # many proxies add; X-Forwarded-Host is not trusted (a proxy may pass a client's through).
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_cli(app)
    register_template_helpers(app)
    return app


def register_extensions(app):
    from hostadmin.extensions import csrf, db, htmx, limiter, login_manager, migrate, queues
    from hostadmin.queueing import limits_storage_uri
    from hostadmin.ledger import guards  # noqa: F401  (installs the immutability guard)
    from hostadmin import models  # noqa: F401  (every model, for Alembic and relationships)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    queues.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", limits_storage_uri(app.config.get("REDIS_URL")))
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    from hostadmin.auth.sessions import load_user
    login_manager.user_loader(load_user)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, record):
    """WAL and a busy timeout let the web server and workers share one SQLite file."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def register_blueprints(app):
    from hostadmin import params
    params.install(app)  # before any rule is added: rules bind their converters when added
    from hostadmin.auth.routes import bp as auth_bp
    from hostadmin.auth.sessions import expire_idle_session
    from hostadmin.banking.oauth import bp as plaid_oauth_bp
    from hostadmin.banking.routes import bp as banking_bp
    from hostadmin.dashboard.routes import bp as dashboard_bp, root as root_bp
    from hostadmin.funds.routes import bp as funds_bp
    from hostadmin.imports.routes import bp as imports_bp
    from hostadmin.ledger.routes import bp as ledger_bp
    from hostadmin.reports.routes import bp as reports_bp
    from hostadmin.web import require_login
    from hostadmin.webhooks.routes import admin as webhook_log_bp, bp as webhooks_bp

    app.before_request(expire_idle_session)  # first: the login wall then sees no user
    app.before_request(require_login)
    for bp in (auth_bp, root_bp, dashboard_bp, banking_bp, plaid_oauth_bp, webhooks_bp, webhook_log_bp,
               imports_bp, funds_bp, reports_bp):
        app.register_blueprint(bp)
    from hostadmin.funds.contribution_routes import bp as contributions_bp
    from hostadmin.funds.expense_routes import bp as expenses_bp
    for bp in (contributions_bp, expenses_bp):
        app.register_blueprint(bp)
    app.register_blueprint(ledger_bp)
    from hostadmin.processors.routes import bp as processor_webhooks_bp
    app.register_blueprint(processor_webhooks_bp)
    from hostadmin.processors.pages import bp as processors_bp
    app.register_blueprint(processors_bp)


def register_errorhandlers(app):
    from hostadmin import web

    web.install_request_ids(app)
    web.install_error_pages(app)


def register_cli(app):
    from hostadmin.auth.cli import users_cli
    from hostadmin.banking.cli import plaid_cli
    from hostadmin.demo.cli import demo_cli
    from hostadmin.imports.cli import imports_cli
    from hostadmin.jobs import worker_command
    from hostadmin.ledger.cli import hosts_cli

    from hostadmin.webhooks.cli import scheduler_command, webhooks_cli

    for command in (hosts_cli, users_cli, demo_cli, worker_command, plaid_cli, imports_cli):
        app.cli.add_command(command)
    for command in (webhooks_cli, scheduler_command):
        app.cli.add_command(command)
    from hostadmin.funds.cli import COMMANDS as funds_commands
    from hostadmin.reports.cli import reports_cli  # also adds `ledger export`
    for command in (*funds_commands, reports_cli):
        app.cli.add_command(command)
    from hostadmin.funds.records_cli import COMMANDS as records_commands
    for command in records_commands:
        app.cli.add_command(command)
    from hostadmin.funds.cli import ledger_cli
    from hostadmin.ledger.backfill import backfill_command
    ledger_cli.add_command(backfill_command)
    from hostadmin.processors.cli import processors_cli
    app.cli.add_command(processors_cli)


def register_template_helpers(app):
    from hostadmin import web

    web.install_template_helpers(app)
    from hostadmin.banking import banners

    banners.install(app)
    from hostadmin.processors import banners as processor_banners

    processor_banners.install(app)
    logging.getLogger("hostadmin").setLevel(logging.INFO)
