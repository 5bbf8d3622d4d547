// Agents: every agent's trust with its interval, the four dimensions, trend, strength, approval, tokens,
// evidence and a sparkline of its trust history. Two requests: the scores and the trust series.
import { api } from "../api.js";
import { chart } from "../charts.js";
import { apiText, dataTable, dimensionCell, fmt, h, intervalBar, measured, panel, sparkline } from "../dom.js";

const DAYS = 30;

export async function agentsView() {
  const [scores, history] = await Promise.all([
    api.get("/trust-scores"),
    api.all("/series/trust", { days: DAYS, limit: 100 }),
  ]);
  const trustByAgent = new Map(history.items.map((a) => [a.agent_id, a.points]));
  const rows = scores.items.map((agent) => ({
    ...agent,
    history: (trustByAgent.get(agent.agent_id) || []).map((p) => p.overall_trust_score),
  }));

  const table = dataTable(
    [
      {
        key: "agent_name",
        label: "Agent",
        numeric: false,
        value: (r) => r.agent_name.toLowerCase(),
        cell: (r) =>
          h(
            "a",
            { href: `#/agents/${encodeURIComponent(r.agent_id)}`, class: "agent" },
            apiText(r.agent_name),
            h("small", {}, apiText(r.agent_id)),
          ),
      },
      {
        key: "overall_trust_score",
        label: "Trust (interval)",
        numeric: true,
        cell: (r) =>
          h(
            "span",
            { class: "trust-cell" },
            h("span", { class: "figure" }, fmt.num(r.overall_trust_score)),
            intervalBar(r.overall_trust_score, r.overall_trust_lower_bound, r.overall_trust_upper_bound),
          ),
      },
      { key: "accuracy_score", label: "Accuracy", numeric: true, cell: (r) => fmt.num(r.accuracy_score) },
      { key: "consistency_score", label: "Consistency", numeric: true, cell: (r) => fmt.num(r.consistency_score) },
      {
        key: "timeliness_score",
        label: "Timeliness",
        numeric: true,
        value: (r) => (measured(r, "timeliness") ? r.timeliness_score : null),
        cell: (r) => dimensionCell(r, "timeliness"),
      },
      {
        key: "reliability_score",
        label: "Reliability",
        numeric: true,
        value: (r) => (measured(r, "reliability") ? r.reliability_score : null),
        cell: (r) => dimensionCell(r, "reliability"),
      },
      { key: "trend", label: "Trend", numeric: false, cell: (r) => h("span", { class: `trend ${r.trend}` }, r.trend) },
      { key: "recommendation_strength", label: "Strength", numeric: false },
      { key: "approval_rate", label: "Approval", numeric: true, cell: (r) => fmt.pct(r.approval_rate) },
      // Model tokens per recommendation (reported by OTLP spans or the track's input/output_tokens),
      // beside approval: quality per token when choosing between agents. "–" when none reported.
      { key: "avg_tokens", label: "Tokens / rec.", numeric: true, cell: (r) => fmt.num(r.avg_tokens, 0) },
      { key: "evaluated", label: "Evaluated", numeric: true, value: (r) => r.evidence.evaluated, cell: (r) => fmt.int(r.evidence.evaluated) },
      { key: "history", label: `Trust, ${DAYS} days`, sortable: false, cell: (r) => sparkline(r.history) },
    ],
    rows,
    { initialSort: "overall_trust_score", empty: "No agent matches." },
  );
  table.element.id = "agents-table";

  const search = h("input", { type: "search", id: "agents-filter", placeholder: "Filter by name or id", "aria-label": "Filter agents" });
  const trend = h(
    "select",
    { id: "agents-trend", "aria-label": "Trend" },
    h("option", { value: "" }, "Any trend"),
    ["improving", "stable", "declining"].map((t) => h("option", { value: t }, t)),
  );
  const apply = () => {
    const needle = search.value.trim().toLowerCase();
    table.setFilter(
      (r) =>
        (!needle || r.agent_name.toLowerCase().includes(needle) || r.agent_id.toLowerCase().includes(needle)) &&
        (!trend.value || r.trend === trend.value),
    );
  };
  search.addEventListener("input", apply);
  trend.addEventListener("change", apply);

  // Every agent's trust with its interval, side by side: a transparent bar up to the lower bound,
  // the interval stacked on it, and the score as a point.
  const ranked = [...rows].sort((a, b) => a.overall_trust_score - b.overall_trust_score);
  const names = ranked.map((r) => `${r.agent_name} (${r.agent_id})`);
  // Names get a fixed column (at most a third of the window), shortened with "…" past it; the
  // tooltip has them whole.
  const nameWidth = Math.round(Math.min(220, Math.max(90, window.innerWidth / 3)));
  const comparison = chart(
    "Trust and its interval, every agent",
    {
      grid: { left: nameWidth + 12, right: 24, top: 28, bottom: 24, containLabel: false },
      legend: { top: 0, data: ["Interval", "Trust"] },
      tooltip: {
        trigger: "item",
        renderMode: "richText",
        formatter: (p) => {
          const r = ranked[p.dataIndex];
          const upper = r.overall_trust_upper_bound ?? r.overall_trust_score;
          return `${names[p.dataIndex]}\ntrust ${fmt.num(r.overall_trust_score)} (${fmt.num(r.overall_trust_lower_bound)} – ${fmt.num(upper)})`;
        },
      },
      xAxis: { type: "value", min: 0, max: 1 },
      yAxis: {
        type: "category",
        data: names,
        axisLabel: { width: nameWidth, overflow: "truncate", ellipsis: "…" },
      },
      series: [
        {
          name: "lower",
          type: "bar",
          stack: "interval",
          itemStyle: { color: "transparent" },
          tooltip: { show: false },
          data: ranked.map((r) => r.overall_trust_lower_bound),
        },
        {
          name: "Interval",
          type: "bar",
          stack: "interval",
          barWidth: 8,
          itemStyle: { color: "#9dbcf2" },
          data: ranked.map((r) => (r.overall_trust_upper_bound ?? r.overall_trust_score) - r.overall_trust_lower_bound),
        },
        {
          name: "Trust",
          type: "scatter",
          symbolSize: 9,
          itemStyle: { color: "#1d2330" },
          data: ranked.map((r, i) => [r.overall_trust_score, i]),
        },
      ],
    },
    { height: Math.max(160, 28 * ranked.length + 60) },
  );

  return h(
    "div",
    { class: "view agents" },
    panel("Trust with its interval", comparison),
    panel(
      `Agents (${rows.length})`,
      h("div", { class: "toolbar" }, search, trend),
      h(
        "p",
        { class: "note" },
        "Trust is the posterior-weighted score; the bar spans it with accuracy at the bounds of its 90% credible interval. " +
          "“no data”: nothing was reported for that dimension (no latency, no failed execution), so it repeats accuracy. Click a heading to sort.",
      ),
      h("div", { class: "scroll" }, table.element),
    ),
  );
}
