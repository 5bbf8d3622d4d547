"""Learning-cycle function. Two events reach it:

- the nightly schedule (02:00 UTC): queues one iteration per workspace and publishes one
  ``LearningCycleRequested`` event each, so every workspace's cycle runs in its own invocation;
- ``LearningCycleRequested`` (from that fan-out or from ``POST /learning-cycles/trigger``): runs the
  workspace's cycle. A failed cycle raises, so EventBridge's asynchronous invocation retries it and
  then dead-letters the event.
"""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from swarm_learning.api.handler import job_handler
from swarm_learning.api.jobs import scheduled_time
from swarm_learning.api.observability import logger, metrics
from swarm_learning.clock import utcnow
from swarm_learning.models.learning import LearningCycleRequestedDetail
from swarm_learning.services.alerts.service import get_cycle_alerts
from swarm_learning.services.learning.base import CYCLE_REQUESTED
from swarm_learning.services.learning.service import get_cycle_runner, get_learned_reads, get_learning_trigger


@job_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("detail-type") == CYCLE_REQUESTED:
        request = LearningCycleRequestedDetail.model_validate(event["detail"])
        logger.append_keys(workspace_id=request.workspace_id, iteration_id=request.iteration_id)
        try:
            status = get_cycle_runner().run(
                request.workspace_id,
                request.iteration_id,
                lookback_days=request.lookback_days,
                min_pattern_confidence=request.min_pattern_confidence,
            )
        except Exception as error:
            logger.exception("learning cycle failed")
            metrics.add_metric(name="LearningCycleFailures", unit=MetricUnit.Count, value=1)
            # The state dedupes: the retries of this event, and failures that follow, raise it once.
            try:
                get_cycle_alerts().cycle_failed(
                    request.workspace_id,
                    request.iteration_id,
                    f"{type(error).__name__}: {error}"[:500],
                    now=utcnow(),
                )
            except Exception:  # the cycle's own failure is what the retry and the DLQ must see
                logger.exception("the LearningCycleFailed alert could not be raised")
            raise
        metrics.add_metric(name=f"LearningCycles{str(status).capitalize()}", unit=MetricUnit.Count, value=1)
        result = get_learned_reads().iteration(request.workspace_id, request.iteration_id).result
        if status == "succeeded" and result is not None:
            get_cycle_alerts().cycle_succeeded(
                request.workspace_id, request.iteration_id, result.model_dump(mode="json"), now=utcnow()
            )
            # What an operator watches (ModelAccuracy has an alarm in template.yaml).
            metrics.add_metric(
                name="LearningCycleDuration", unit=MetricUnit.Seconds, value=result.processing_time_seconds
            )
            metrics.add_metric(name="SamplesAnalyzed", unit=MetricUnit.Count, value=result.samples_analyzed)
            metrics.add_metric(
                name="PatternsDiscovered", unit=MetricUnit.Count, value=result.patterns_discovered
            )
            metrics.add_metric(name="Coverage", unit=MetricUnit.Count, value=result.coverage)
            if result.iteration_accuracy is not None:
                metrics.add_metric(
                    name="ModelAccuracy", unit=MetricUnit.Count, value=result.iteration_accuracy
                )
        logger.info("learning cycle finished", extra={"status": str(status)})
        return {"iteration_id": request.iteration_id, "status": str(status)}

    run_at = scheduled_time(event)
    queued = get_learning_trigger().schedule_all(run_at)
    metrics.add_metric(name="LearningCyclesScheduled", unit=MetricUnit.Count, value=len(queued))
    logger.info("learning cycles scheduled", extra={"run_at": run_at.isoformat(), "workspaces": len(queued)})
    return {"run_at": run_at.isoformat(), "workspaces": queued}
