"""A big statement is imported by a real RQ worker: the history shows its progress, then its counts; a job
that fails writes nothing, says why, and Retry imports it from the stored file."""
import io
import re
import signal
import time
from datetime import datetime, timezone

import psutil
import pytest
from rq import SimpleWorker

from hostadmin.auth.models import User
from hostadmin.extensions import db, queues
from hostadmin.imports import csv_import
from hostadmin.imports.models import ImportRow, ImportRun
from hostadmin.statements import background, store
from hostadmin.statements.background import job_of
from tests.factories import PASSWORD, make_host, make_user
from tests.support.processes import flask_env, start_flask

LINES = 30
STATEMENT = ("Date,Description,Amount,Currency\n" + "".join(
    f"2026-11-{1 + i % 28:02d},Gift {i},{i + 1}.00,USD\n" for i in range(LINES))).encode()


@pytest.fixture
def page(app, client, login_as, db):
    app.config["STATEMENT_BACKGROUND_LINES"] = 10
    host = make_host(slug="river")
    admin = make_user(host)
    imp = csv_import.create_csv_import(host, admin, "Credit Union", "CU 1")
    db.session.commit()
    login_as(admin)
    return imp.id


def work():
    from flask import g
    SimpleWorker([queues.get("default")], connection=queues.connection).work(burst=True)
    # The job ended the shared session: what earlier requests left in `g` is detached now.
    for name in ("host", "membership"):
        g.pop(name, None)


def confirm(client, imp_id):
    html = client.post(f"/h/river/imports/{imp_id}/preview",
                       data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(STATEMENT), "big.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert f'data-count="new">{LINES}<' in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    form = {"token": token, "date": "Date", "date_format": "%Y-%m-%d", "description": "Description",
            "amount": "Amount", "currency": "Currency"}
    return client.post_with_csrf(f"/h/river/imports/{imp_id}/import", form)


def progress_of(client, imp_id, run_id):
    return client.get(f"/h/river/imports/{imp_id}/uploads/{run_id}/progress", headers={"HX-Request": "true"})


def test_a_big_statement_is_imported_in_the_background_with_a_progress_bar(client, page):
    imp_id = page
    done = confirm(client, imp_id)

    run = db.session.query(ImportRun).filter_by(import_id=imp_id).one()
    run_id = run.id
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/upload#run-{run_id}")
    assert (run.outcome, db.session.query(ImportRow).count()) == ("RUNNING", 0)
    listed = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "big.csv is being imported in the background" in listed and "<progress" in listed
    waiting = progress_of(client, imp_id, run_id)
    assert waiting.status_code == 200 and "importing in the background, 0%" in waiting.get_data(as_text=True)

    work()

    finished = progress_of(client, imp_id, run_id)
    body = finished.get_data(as_text=True)
    assert finished.status_code == 286 and "<progress" not in body  # 286 stops htmx polling
    assert f'<td class="num">{LINES}</td>' in body
    assert db.session.query(ImportRow).filter_by(import_id=imp_id).count() == LINES
    assert db.session.get(ImportRun, run_id).outcome == "SUCCEEDED"


def test_a_failed_job_writes_nothing_says_why_and_retry_imports_it(client, page, monkeypatch):
    imp_id = page
    real_insert = store.insert

    def insert_then_fail(*args, **kwargs):
        real_insert(*args, **kwargs)  # the rows are written inside the job's transaction...
        raise RuntimeError("disk full")  # ...and the failure after them rolls them back

    monkeypatch.setattr(store, "insert", insert_then_fail)
    confirm(client, imp_id)
    run_id = db.session.query(ImportRun.id).filter_by(import_id=imp_id).scalar()
    work()

    failed = progress_of(client, imp_id, run_id)
    body = failed.get_data(as_text=True)
    assert failed.status_code == 286 and background.FAILED in body and ">Retry</button>" in body
    assert db.session.query(ImportRow).count() == 0

    monkeypatch.setattr(store, "insert", real_insert)
    retried = client.post_with_csrf(f"/h/river/imports/{imp_id}/uploads/{run_id}/retry")
    again = client.post_with_csrf(f"/h/river/imports/{imp_id}/uploads/{run_id}/retry")
    assert retried.status_code == again.status_code == 302
    assert "cannot be retried" in client.get(again.headers["Location"]).get_data(as_text=True)
    work()

    run = db.session.get(ImportRun, run_id)
    assert (run.outcome, run.added, run.restarts, run.error) == ("SUCCEEDED", LINES, 1, None)
    assert db.session.query(ImportRow).count() == LINES


