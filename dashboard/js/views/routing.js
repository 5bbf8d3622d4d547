// Routing: is routing helping (off-policy estimates of other policies from the logged decisions),
// how often each agent was chosen day by day, and the selection probabilities of the latest
// decisions. Three requests.
import { api } from "../api.js";
import { axis, chart } from "../charts.js";
import { apiText, dataTable, fmt, h, intervalBar, kpi, panel } from "../dom.js";

const DAYS = 30;
const POLICIES = [
  { policy: "explore" },
  { policy: "explore", apply_rules: false },
  { policy: "exploit" },
  { policy: "uniform" },
];

function policyName(p) {
  if (p.policy === "agent") return `always ${p.agent_id}`;
  if (p.policy === "explore") return p.apply_rules ? "router (Thompson + rules)" : "Thompson, no rules";
  if (p.policy === "exploit") return p.apply_rules ? "exploit + rules" : "exploit, no rules";
  return "uniform";
}

/** "Is routing helping?": each policy's SNIPS estimate with its 95 % interval beside what the
 * logged routing achieved, n, the effective sample sizes, and a flag when the router is
 * significantly worse than the best fixed agent. */
function helpingPanel(evaluation) {
  const title = `Is routing helping? (${DAYS} days)`;
  if (evaluation.decisions === 0) {
    const skipped = Object.values(evaluation.skipped).reduce((a, b) => a + b, 0);
    return panel(
      title,
      h(
        "p",
        { class: "message" },
        `No routing decision of this window can be evaluated yet${skipped ? ` (${skipped} skipped: no outcome or no support)` : ""}. ` +
          "Route with POST /routing/select and track each chosen agent's recommendation with the decision_id.",
      ),
    );
  }
  const against = evaluation.against_best_agent;
  const rows = evaluation.policies.map((p) => ({
    name: policyName(p),
    estimate: p.estimates.snips,
    ess: p.effective_sample_size,
    thin: p.thin_support,
  }));
  if (against) rows.push({ name: `always ${against.agent_id} (best agent)`, estimate: against.agent, ess: null });
  const logged = evaluation.logged;
  const names = rows.map((r) => r.name);
  const estimates = chart(
    "Policy estimates",
    {
      tooltip: { trigger: "item", renderMode: "richText" },
      legend: { top: 0, data: ["95 % interval", "estimate"] },
      grid: { left: 48, right: 24, top: 40, bottom: 40, containLabel: true },
      yAxis: { type: "category", data: names, inverse: true },
      // Approval rate on x (the dashed line: the logged routing's); no axis name, which a narrow
      // window would cut.
      xAxis: { ...axis.unit(), axisLabel: { ...axis.unit().axisLabel, hideOverlap: true } },
      series: [
        { name: "lower", type: "bar", stack: "interval", data: rows.map((r) => r.estimate.lower ?? r.estimate.value), itemStyle: { opacity: 0 }, tooltip: { show: false }, barWidth: 10 },
        {
          name: "95 % interval",
          type: "bar",
          stack: "interval",
          data: rows.map((r) => (r.estimate.upper ?? r.estimate.value) - (r.estimate.lower ?? r.estimate.value)),
          itemStyle: { opacity: 0.3 },
          barWidth: 10,
          tooltip: { show: false },
        },
        {
          name: "estimate",
          type: "scatter",
          symbolSize: 11,
          data: rows.map((r, i) => [r.estimate.value, i]),
          markLine: { symbol: "none", label: { show: false }, data: [{ xAxis: logged.value }] },
        },
      ],
    },
    { height: 60 + 44 * rows.length },
  );
  const flag = against && against.significantly_worse
    ? h(
        "p",
        { class: "message error", id: "routing-worse-flag" },
        `Routing is significantly worse than always asking ${against.agent_id}: ` +
          `${fmt.pct(-against.difference.value, 1)} fewer approvals (95 % interval ${fmt.pct(-against.difference.upper, 1)} to ${fmt.pct(-against.difference.lower, 1)}).`,
      )
    : null;
  const table = dataTable(
    [
      { key: "name", label: "Policy", numeric: false },
      { key: "value", label: "Estimate", cell: (r) => fmt.pct(r.estimate.value, 1) },
      { key: "interval", label: "95 % interval", numeric: false, sortable: false, cell: (r) => h("span", {}, intervalBar(r.estimate.value, r.estimate.lower ?? r.estimate.value, r.estimate.upper), ` ${fmt.pct(r.estimate.lower, 1)} – ${fmt.pct(r.estimate.upper, 1)}`) },
      {
        key: "ess",
        label: "Effective n",
        cell: (r) =>
          r.ess === null
            ? "–"
            : r.thin
              ? h("span", { class: "warn", title: "Few logged decisions did what this policy would: its interval is too narrow." }, `${fmt.num(r.ess, 0)} (thin)`)
              : fmt.num(r.ess, 0),
      },
    ],
    rows.map((r) => ({ ...r, value: r.estimate.value })),
    { initialSort: "value" },
  );
  table.element.id = "routing-evaluation-table";
  const skipped = evaluation.skipped;
  return panel(
    title,
    flag,
    h(
      "div",
      { class: "kpis" },
      kpi("Logged approval", fmt.pct(logged.value, 1), `95 % ${fmt.pct(logged.lower, 1)} – ${fmt.pct(logged.upper, 1)}`),
      kpi("Decisions evaluated", fmt.int(evaluation.decisions), `skipped: ${skipped.no_outcome} no outcome, ${skipped.no_support} no support`),
      kpi(
        "Highest estimate of the policies asked",
        evaluation.best ? policyName(evaluation.best) : "–",
        evaluation.best ? (evaluation.best.beats_logged ? "beats the logged routing" : "not significantly above the logged routing") : null,
      ),
    ),
    estimates,
    h("div", { class: "scroll" }, table.element),
  );
}

