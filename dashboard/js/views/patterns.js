// Patterns and decision rules from the current learner state. Two requests.
import { api } from "../api.js";
import { axis, chart } from "../charts.js";
import { apiText, dataTable, fmt, h, panel } from "../dom.js";

const CATEGORIES = ["high_confidence", "consensus", "expert_opinion", "failure_avoidance", "success_indicator"];

/** How strongly the data backs a pattern: −log10 of its q-value (3 = q 0.001), capped. */
function evidence(pattern) {
  const q = pattern.q_value;
  return typeof q === "number" ? Math.min(-Math.log10(Math.max(q, 1e-300)), 30) : 0;
}

/** A q-value as a reader takes it in: "0.003", "2e-9". */
function qText(q) {
  if (typeof q !== "number") return "–";
  return q >= 0.001 ? q.toFixed(3) : q.toExponential(0);
}

export async function patternsView() {
  const [patterns, rules] = await Promise.all([
    api.all("/patterns", { limit: 500 }),
    api.post("/decision-rules/suggest", { context: {} }), // an empty context: every rule
  ]);
  const present = CATEGORIES.filter((c) => patterns.items.some((p) => p.category === c));

  const scatter = chart("Patterns: support and success", {
    tooltip: {
      trigger: "item",
      renderMode: "richText",
      formatter: (p) => `${p.seriesName}\n${p.data[3]}\nsuccess ${fmt.pct(p.data[1])} · support ${p.data[0]} · q ${p.data[4]}`,
    },
    xAxis: { type: "log", name: "support (recommendations)", nameLocation: "middle", nameGap: 28 },
    yAxis: axis.unit("success rate"),
    series: present.map((category) => ({
      name: category.replace("_", " "),
      type: "scatter",
      data: patterns.items
        .filter((p) => p.category === category)
        .map((p) => [p.frequency_count, p.success_rate, evidence(p), p.condition.join(" & "), qText(p.q_value)]),
      // Sized by the evidence (−log10 q), which separates patterns; confidence is ~1 for all.
      symbolSize: (value) => 6 + Math.min(value[2], 12) * 1.5,
    })),
  });

  const patternTable = dataTable(
    [
      { key: "category", label: "Category", numeric: false, cell: (r) => r.category.replace("_", " ") },
      {
        key: "condition",
        label: "Condition",
        numeric: false,
        value: (r) => r.condition.join(" "),
        cell: (r) => h("span", { class: "chips" }, r.condition.map((c) => apiText(c, "code"))),
      },
      { key: "description", label: "Description", numeric: false, sortable: false, cell: (r) => apiText(r.description) },
      { key: "success_rate", label: "Success", numeric: true, cell: (r) => fmt.pct(r.success_rate, 1) },
      { key: "frequency_count", label: "Support", numeric: true, cell: (r) => fmt.int(r.frequency_count) },
      {
        key: "q_value",
        label: "q-value",
        numeric: true,
        value: (r) => (typeof r.q_value === "number" ? r.q_value : null),
        cell: (r) => h("span", { title: `confidence level ${fmt.num(r.confidence_level, 3)}` }, qText(r.q_value)),
      },
      {
        key: "lift",
        label: "Lift (95%)",
        numeric: true,
        cell: (r) =>
          h(
            "span",
            { class: "nowrap" },
            fmt.num(r.lift),
            typeof r.lift_lower_bound === "number"
              ? h("small", { class: "interval-text" }, ` ${fmt.num(r.lift_lower_bound)}–${fmt.num(r.lift_upper_bound)}`)
              : null,
          ),
      },
      { key: "recommendation_strength", label: "Strength", numeric: false },
      { key: "status", label: "Status", numeric: false, cell: (r) => `${r.status}${r.confirmations ? ` ×${r.confirmations}` : ""}` },
    ],
    patterns.items,
    // Strongest evidence first: the smallest q-value.
    { initialSort: "q_value", initialDescending: false, empty: "No pattern yet: run a learning cycle." },
  );
  patternTable.element.id = "patterns-table";
  const category = h(
    "select",
    { id: "patterns-category", "aria-label": "Category" },
    h("option", { value: "" }, "Every category"),
    CATEGORIES.map((c) => h("option", { value: c }, c.replace("_", " "))),
  );
  category.addEventListener("change", () =>
    patternTable.setFilter((r) => !category.value || r.category === category.value),
  );

  const ruleTable = dataTable(
    [
      {
        key: "conditions",
        label: "When",
        numeric: false,
        sortable: false,
        cell: (r) =>
          h(
            "span",
            { class: "chips" },
            Object.entries(r.conditions).map(([k, v]) => apiText(`${k} = ${v}`, "code")),
          ),
      },
      { key: "action", label: "Action", numeric: false, cell: (r) => apiText(r.action) },
      {
        key: "parameters",
        label: "Parameters",
        numeric: false,
        sortable: false,
        cell: (r) => apiText(Object.keys(r.parameters).length ? JSON.stringify(r.parameters) : "–", "code"),
      },
      {
        key: "expected_success",
        label: "Expected success",
        numeric: true,
        cell: (r) =>
          h(
            "span",
            { class: "nowrap" },
            fmt.pct(r.expected_success, 1),
            h("small", { class: "basis" }, r.expected_success_basis === "kept" ? " of what it keeps" : " of what it favours"),
          ),
      },
      { key: "support", label: "Support", numeric: true, cell: (r) => fmt.int(r.support) },
    ],
    rules.items,
    { initialSort: "expected_success", empty: "No decision rule yet." },
  );
  ruleTable.element.id = "rules-table";

  return h(
    "div",
    { class: "view patterns" },
    h(
      "p",
      { class: "note" },
      patterns.learned_at
        ? `Learner state ${patterns.version}, learned ${fmt.time(patterns.learned_at)}.`
        : "Nothing learned yet: trigger a learning cycle.",
    ),
    panel("Patterns by category", scatter),
    panel(
      `Patterns (${patterns.items.length})`,
      h(
        "p",
        { class: "note" },
        "q-value: the false-discovery rate at which the pattern still counts as found (smaller is stronger evidence; " +
          "every pattern shown is under 0.05). Lift: success rate over the workspace's, with its 95% interval.",
      ),
      h("div", { class: "toolbar" }, category),
      h("div", { class: "scroll" }, patternTable.element),
    ),
    panel(
      `Decision rules (${rules.items.length})`,
      h(
        "p",
        { class: "note" },
        "Expected success is an approval rate: of the recommendations a rule favours, or, for a rule that avoids something " +
          "(an agent, unbacked or low-confidence advice), of the recommendations it keeps.",
      ),
      h("div", { class: "scroll" }, ruleTable.element),
    ),
  );
}
