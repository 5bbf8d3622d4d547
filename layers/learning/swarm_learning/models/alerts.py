"""Alerts: the detail of the events published on the bus (one detail-type per kind) and the
``GET /alerts`` page. docs/alerts.md documents them; docs/schemas/ holds their JSON schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from swarm_learning.models.common import MAX_PAGE_SIZE, _Response
from swarm_learning.vocabulary import AlertKind

ALERT_SOURCE = "swarm.learning"
DEFAULT_ALERT_PAGE = 20
MAX_ALERT_PAGE = MAX_PAGE_SIZE


class AlertDetail(BaseModel):
    """What every alert carries: the event's ``detail`` and an item of ``GET /alerts``."""

    model_config = ConfigDict(extra="forbid")

    alert_id: str = Field(description="ULID prefixed alert_: unique, orders alerts by time")
    kind: AlertKind = Field(description="also the event's detail-type")
    workspace_id: str
    agent_id: str | None = Field(description="the agent the alert is about; null for workspace alerts")
    subject: str = Field(description="what the alert state is kept for, e.g. trend#<agent_id>")
    state: str = Field(description="the subject's state after the change, e.g. declined, normal, below")
    previous_state: str | None
    before: float | None = Field(description="the figure before the change (see docs/alerts.md per kind)")
    after: float | None = Field(description="the figure after the change")
    evidence_n: int = Field(ge=0, description="observations behind the figures")
    details: dict[str, Any] = Field(description="figures particular to the kind (docs/alerts.md)")
    dashboard_path: str = Field(description="where to look, relative to the dashboard's URL")
    raised_at: datetime


class AlertPage(_Response):
    workspace_id: str
    items: list[AlertDetail]
    count: int
    next_token: str | None