def test_a_retry_without_the_stored_file_says_to_upload_it_again(app, client, page):
    imp_id = page
    confirm(client, imp_id)
    run_id = db.session.query(ImportRun.id).filter_by(import_id=imp_id).scalar()
    for stored in __import__("pathlib").Path(background.uploads_dir()).glob("*.bin"):
        stored.unlink()
    work()

    body = progress_of(client, imp_id, run_id).get_data(as_text=True)
    assert background.GONE in body and db.session.query(ImportRow).count() == 0


def test_a_small_statement_is_imported_at_once(app, client, page):
    app.config["STATEMENT_BACKGROUND_LINES"] = 5000
    done = confirm(client, page)
    assert done.headers["Location"].endswith(f"/imports/{page}/rows")
    assert db.session.query(ImportRow).count() == LINES


def test_an_import_whose_worker_is_killed_writes_nothing_and_offers_retry_at_once(app, client, page,
                                                                                   tmp_path):
    # The worker process reads the real clock (stored uploads expire after a day), so the test does too;
    # moving the clock ended the idle session.
    app.clock.now = datetime.now(timezone.utc)
    assert client.login(db.session.query(User).one().email, PASSWORD).status_code == 302
    imp_id, lines = page, 40_000
    big = ("Date,Description,Amount,Currency\n" + "".join(
        f"2026-11-{1 + i % 28:02d},Gift {i},{i % 900 + 1}.00,USD\n" for i in range(lines))).encode()
    html = client.post(f"/h/river/imports/{imp_id}/preview",
                       data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(big), "big.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    client.post_with_csrf(f"/h/river/imports/{imp_id}/import", {
        "token": token, "date": "Date", "date_format": "%Y-%m-%d", "description": "Description",
        "amount": "Amount", "currency": "Currency"})
    run = db.session.query(ImportRun).filter_by(import_id=imp_id).one()
    run_id = run.id

    env = flask_env(app, tmp_path, STATEMENTS_DIR=app.config["STATEMENTS_DIR"])
    worker = start_flask(env, "worker", "default")
    try:
        deadline = time.monotonic() + 60
        while (job_of(run).get_status(refresh=True) != "started"
               or not (job_of(run).meta or {}).get("progress")):
            assert worker.poll() is None, worker.stdout.read()
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.02)
    finally:
        # The worker and the work horse it forked (in a process group of its own) die together, as when
        # their machine is lost.
        doomed = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
        for process in doomed:
            process.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert not psutil.wait_procs(doomed, timeout=10)[1]

    db.session.expire_all()
    assert db.session.get(ImportRun, run_id).outcome == "RUNNING"  # nobody lived to record anything
    assert db.session.query(ImportRow).count() == 0
    shown = progress_of(client, imp_id, run_id)
    body = shown.get_data(as_text=True)
    assert shown.status_code == 286 and ">Retry</button>" in body and "<progress" not in body

    assert client.post_with_csrf(f"/h/river/imports/{imp_id}/uploads/{run_id}/retry").status_code == 302
    work()
    db.session.expire_all()
    run = db.session.get(ImportRun, run_id)
    assert (run.outcome, run.added, run.restarts) == ("SUCCEEDED", lines, 1)
    assert db.session.query(ImportRow).filter_by(import_id=imp_id).count() == lines
