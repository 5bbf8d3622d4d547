"""Pattern-refresh function (daily 01:00 UTC, before the learning cycle): in every workspace, drop
low-confidence patterns and re-validate the rest against the lookback window's data."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from swarm_learning.api.handler import job_handler
from swarm_learning.api.jobs import scheduled_time
from swarm_learning.api.observability import logger, metrics
from swarm_learning.services.learning.service import get_pattern_refresh


@job_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    run_at = scheduled_time(event)
    try:
        refreshed = get_pattern_refresh().refresh_all(run_at)
    except Exception:
        logger.exception("pattern refresh failed", extra={"run_at": run_at.isoformat()})
        metrics.add_metric(name="PatternRefreshFailures", unit=MetricUnit.Count, value=1)
        raise  # the schedule retries, then sends the event to the dead-letter queue
    dropped = sum(r["dropped"] for r in refreshed.values())
    metrics.add_metric(name="PatternsDropped", unit=MetricUnit.Count, value=dropped)
    logger.info("patterns refreshed", extra={"run_at": run_at.isoformat(), "workspaces": refreshed})
    return {"run_at": run_at.isoformat(), "workspaces": refreshed}
