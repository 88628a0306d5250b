"""RQ entry points for webhooks: the periodic safety net."""
from hostadmin.jobs import app_job
from hostadmin.webhooks import service


@app_job
def safety_net_job():
    """Dispatch events that never got a job, sync items quiet for too long, prune old events."""
    return service.run_safety_net()
