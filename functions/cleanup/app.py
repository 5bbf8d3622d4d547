"""Cleanup function (weekly, Sunday 03:00 UTC; the specification's cleanup_old_recommendations): delete
what is past retention that DynamoDB's TTL has not removed yet. ``{"dry_run": true}`` in the
event counts without deleting."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from swarm_learning.api.handler import job_handler
from swarm_learning.api.jobs import scheduled_time
from swarm_learning.api.observability import logger, metrics
from swarm_learning.services.retention.cleanup import get_cleanup


def _metric_name(kind: str) -> str:
    return "CleanupDeleted" + "".join(word.capitalize() for word in kind.split("_"))


@job_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    run_at = scheduled_time(event)
    dry_run = event.get("dry_run") is True
    try:
        report = get_cleanup().run(run_at, dry_run=dry_run)
    except Exception:
        logger.exception("cleanup failed", extra={"run_at": run_at.isoformat(), "dry_run": dry_run})
        metrics.add_metric(name="CleanupFailures", unit=MetricUnit.Count, value=1)
        raise  # the schedule retries, then sends the event to the dead-letter queue
    if not dry_run:
        for kind, count in report.deleted.items():
            metrics.add_metric(name=_metric_name(kind), unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="CleanupExpiredFound", unit=MetricUnit.Count, value=sum(report.expired.values()))
    logger.info("cleanup finished", extra=report.as_dict())
    return report.as_dict()
