// Overview: daily activity, approval, pending outcomes, the last cycle against its targets, and
// what deserves attention. Four requests: the daily series (the activity chart, and the figures
// above it as its sums: the window of GET /stats, counted the same way), the cycles (the targets
// chart), the trust scores (the number of agents) and the alerts (GET /alerts: "Worth knowing").
import { api } from "../api.js";
import { axis, chart } from "../charts.js";
import { apiText, fmt, h, kpi, panel } from "../dom.js";

export const ACCURACY_TARGET = 0.8;
export const COVERAGE_TARGET = 0.7;
const DAYS = 30;
const ALERTS_SHOWN = 10;

export async function overviewView() {
  const [series, cycles, trust, alerts] = await Promise.all([
    api.get("/series/workspace", { days: DAYS }),
    api.get("/learning-cycles", { limit: 20 }),
    api.get("/trust-scores"),
    api.get("/alerts", { limit: ALERTS_SHOWN }),
  ]);
  const totals = windowTotals(series.days);
  const lastCycle = cycles.items.find((c) => c.status === "succeeded");
  const result = lastCycle ? lastCycle.result : null;

  const days = series.days.map((d) => d.day);
  const activity = chart("Tracked and evaluated per day", {
    xAxis: axis.days(days),
    yAxis: [axis.count("recommendations"), axis.unit("approval")],
    series: [
      { name: "Tracked", type: "bar", data: series.days.map((d) => d.tracked) },
      { name: "Evaluated", type: "bar", data: series.days.map((d) => d.evaluated) },
      {
        name: "Approval rate",
        type: "line",
        yAxisIndex: 1,
        connectNulls: true,
        data: series.days.map((d) => d.approval_rate),
      },
    ],
  });

  const targets = chart(
    "Last cycle against targets",
    {
      tooltip: { trigger: "item", renderMode: "richText" },
      legend: { show: false },
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      xAxis: axis.unitAcross(),
      yAxis: { type: "category", data: ["Coverage", "Accuracy"] },
      series: [
        {
          name: "Last cycle",
          type: "bar",
          barWidth: "45%",
          // "-" is ECharts' empty value: no bar where nothing was measured.
          data: [result ? result.coverage : "-", result && result.iteration_accuracy !== null ? result.iteration_accuracy : "-"],
          // Inside the bar at its start (white on the bar): never past the 100% edge, never on a
          // target tick (70% and 80%, far from where the bar starts).
          label: {
            show: true,
            position: "insideLeft",
            color: "#fff",
            fontWeight: 600,
            formatter: (p) => (typeof p.value === "number" ? fmt.pct(p.value) : ""),
          },
        },
        {
          // Each target a tick across its bar, named in the note above and in its tooltip.
          name: "Target",
          type: "scatter",
          symbol: "rect",
          symbolSize: [3, 30],
          z: 3,
          itemStyle: { color: "#1d2330" },
          tooltip: { formatter: (p) => `${p.name} target ${fmt.pct(p.value[0])}` },
          data: [
            { name: "Coverage", value: [COVERAGE_TARGET, 0] },
            { name: "Accuracy", value: [ACCURACY_TARGET, 1] },
          ],
        },
      ],
    },
    { height: 160 },
  );

  return h(
    "div",
    { class: "view overview" },
    h(
      "div",
      { class: "kpis" },
      kpi("Tracked (30 days)", fmt.int(totals.tracked)),
      kpi("Evaluated", fmt.int(totals.evaluated)),
      kpi("Approval rate", fmt.pct(totals.approvalRate, 1), "approved + half of partial"),
      kpi("Pending outcomes", fmt.int(totals.pending)),
      kpi("Agents", fmt.int(trust.count)),
    ),
    panel("Activity", activity),
    h(
      "div",
      { class: "columns" },
      panel(
        "Last learning cycle",
        result
          ? h(
              "p",
              { class: "note" },
              `${fmt.time(lastCycle.completed_at)} · ${fmt.int(result.samples_analyzed)} samples · accuracy ${fmt.pct(
                result.iteration_accuracy,
              )} (target ${fmt.pct(ACCURACY_TARGET)}) · coverage ${fmt.pct(result.coverage)} (target ${fmt.pct(
                COVERAGE_TARGET,
              )}); the dark ticks are the targets`,
            )
          : h("p", { class: "note" }, "No learning cycle has succeeded yet."),
        targets,
      ),
      panel("Worth knowing", alertFeed(alerts.items)),
    ),
  );
}

/** The window's figures as GET /stats reports them: sums of the days, the approval rate
 * (approved + partial / 2) / evaluated, pending = tracked - evaluated (at least 0). */
export function windowTotals(days) {
  const sum = (name) => days.reduce((total, day) => total + day[name], 0);
  const tracked = sum("tracked");
  const evaluated = sum("evaluated");
  return {
    tracked,
    evaluated,
    pending: Math.max(tracked - evaluated, 0),
    approvalRate: evaluated ? (sum("approved") + 0.5 * sum("partial")) / evaluated : null,
  };
}

// How each alert reads, from its figures (docs/alerts.md); every API string goes in as text.
const ALERT_TEXT = {
  AgentTrustDeclined: (a) =>
    `performance declined: approval ${fmt.pct(a.after)} after ${fmt.pct(a.before)} (${fmt.int(a.evidence_n)} outcomes)`,
  AgentTrustRecovered: (a) =>
    `recovered: approval ${fmt.pct(a.after)}, back at the ${fmt.pct(a.details.reference)} it fell from`,
  AgentTrustThresholdCrossed: (a) =>
    `trust crossed min_trust ${fmt.num(a.details.min_trust)} ${a.details.direction === "up" ? "upward" : "downward"}: ${fmt.num(a.before)} → ${fmt.num(a.after)}`,
  LearningCycleBelowTarget: (a) =>
    `learning cycle under target: accuracy ${fmt.pct(a.after)} (target ${fmt.pct(ACCURACY_TARGET)}), coverage ${fmt.pct(a.details.coverage_after)} (target ${fmt.pct(COVERAGE_TARGET)})`,
  LearningCycleFailed: () => "learning cycle failed: ",
  RoutingUnderperforming: (a) =>
    `routing earns ${fmt.num(a.after)} where always asking the best agent would earn ${fmt.num(a.before)}`,
};
const ALERT_CLASS = { AgentTrustRecovered: "ok", LearningCycleFailed: "bad", RoutingUnderperforming: "bad" };
// Only the dashboard's own views are linked (an alert is API data: never a javascript: URL).
const DASHBOARD_PATH = /^#\/[A-Za-z0-9_.~%\/-]*$/;

/** GET /alerts as a feed: newest first, each with its time, what changed and a link to look at. */
function alertFeed(alerts) {
  if (!alerts.length) return h("p", { class: "ok" }, "Nothing needs attention: no alert has been raised.");
  const items = alerts.map((alert) => {
    const describe = ALERT_TEXT[alert.kind] || (() => apiText(alert.kind));
    const subject = alert.agent_id ? [apiText(alert.agent_id), " "] : [];
    const link = DASHBOARD_PATH.test(alert.dashboard_path)
      ? h("a", { href: alert.dashboard_path }, "look")
      : null;
    return h(
      "li",
      { class: ALERT_CLASS[alert.kind] || "warn", "data-kind": alert.kind },
      h("time", { datetime: alert.raised_at }, fmt.time(alert.raised_at)),
      " · ",
      ...subject,
      describe(alert),
      alert.kind === "LearningCycleFailed" ? apiText(alert.details.error || "") : "",
      link ? " · " : "",
      link,
    );
  });
  return h("ul", { class: "alarms" }, items);
}
