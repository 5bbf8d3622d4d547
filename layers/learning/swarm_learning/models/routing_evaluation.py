"""Request and response models of the offline evaluation of routing (POST /routing/evaluate)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from swarm_learning.models.common import Identifier, ShownFloat, Slug, Vocabulary, _Request, _Response

MAX_EVALUATED_POLICIES = 20
MAX_EVALUATION_LOOKBACK_DAYS = 365
# Below this effective sample size the normal intervals under-cover (docs/benchmarks.md).
THIN_SUPPORT_ESS = 100
Estimator = Literal["ips", "snips", "dr"]


def _every_estimator() -> list[Estimator]:
    return ["ips", "snips", "dr"]


class RoutingPolicy(StrEnum):
    EXPLORE = "explore"  # the router: Thompson sampling (with the learned rules unless apply_rules is false)
    EXPLOIT = "exploit"  # the best lower credible bound (with the rules unless apply_rules is false)
    UNIFORM = "uniform"  # any candidate, uniformly
    AGENT = "agent"  # always agent_id when it is a candidate, else uniformly


class PolicySpec(_Request):
    policy: Vocabulary[RoutingPolicy]
    agent_id: Identifier | None = Field(default=None, description="The agent of the `agent` policy.")
    apply_rules: bool | None = Field(
        default=None,
        description="explore and exploit only: act on the learned rules as POST /routing/select does (default true).",
    )

    @model_validator(mode="after")
    def _fields_fit_the_policy(self) -> PolicySpec:
        if self.policy is RoutingPolicy.AGENT and self.agent_id is None:
            raise ValueError("agent_id is required by the agent policy")
        if self.policy is not RoutingPolicy.AGENT and self.agent_id is not None:
            raise ValueError(f"agent_id belongs to the agent policy, not {self.policy.value}")
        if self.policy in (RoutingPolicy.UNIFORM, RoutingPolicy.AGENT) and self.apply_rules:
            raise ValueError(f"apply_rules applies to explore and exploit, not {self.policy.value}")
        return self

    @property
    def rules(self) -> bool:
        return self.policy in (RoutingPolicy.EXPLORE, RoutingPolicy.EXPLOIT) and self.apply_rules is not False


def default_policies() -> list[PolicySpec]:
    return [
        PolicySpec(policy=RoutingPolicy.EXPLORE),
        PolicySpec(policy=RoutingPolicy.EXPLORE, apply_rules=False),
        PolicySpec(policy=RoutingPolicy.EXPLOIT),
        PolicySpec(policy=RoutingPolicy.UNIFORM),
    ]


class RoutingEvaluationRequest(_Request):
    workspace_id: Identifier
    recommendation_type: Slug | None = Field(default=None, description="Only decisions of this type.")
    lookback_days: int = Field(default=30, ge=1, le=MAX_EVALUATION_LOOKBACK_DAYS)
    policies: list[PolicySpec] = Field(
        default_factory=default_policies,
        min_length=1,
        max_length=MAX_EVALUATED_POLICIES,
        description="The policies to estimate; default: explore, explore without rules, exploit, uniform.",
    )
    estimators: list[Estimator] = Field(default_factory=_every_estimator, min_length=1, max_length=3)

    @field_validator("estimators")
    @classmethod
    def _unique_estimators(cls, estimators: list[Estimator]) -> list[Estimator]:
        if len(set(estimators)) != len(estimators):
            raise ValueError("estimators must not repeat")
        return estimators


class EstimateView(_Response):
    value: ShownFloat = Field(description="Approval rate: approved 1, partial 1/2, rejected 0.")
    lower: ShownFloat | None = Field(
        description="95 % interval (normal approximation); null below 2 decisions."
    )
    upper: ShownFloat | None


class PolicyEvaluation(_Response):
    policy: RoutingPolicy
    agent_id: str | None
    apply_rules: bool
    estimates: dict[str, EstimateView] = Field(description="By estimator: ips, snips, dr.")
    effective_sample_size: ShownFloat = Field(
        description="(sum w)^2 / sum w^2 of the importance weights: how many decisions the estimate is worth."
    )
    thin_support: bool = Field(
        default=False,
        description=(
            f"effective_sample_size under {THIN_SUPPORT_ESS}: the log rarely did what this policy would, and "
            "its 95 % interval is too narrow (it covered the truth 80-92 % of the time in bench/routing_ope.py)."
        ),
    )


class SkippedDecisions(_Response):
    no_outcome: int = Field(
        description="The recommendation of the agent seated first was not evaluated (yet)."
    )
    no_support: int = Field(
        description="Logged with a candidate at first-slot probability 0 (e.g. exploit with floor 0)."
    )
    not_logged: int = Field(description="Logged before decisions kept their first-slot probabilities.")


class BestPolicy(_Response):
    policy: RoutingPolicy
    agent_id: str | None
    apply_rules: bool
    estimator: Estimator
    beats_logged: bool = Field(
        description="Its estimate minus the logged value has a 95 % interval above zero."
    )


class AgainstBestAgent(_Response):
    agent_id: str = Field(
        description="The agent whose `agent` policy has the highest SNIPS estimate in the window."
    )
    agent: EstimateView = Field(
        description="SNIPS estimate of always asking it (chosen in-sample: leans optimistic)."
    )
    difference: EstimateView = Field(description="The logged routing minus that agent, paired by decision.")
    significantly_worse: bool = Field(description="The difference's 95 % interval lies below zero.")


class RoutingEvaluationResponse(_Response):
    workspace_id: str
    recommendation_type: str | None
    since: datetime
    until: datetime
    decisions: int = Field(description="Decisions evaluated (on their first slot).")
    skipped: SkippedDecisions
    logged: EstimateView | None = Field(
        description="What the logged routing achieved; null without decisions."
    )
    policies: list[PolicyEvaluation]
    best: BestPolicy | None = Field(description="The highest estimate (SNIPS when asked, else DR, else IPS).")
    against_best_agent: AgainstBestAgent | None = Field(
        default=None, description="The router against the best fixed agent; null below 2 decisions."
    )
