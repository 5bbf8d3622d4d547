// Learning cycles: accuracy and coverage across iterations against their targets, what each one
// analysed and found, its insights; and a button that triggers a cycle and follows it.
import { ApiError, api } from "../api.js";
import { axis, chart } from "../charts.js";
import { apiText, fmt, h, panel } from "../dom.js";
import { ACCURACY_TARGET, COVERAGE_TARGET } from "./overview.js";

const POLL_MS = 1000;
const FOLLOW_FOR_MS = 10 * 60 * 1000;
const FINISHED = new Set(["succeeded", "failed", "skipped"]);

export async function cyclesView(_, { rerender }) {
  const cycles = await api.get("/learning-cycles", { limit: 50 });
  const done = cycles.items.filter((c) => c.result).reverse(); // oldest first
  const labels = done.map((c) => fmt.day(c.result.started_at));

  const quality = chart("Accuracy and coverage", {
    xAxis: { type: "category", data: labels },
    yAxis: axis.unit(),
    series: [
      {
        name: "Accuracy (held out)",
        type: "line",
        data: done.map((c) => c.result.iteration_accuracy),
        markLine: {
          symbol: "none",
          label: { formatter: "accuracy target", position: "insideEndTop" },
          data: [{ yAxis: ACCURACY_TARGET }],
        },
      },
      {
        name: "Coverage",
        type: "line",
        data: done.map((c) => c.result.coverage),
        markLine: {
          symbol: "none",
          label: { formatter: "coverage target", position: "insideEndBottom" },
          data: [{ yAxis: COVERAGE_TARGET }],
        },
      },
    ],
  });
  const volume = chart("Samples and patterns", {
    xAxis: { type: "category", data: labels },
    yAxis: [axis.count("samples"), axis.count("patterns")],
    series: [
      { name: "Samples analysed", type: "bar", data: done.map((c) => c.result.samples_analyzed) },
      { name: "Patterns found", type: "line", yAxisIndex: 1, data: done.map((c) => c.result.patterns_discovered) },
      { name: "Patterns confirmed", type: "line", yAxisIndex: 1, data: done.map((c) => c.result.patterns_confirmed) },
    ],
  });

  const status = h("span", { id: "cycle-status", class: "note", role: "status" });
  const button = h("button", { type: "button", id: "trigger-cycle" }, "Run a learning cycle now");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const accepted = await api.post("/learning-cycles/trigger", {});
      status.textContent = `Cycle ${accepted.iteration_id}: ${accepted.status}…`;
      const final = await follow(accepted.iteration_id, status);
      status.textContent = `Cycle ${final.iteration_id}: ${final.status}${final.error ? ` — ${final.error}` : ""}`;
      status.dataset.final = final.status;
      if (final.status === "succeeded") setTimeout(rerender, 800);
    } catch (error) {
      status.textContent = error instanceof ApiError ? error.message : `Could not follow the cycle: ${error.message}`;
      status.dataset.final = "error";
    } finally {
      button.disabled = false;
    }
  });

  return h(
    "div",
    { class: "view cycles" },
    panel(
      "Run",
      h("div", { class: "toolbar" }, button, status),
      h("p", { class: "note" }, "Learns from the last 7 days; the page follows the cycle until it finishes."),
    ),
    h("div", { class: "columns" }, panel("Accuracy and coverage against targets", quality), panel("What each cycle analysed", volume)),
    panel(`Cycles (${cycles.items.length})`, h("div", { id: "cycles-list" }, cycles.items.map(cycleItem))),
  );
}

async function follow(iterationId, status) {
  const started = Date.now();
  for (;;) {
    const iteration = await api.get(`/learning-cycles/${encodeURIComponent(iterationId)}`);
    status.textContent = `Cycle ${iteration.iteration_id}: ${iteration.status}…`;
    if (FINISHED.has(iteration.status)) return iteration;
    if (Date.now() - started > FOLLOW_FOR_MS) throw new Error("still running after 10 minutes");
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function cycleItem(cycle) {
  const r = cycle.result;
  const summary = h(
    "summary",
    {},
    h("span", { class: `status ${cycle.status}` }, cycle.status),
    ` ${fmt.time(cycle.requested_at)} · ${cycle.trigger}`,
    r
      ? ` · ${fmt.int(r.samples_analyzed)} samples · ${plural(r.patterns_discovered, "pattern")} (${r.patterns_confirmed} confirmed) · accuracy ${fmt.pct(
          r.iteration_accuracy,
        )} · coverage ${fmt.pct(r.coverage)}`
      : "",
  );
  const body = r
    ? h(
        "div",
        { class: "columns" },
        h("div", {}, h("h4", {}, "Insights"), h("ul", {}, r.key_insights.map((t) => h("li", {}, apiText(t))))),
        h("div", {}, h("h4", {}, "Recommendations for the swarm"), h("ul", {}, r.recommendations_for_swarm.map((t) => h("li", {}, apiText(t))))),
      )
    : h("p", { class: "note" }, cycle.error ? apiText(cycle.error) : "No result yet.");
  return h("details", { class: "cycle" }, summary, body);
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
