"""Trust-refresh function (every 6 hours): recompute every agent's trust and keep a snapshot."""

import time
from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from swarm_learning.api.handler import job_handler
from swarm_learning.api.jobs import scheduled_time
from swarm_learning.api.observability import logger, metrics
from swarm_learning.services.alerts.service import get_agent_alerts, get_alert_raiser
from swarm_learning.services.trust.service import get_trust_refresh

REFRESH_PERIOD_HOURS = 6
ALERT_RESEND_WINDOW = timedelta(days=1)


@job_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    run_at = scheduled_time(event, period_minutes=REFRESH_PERIOD_HOURS * 60)
    started = time.perf_counter()
    try:
        refreshed = get_trust_refresh().refresh_all(run_at, alerts=get_agent_alerts())
    except Exception:
        logger.exception("trust refresh failed", extra={"run_at": run_at.isoformat()})
        metrics.add_metric(name="TrustRefreshFailures", unit=MetricUnit.Count, value=1)
        raise  # the schedule retries, then sends the event to the dead-letter queue
    agents = sum(refreshed.values())
    # Alerts whose events the bus refused (or could not be reached for) are sent again, for a day.
    pending = resent = 0
    for workspace_id in refreshed:
        waiting, sent = get_alert_raiser().publish_pending(
            workspace_id, since=run_at - ALERT_RESEND_WINDOW, now=run_at
        )
        pending, resent = pending + waiting, resent + sent
    if pending:
        logger.warning("alert events were pending", extra={"pending": pending, "published_now": resent})
        metrics.add_metric(name="AlertEventsUnpublished", unit=MetricUnit.Count, value=pending - resent)
    seconds = time.perf_counter() - started
    metrics.add_metric(name="TrustScoresRefreshed", unit=MetricUnit.Count, value=agents)
    metrics.add_metric(name="TrustRefreshDuration", unit=MetricUnit.Seconds, value=seconds)
    logger.info(
        "trust refreshed",
        extra={
            "run_at": run_at.isoformat(),
            "agents": agents,
            "workspaces": len(refreshed),
            "seconds": seconds,
        },
    )
    return {"run_at": run_at.isoformat(), "agents": agents, "workspaces": len(refreshed)}
