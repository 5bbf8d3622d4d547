"""Every key and index name of the service's tables: the one place that knows how items are addressed.

Recommendations table (``pk``/``sk``):
  ``WS#<ws>#REC#<rec_id>`` / ``RECOMMENDATION``   the recommendation (status, outcome summary)
  ``WS#<ws>#REC#<rec_id>`` / ``OUTCOME``          its evaluation, written once
  ``WS#<ws>#SPAN#<trace><span>`` / ``SPAN``        the recommendation an OTLP agent span became
  ``WS#<ws>#SPAN#<trace><span>`` / ``EARLY_EVALUATION``  an evaluation that came before its span
  indexes (all sort on ``recommendation_id``, a ULID, so time windows are key ranges):
    ``by_agent``           ``agent_pk``       = ``WS#<ws>#AGENT#<agent>``
    ``by_agent_type``      ``agent_type_pk``  = ``WS#<ws>#AGENT#<agent>#TYPE#<type>``
    ``by_workflow``        ``workflow_pk``    = ``WS#<ws>#WF#<workflow>``
    ``by_workspace_time``  ``shard_pk``       = ``WS#<ws>#SHARD#<n>`` (spread over N shards)

Statistics table (``pk``/``sk``), counters only ever grow through ``ADD``:
  ``WS#<ws>#AGENT#<agent>`` / ``AGENT``                   the agent directory entry
  ``WS#<ws>#AGENT#<agent>`` / ``DAY#<day>#ALL``           the agent's day bucket
  ``WS#<ws>#AGENT#<agent>`` / ``DAY#<day>#TYPE#<type>``   the agent's day bucket per type
  ``WS#<ws>#STATS#<n>``     / ``DAY#<day>#TYPE#<type>``   workspace day bucket, sharded
  index ``by_workspace``: ``workspace_pk`` = ``WS#<ws>`` on directory entries only.

  ``WS#<ws>``               / ``SETTINGS``               the workspace's settings and the
                                                          recommendation types it has seen

Routing decisions table (``pk`` = ``WS#<ws>#DECISION#<decision_id>``), written once per decision:
  index ``by_workspace_time``: ``workspace_pk`` = ``WS#<ws>``, sorted on ``decision_id`` (a ULID).

Learner-state table (``pk``/``sk``): see ``swarm_learning.dal.learner_state``.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

REC_SK = "RECOMMENDATION"
SPAN_SK = "SPAN"
EARLY_EVALUATION_SK = "EARLY_EVALUATION"
ALL_SCOPE = "ALL"
OUTCOME_SK = "OUTCOME"
AGENT_SK = "AGENT"
SETTINGS_SK = "SETTINGS"
BY_AGENT = "by_agent"
BY_AGENT_TYPE = "by_agent_type"
BY_WORKFLOW = "by_workflow"
BY_WORKSPACE_TIME = "by_workspace_time"
BY_WORKSPACE = "by_workspace"

KEY_ATTRIBUTES = frozenset(
    {
        "pk",
        "sk",
        "agent_pk",
        "agent_type_pk",
        "workflow_pk",
        "shard_pk",
        "workspace_pk",
        "expires_at",
        "scope",
    }
)


def workspace_key(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


def workspace_of(partition: str) -> str:
    """The workspace id of a ``WS#<ws>`` partition key."""
    return partition.removeprefix("WS#")


def decision_key(workspace_id: str, decision_id: str) -> str:
    return f"WS#{workspace_id}#DECISION#{decision_id}"


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def day_of(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def shard_of(key: str, shards: int) -> int:
    """Stable shard for a key (crc32: cheap and identical in every process)."""
    return zlib.crc32(key.encode()) % shards


# ---- keys ---------------------------------------------------------------------------------------
def recommendation_key(workspace_id: str, recommendation_id: str) -> str:
    return f"WS#{workspace_id}#REC#{recommendation_id}"


def span_key(workspace_id: str, trace_id: str, span_id: str) -> str:
    return f"WS#{workspace_id}#SPAN#{trace_id}{span_id}"


def settings_key(workspace_id: str) -> dict[str, str]:
    """The workspace's settings item (statistics table): ``pk`` and ``sk``."""
    return {"pk": workspace_key(workspace_id), "sk": SETTINGS_SK}


def agent_key(workspace_id: str, agent_id: str) -> str:
    return f"WS#{workspace_id}#AGENT#{agent_id}"


def agent_type_key(workspace_id: str, agent_id: str, recommendation_type: str) -> str:
    return f"WS#{workspace_id}#AGENT#{agent_id}#TYPE#{recommendation_type}"


def workflow_key(workspace_id: str, workflow_id: str) -> str:
    return f"WS#{workspace_id}#WF#{workflow_id}"


def shard_key(workspace_id: str, shard: int) -> str:
    return f"WS#{workspace_id}#SHARD#{shard}"


def stats_key(workspace_id: str, shard: int) -> str:
    return f"WS#{workspace_id}#STATS#{shard}"


def bucket_sort_key(day: str, recommendation_type: str | None) -> str:
    return f"DAY#{day}#ALL" if recommendation_type is None else f"DAY#{day}#TYPE#{recommendation_type}"


def scope_of(bucket_sk: str) -> str | None:
    """``None`` for an all-types bucket, else the recommendation type."""
    _, _, scope = bucket_sk.split("#", 2)
    return None if scope == "ALL" else scope.removeprefix("TYPE#")


# ---- alerts (LearnerStateTable, beside the learner state: pk = ``WS#<ws>``) -------------------------
#   ``ALERTSTATE#<subject>``  the current state of one alert subject (conditional writes on ``version``)
#   ``ALERT#<alert_id>``      an alert raised (alert ids are ULIDs: the sort key orders them by time)
ALERT_PREFIX = "ALERT#"
ALERT_STATE_PREFIX = "ALERTSTATE#"


def alert_state_sort_key(subject: str) -> str:
    return f"{ALERT_STATE_PREFIX}{subject}"


def alert_sort_key(alert_id: str) -> str:
    return f"{ALERT_PREFIX}{alert_id}"
