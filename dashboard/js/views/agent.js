// One agent: trust over time with its interval band, the calibration (reliability) diagram,
// per-type scores and decision boosts, its profile, and its recent recommendations.
import { ApiError, api } from "../api.js";
import { axis, bandSeries, chart, PALETTE } from "../charts.js";
import { apiText, dataTable, fmt, h, intervalBar, kpi, measured, panel, unmeasuredNote } from "../dom.js";

export async function agentView([agentId]) {
  const path = encodeURIComponent(agentId);
  const [trust, history, profile, recent] = await Promise.all([
    api.get(`/trust-scores/${path}`),
    api.get(`/trust-scores/${path}/history`, { limit: 120 }),
    api.get(`/agent-profiles/${path}`).catch((error) => {
      if (error instanceof ApiError && error.status === 404) return null; // no cycle has profiled it yet
      throw error;
    }),
    api.get(`/recommendations/agent/${path}`, { limit: 20 }),
  ]);

  const snapshots = [...history.items].reverse(); // oldest first
  const trustChart = snapshots.length
    ? chart("Trust over time", {
        xAxis: axis.time(),
        yAxis: axis.unit(),
        series: [
          ...bandSeries(
            "Overall trust",
            snapshots.map((s) => ({
              x: s.computed_at,
              value: s.overall_trust_score,
              lower: s.overall_trust_lower_bound,
              upper: s.overall_trust_upper_bound ?? s.overall_trust_score,
            })),
            PALETTE[0],
          ),
          ...bandSeries(
            "Accuracy",
            snapshots
              .filter((s) => s.accuracy_lower_bound !== null && s.accuracy_lower_bound !== undefined)
              .map((s) => ({
                x: s.computed_at,
                value: s.accuracy_score,
                lower: s.accuracy_lower_bound,
                upper: s.accuracy_upper_bound,
              })),
            PALETTE[1],
          ),
        ],
        legend: { top: 0, data: ["Overall trust", "Accuracy"] },
      })
    : h(
        "p",
        { class: "note", id: "no-trust-history" },
        "No trust-refresh snapshot yet: the job runs every 6 hours. Locally, run it now with ",
        h("code", {}, "python -m localdev job trust-refresh"),
        " (make demo runs it once when it ends).",
      );

  const bins = trust.calibration.filter((b) => b.count > 0);
  const calibration = chart("Calibration", {
    tooltip: { trigger: "item", renderMode: "richText" },
    xAxis: { ...axis.unit("stated confidence"), nameLocation: "middle", nameGap: 28 },
    yAxis: axis.unit("observed success"),
    series: [
      {
        name: "Perfect calibration",
        type: "line",
        data: [
          [0, 0],
          [1, 1],
        ],
        symbol: "none",
        lineStyle: { type: "dashed", color: "#999" },
      },
      {
        name: "This agent",
        type: "scatter",
        data: bins.map((b) => [b.mean_confidence, b.observed_success, b.count]),
        symbolSize: (value) => 6 + Math.sqrt(value[2]) * 3,
      },
    ],
  });

  const types = Object.entries(trust.by_type).map(([type, t]) => ({
    type,
    ...t,
    evaluated: t.evidence.evaluated,
    boost: trust.decision_boosts[type],
  }));
  const typeTable = dataTable(
    [
      { key: "type", label: "Type", numeric: false, cell: (r) => apiText(r.type) },
      {
        key: "accuracy_score",
        label: "Accuracy (interval)",
        numeric: true,
        cell: (r) =>
          h(
            "span",
            { class: "trust-cell" },
            h("span", { class: "figure" }, fmt.num(r.accuracy_score)),
            intervalBar(r.accuracy_score, r.accuracy_lower_bound, r.accuracy_upper_bound),
          ),
      },
      { key: "overall_trust_score", label: "Trust", numeric: true, cell: (r) => fmt.num(r.overall_trust_score) },
      { key: "approval_rate", label: "Approval", numeric: true, cell: (r) => fmt.pct(r.approval_rate) },
      { key: "avg_tokens", label: "Tokens / rec.", numeric: true, cell: (r) => fmt.num(r.avg_tokens, 0) },
      { key: "evaluated", label: "Evaluated", numeric: true },
      { key: "boost", label: "Decision boost", numeric: true, cell: (r) => `×${fmt.num(r.boost)}` },
    ],
    types,
    { initialSort: "evaluated", empty: "No evaluated recommendation yet." },
  );

  const recentTable = dataTable(
    [
      { key: "created_at", label: "Tracked", numeric: false, cell: (r) => fmt.time(r.created_at) },
      { key: "recommendation_type", label: "Type", numeric: false, cell: (r) => apiText(r.recommendation_type) },
      { key: "confidence_score", label: "Confidence", numeric: true, cell: (r) => fmt.num(r.confidence_score) },
      { key: "status", label: "Outcome", numeric: false, cell: (r) => h("span", { class: `status ${r.status}` }, r.status) },
      { key: "overall_quality_score", label: "Quality", numeric: true, cell: (r) => fmt.num(r.overall_quality_score, 1) },
      { key: "reasoning", label: "Reasoning", numeric: false, sortable: false, cell: (r) => apiText(r.reasoning, "p") },
    ],
    recent.items,
    { initialSort: "created_at", empty: "No recommendation yet." },
  );
  recentTable.element.id = "recent-table";

  return h(
    "div",
    { class: "view agent" },
    h("p", {}, h("a", { href: "#/agents" }, "← All agents")),
    h("h2", {}, apiText(trust.agent_name), " ", h("small", {}, apiText(trust.agent_id))),
    h(
      "div",
      { class: "kpis" },
      kpi("Overall trust", fmt.num(trust.overall_trust_score), `${fmt.num(trust.overall_trust_lower_bound)} – ${fmt.num(trust.overall_trust_upper_bound)}`),
      kpi("Accuracy", fmt.num(trust.accuracy_score), `${fmt.num(trust.accuracy_lower_bound)} – ${fmt.num(trust.accuracy_upper_bound)}`),
      kpi("Consistency", fmt.num(trust.consistency_score)),
      dimensionKpi(trust, "timeliness", "Timeliness", "latencies"),
      dimensionKpi(trust, "reliability", "Reliability", "executions"),
      kpi("Trend", trust.trend, trust.recommendation_strength),
      kpi("Evaluated", fmt.int(trust.evidence.evaluated), trust.provisional ? "provisional" : null),
      kpi("Tokens / rec.", fmt.num(trust.avg_tokens, 0), `approval ${fmt.pct(trust.approval_rate)}`),
    ),
    h(
      "div",
      { class: "columns" },
      panel("Trust over time", trustChart),
      panel(
        "Calibration (reliability diagram)",
        h("p", { class: "note" }, `Expected calibration error ${fmt.num(trust.expected_calibration_error, 3)}; points sized by count.`),
        calibration,
      ),
    ),
    panel("By recommendation type", h("div", { class: "scroll" }, typeTable.element)),
    panel("Profile from the last learning cycle", profileBlock(profile)),
    panel("Recent recommendations", h("div", { class: "scroll" }, recentTable.element)),
  );
}

