"""Jobs run in real RQ workers on real Redis, inside an app context."""
from rq import SimpleWorker
from sqlalchemy import select

from hostadmin.extensions import queues
from hostadmin.jobs import app_job, enqueue
from hostadmin.ledger.models import Host
from tests.factories import make_host


@app_job
def rename_host(slug, name):
    from hostadmin.extensions import db
    host = db.session.scalar(select(Host).where(Host.slug == slug))
    host.name = name
    db.session.commit()
    return host.id


def test_job_runs_in_a_worker_with_the_app_context(db):
    host = make_host(slug="river")
    db.session.commit()

    job = enqueue(rename_host, "river", "Renamed by a worker", job_id="rename-river")
    assert job.id == "rename-river"
    SimpleWorker([queues.get("default")], connection=queues.connection).work(burst=True)

    job.refresh()
    assert job.is_finished and job.return_value() == host.id
    db.session.expire_all()
    assert db.session.get(Host, host.id).name == "Renamed by a worker"
