"""Moving an alert subject's state and raising the alert that goes with it, exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.alerts import AlertStore, StoredState
from swarm_learning.domain.alert_state import Change
from swarm_learning.models.alerts import ALERT_SOURCE, AlertDetail

# A subject whose state another job is moving at the same time is read again at most this often.
MAX_ATTEMPTS = 3
# An unpublished alert is resent by another run only once its last claim is this old (longer than
# any function that raises alerts may run: Lambda's 15 minutes).
CLAIM_SECONDS = 900

Transition = Callable[[Mapping[str, Any] | None], tuple[Mapping[str, Any] | None, Change | None]]


class AlertRaiser:
    """Reads a subject's state, lets a pure transition decide the next one, and writes it with the
    alert it raises in one conditional transaction; the job that wins publishes the alert's event.
    A job that loses re-reads the state the winner wrote and decides again (usually: no change)."""

    def __init__(
        self, store: AlertStore, settings: Settings, *, events: Any | None = None, clock: Clock = utcnow
    ) -> None:
        self._store = store
        self._settings = settings
        self._events = events
        self._clock = clock

    @property
    def events(self) -> Any:
        if self._events is None:
            self._events = boto3.client("events")
        return self._events

    def apply(
        self,
        workspace_id: str,
        subject: str,
        transition: Transition,
        *,
        agent_id: str | None,
        dashboard_path: str,
        now: datetime | None = None,
    ) -> AlertDetail | None:
        """Run ``transition`` on the subject's stored state; returns the alert raised, if any."""
        for _ in range(MAX_ATTEMPTS):
            stored: StoredState | None = self._store.state(workspace_id, subject)
            current = stored.state if stored else None
            new_state, change = transition(current)
            if new_state is None or (current is not None and dict(new_state) == current and change is None):
                return None
            at = now or self._clock()
            alert = None
            if change is not None:
                alert = AlertDetail(
                    alert_id="alert_" + str(ULID.from_datetime(self._clock())),
                    kind=change.kind,
                    workspace_id=workspace_id,
                    agent_id=agent_id,
                    subject=subject,
                    state=str(new_state.get("status")),
                    previous_state=str(current.get("status")) if current else None,
                    before=_rounded(change.before),
                    after=_rounded(change.after),
                    evidence_n=change.evidence_n,
                    details={
                        k: _rounded(v) if isinstance(v, float) else v for k, v in change.details.items()
                    },
                    dashboard_path=dashboard_path,
                    raised_at=at,
                )
            written = self._store.transition(
                workspace_id,
                subject,
                expected_version=stored.version if stored else None,
                state=new_state,
                alert=alert.model_dump(mode="json") if alert else None,
                now=at,
            )
            if written:
                if alert is not None:
                    self._publish(alert)
                return alert
        return None

    def _publish(self, alert: AlertDetail) -> bool:
        """Put the alert's event on the bus; once accepted, the alert is marked published. A refused
        or failed put leaves it unpublished: ``publish_pending`` sends it at the next run."""
        if not self._settings.event_bus_name:
            return False
        entry = {
            "Source": ALERT_SOURCE,
            "DetailType": alert.kind.value,
            "Detail": alert.model_dump_json(),
            "EventBusName": self._settings.event_bus_name,
        }
        try:
            response = self.events.put_events(Entries=[entry])
        except (BotoCoreError, ClientError):
            # The state has moved and the alert is stored: the job goes on; publish_pending resends it.
            return False
        if response.get("FailedEntryCount", 0):
            return False
        self._store.mark_published(alert.workspace_id, alert.alert_id, at=self._clock())
        return True

    def publish_pending(self, workspace_id: str, *, since: datetime, now: datetime) -> tuple[int, int]:
        """Send again the alerts raised since ``since`` whose events the bus has not accepted and
        whose last claim is older than ``CLAIM_SECONDS`` (the job that raised one may still be
        publishing it): each is claimed with a conditional write first, so two jobs never send the
        same one. Returns (how many were pending, how many the bus accepted now)."""
        stale = now - timedelta(seconds=CLAIM_SECONDS)
        since_id = "alert_" + str(ULID.from_datetime(since))
        pending = self._store.unpublished(workspace_id, since=since_id, claimed_before=stale)
        sent = 0
        for record in pending:
            if self._store.claim(workspace_id, record["alert_id"], now=now, claimed_before=stale):
                alert = AlertDetail.model_validate({k: v for k, v in record.items() if k != "published_at"})
                sent += self._publish(alert)
        return len(pending), sent


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def state_dict(state: Any) -> dict[str, Any] | None:
    """A domain state dataclass as the stored JSON object."""
    return None if state is None else json.loads(json.dumps(asdict(state)))