/** A dimension's figure with the count behind it, or "no data" and why (it would repeat accuracy). */
function dimensionKpi(trust, dimension, label, unit) {
  if (!measured(trust, dimension)) {
    return kpi(label, "no data", `${unmeasuredNote(dimension)} (×1.00: repeats accuracy)`);
  }
  const count = trust.dimension_evidence ? trust.dimension_evidence[dimension] : null;
  return kpi(label, fmt.num(trust[`${dimension}_score`]), count === null ? null : `${fmt.int(count)} ${unit}`);
}

function profileBlock(profile) {
  if (!profile) return h("p", { class: "note" }, "Not profiled yet: the next learning cycle will.");
  const standing = (items, empty) =>
    items.length
      ? h(
          "ul",
          {},
          items.map((s) =>
            h(
              "li",
              {},
              apiText(s.recommendation_type),
              ` — ${fmt.pct(s.strict_approval_rate ?? s.approval_rate)} approved (${fmt.pct(s.lower_bound)}–${fmt.pct(
                s.upper_bound,
              )}) against ${fmt.pct(s.baseline)} for the workspace, ${fmt.int(s.evaluated)} evaluated; approval rate ${fmt.pct(
                s.approval_rate,
              )} with partial as half`,
            ),
          ),
        )
      : h("p", { class: "note" }, empty);
  return h(
    "div",
    { class: "columns" },
    h("div", {}, h("h4", {}, "Strengths"), standing(profile.strengths, "None stands out.")),
    h("div", {}, h("h4", {}, "Weaknesses"), standing(profile.weaknesses, "None stands out.")),
    h(
      "p",
      { class: "note" },
      `Approval rate ${fmt.pct(profile.approval_rate, 1)} (approved only ${fmt.pct(profile.strict_approval_rate, 1)}) · ` +
        `calibration gap ${fmt.num(profile.calibration_gap)} · trend ${profile.trend}${
          typeof profile.trend_slope === "number" ? ` (${signedPoints(profile.trend_slope)})` : ""
        } · consensus share ${fmt.pct(profile.consensus_share)}${profile.consensus_builder ? " (consensus builder)" : ""}`,
    ),
  );
}

/** A change of rate in percentage points, signed: "−12.5 points". */
function signedPoints(value) {
  const points = value * 100;
  return `${points > 0 ? "+" : points < 0 ? "−" : "±"}${Math.abs(points).toFixed(1)} points, later half against earlier`;
}
