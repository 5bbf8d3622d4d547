// Overview: daily activity, approval, pending outcomes, the last cycle against its targets, and
// what deserves attention. Three requests: the daily series (the activity chart, and the figures
// above it as its sums: the window of GET /stats, counted the same way), the cycles (the targets
// chart) and the trust scores (the alarms and the number of agents).
import { api } from "../api.js";
import { axis, chart } from "../charts.js";
import { apiText, fmt, h, kpi, panel } from "../dom.js";

export const ACCURACY_TARGET = 0.8;
export const COVERAGE_TARGET = 0.7;
const DAYS = 30;

export async function overviewView() {
  const [series, cycles, trust] = await Promise.all([
    api.get("/series/workspace", { days: DAYS }),
    api.get("/learning-cycles", { limit: 20 }),
    api.get("/trust-scores"),
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
      panel("Worth knowing", alarms(trust.items, cycles.items, result)),
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

function alarms(agents, cycles, result) {
  const items = [];
  for (const agent of agents.filter((a) => a.trend === "declining")) {
    items.push(
      h(
        "li",
        { class: "warn" },
        "Declining: ",
        h("a", { href: `#/agents/${encodeURIComponent(agent.agent_id)}` }, apiText(agent.agent_name)),
        ` — recent success ${fmt.pct(agent.recent_success_rate)} against ${fmt.pct(agent.baseline_success_rate)} before`,
      ),
    );
  }
  for (const cycle of cycles.filter((c) => c.status === "failed")) {
    items.push(
      h("li", { class: "bad" }, `Learning cycle failed ${fmt.time(cycle.completed_at)}: `, apiText(cycle.error)),
    );
  }
  if (result && result.iteration_accuracy !== null && result.iteration_accuracy < ACCURACY_TARGET) {
    items.push(h("li", { class: "warn" }, `Last cycle's accuracy ${fmt.pct(result.iteration_accuracy)} is under the 80% target`));
  }
  if (result && result.coverage < COVERAGE_TARGET) {
    items.push(h("li", { class: "warn" }, `Last cycle's coverage ${fmt.pct(result.coverage)} is under the 70% target`));
  }
  return items.length
    ? h("ul", { class: "alarms" }, items)
    : h("p", { class: "ok" }, "Nothing needs attention: no declining agent, no failed cycle.");
}
