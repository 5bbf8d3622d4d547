// Routing: how often each agent was chosen day by day, and the selection probabilities of the
// latest decisions. Two requests.
import { api } from "../api.js";
import { axis, chart } from "../charts.js";
import { apiText, dataTable, fmt, h, panel } from "../dom.js";

const DAYS = 30;

export async function routingView() {
  const [series, decisions] = await Promise.all([
    api.get("/series/routing", { days: DAYS }),
    api.get("/routing/decisions", { days: DAYS, limit: 50 }),
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
    series.complete ? null : h("p", { class: "message warn" }, "Only the oldest decisions of this window were counted (too many to count all)."),
    h("div", { class: "columns" }, panel(`Chosen per day (${DAYS} days)`, chosen), panel("Selection probabilities", probabilities)),
    panel(`Latest decisions (${decisions.count})`, h("div", { class: "scroll" }, table.element)),
  );
}