export async function routingView() {
  const [series, decisions, evaluation] = await Promise.all([
    api.get("/series/routing", { days: DAYS }),
    api.get("/routing/decisions", { days: DAYS, limit: 50 }),
    api.post("/routing/evaluate", { lookback_days: DAYS, policies: POLICIES }),
  ]);

  const chosen = chart("Chosen per day", {
    xAxis: axis.days(series.days),
    yAxis: axis.count("times chosen"),
    series: series.items.map((agent) => ({
      name: agent.agent_id,
      type: "bar",
      stack: "chosen",
      data: agent.chosen,
    })),
  });

  const latest = [...decisions.items].reverse();
  const agents = [...new Set(latest.flatMap((d) => d.chosen.map((c) => c.agent_id)))];
  const probabilities = chart("Selection probability of recent decisions", {
    tooltip: { trigger: "item", renderMode: "richText" },
    xAxis: axis.time(),
    yAxis: axis.unit("probability of being chosen"),
    series: agents.map((agent) => ({
      name: agent,
      type: "scatter",
      data: latest.flatMap((d) => d.chosen.filter((c) => c.agent_id === agent).map((c) => [d.decided_at, c.probability])),
    })),
  });

  const table = dataTable(
    [
      { key: "decided_at", label: "Decided", numeric: false, cell: (r) => fmt.time(r.decided_at) },
      {
        key: "recommendation_type",
        label: "Type",
        numeric: false,
        cell: (r) => h("span", { class: "nowrap" }, apiText(r.recommendation_type)),
      },
      { key: "mode", label: "Mode", numeric: false },
      {
        key: "chosen",
        label: "Chosen (probability)",
        numeric: false,
        sortable: false,
        cell: (r) =>
          h(
            "span",
            { class: "chips" },
            r.chosen.map((c) => h("span", { class: "chip" }, apiText(c.agent_id), ` ${fmt.pct(c.probability)}`)),
          ),
      },
      {
        key: "applied_rules",
        label: "Rules applied",
        numeric: false,
        sortable: false,
        // One chip per rule (a rule id holds "+" and ":", so run together they read as one).
        cell: (r) =>
          r.applied_rules.length ? h("span", { class: "chips rules" }, r.applied_rules.map((rule) => apiText(rule, "code"))) : "–",
      },
    ],
    decisions.items,
    { initialSort: "decided_at", empty: "No routing decision in this window." },
  );
  table.element.id = "decisions-table";

  return h(
    "div",
    { class: "view routing" },
    helpingPanel(evaluation),
    series.complete ? null : h("p", { class: "message warn" }, "Only the oldest decisions of this window were counted (too many to count all)."),
    h("div", { class: "columns" }, panel(`Chosen per day (${DAYS} days)`, chosen), panel("Selection probabilities", probabilities)),
    panel(`Latest decisions (${decisions.count})`, h("div", { class: "scroll" }, table.element)),
  );
}
