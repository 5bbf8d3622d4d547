// Charts with Apache ECharts (vendored, see vendor/echarts/README.md). Each chart container
// records how many marks it drew (data-marks), its series count (data-series) and how many of its
// text labels reach outside its canvas (data-labels-outside, with their text), which the browser
// tests read; tooltips render as text (renderMode "richText"), never as HTML.
import * as echarts from "../vendor/echarts/echarts.esm.min.js";
import { h } from "./dom.js";

const live = new Set();
const PALETTE = ["#2f6fdf", "#e0752d", "#2a9d6a", "#c2417a", "#7a56d1", "#8c8c2e", "#1f9bb5", "#b34a3c"];

window.addEventListener("resize", () => {
  for (const chart of live) chart.resize();
});

export function disposeCharts() {
  for (const chart of live) chart.dispose();
  live.clear();
}

function base(option) {
  return {
    animation: false,
    color: PALETTE,
    textStyle: { fontFamily: "system-ui, sans-serif" },
    grid: { left: 48, right: 24, top: 56, bottom: 40, containLabel: true },
    tooltip: { trigger: "axis", renderMode: "richText", confine: true },
    legend: { top: 0, type: "scroll" },
    ...option,
  };
}

/** A chart in a new container; returns the container element. */
export function chart(name, option, { height = 280 } = {}) {
  const container = h("div", { class: "chart", dataset: { chart: name }, role: "img", "aria-label": name });
  container.style.height = `${height}px`;
  // Drawn once the container is in the page (it needs a size).
  requestAnimationFrame(() => {
    if (!container.isConnected) return;
    const instance = echarts.init(container, null, { renderer: "canvas" });
    instance.setOption(base(option));
    live.add(instance);
    const series = instance.getOption().series || [];
    const marks = series.reduce((total, s) => total + (Array.isArray(s.data) ? s.data.length : 0), 0);
    container.dataset.series = String(series.length);
    container.dataset.marks = String(marks);
    const outside = labelsOutside(instance);
    container.dataset.labelsOutside = String(outside.length);
    if (outside.length) container.dataset.labelsOutsideText = outside.join(" | ");
    container.dataset.drawn = "true";
  });
  return container;
}

/** The part of an element the reader can see: its box in the canvas, cut by the clip paths it is
 * drawn under (a scrolling legend shows one page); null when nothing of it shows. */
function visiblePart(element) {
  const rect = element.getBoundingRect().clone();
  if (element.transform) rect.applyTransform(element.transform);
  for (const clip of element.__clipPaths || []) {
    const bounds = clip.getBoundingRect().clone();
    if (clip.transform) bounds.applyTransform(clip.transform);
    const x = Math.max(rect.x, bounds.x);
    const y = Math.max(rect.y, bounds.y);
    const right = Math.min(rect.x + rect.width, bounds.x + bounds.width);
    const bottom = Math.min(rect.y + rect.height, bounds.y + bounds.height);
    if (right - x <= 1 || bottom - y <= 1) return null;
    rect.x = x;
    rect.y = y;
    rect.width = right - x;
    rect.height = bottom - y;
  }
  return rect;
}

/** The texts the chart drew (axis labels, value labels, legends) that reach past its canvas (cut
 * off where the reader cannot see them) or lie on top of one another. */
function labelsOutside(instance) {
  const width = instance.getWidth();
  const height = instance.getHeight();
  const problems = [];
  const drawn = [];
  for (const element of instance.getZr().storage.getDisplayList(true)) {
    if (element.type !== "tspan" || element.invisible || element.ignore) continue;
    const text = element.style && element.style.text;
    if (!text) continue;
    const rect = visiblePart(element);
    if (!rect) continue; // wholly clipped (a scrolling legend's hidden page)
    if (rect.x < -1 || rect.y < -1 || rect.x + rect.width > width + 1 || rect.y + rect.height > height + 1) {
      problems.push(`${text} (outside)`);
    }
    for (const [other, otherRect] of drawn) {
      const overlapX = Math.min(rect.x + rect.width, otherRect.x + otherRect.width) - Math.max(rect.x, otherRect.x);
      const overlapY = Math.min(rect.y + rect.height, otherRect.y + otherRect.height) - Math.max(rect.y, otherRect.y);
      if (overlapX > 2 && overlapY > 2) problems.push(`${text} (over ${other})`);
    }
    drawn.push([String(text), rect]);
  }
  return problems;
}

export const axis = {
  days(days) {
    return { type: "category", data: days, axisLabel: { formatter: (d) => String(d).slice(5) } };
  },
  unit(name = "") {
    return { type: "value", min: 0, max: 1, name, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } };
  },
  /** A time axis whose labels never run into each other (minutes of demo data, or a phone). */
  time() {
    return { type: "time", axisLabel: { hideOverlap: true } };
  },
  /** A horizontal 0–100% axis whose end labels stay inside the chart ("100%" is not cut at the edge). */
  unitAcross(name = "") {
    const unit = axis.unit(name);
    return { ...unit, axisLabel: { ...unit.axisLabel, alignMinLabel: "left", alignMaxLabel: "right" } };
  },
  count(name = "") {
    return { type: "value", name, minInterval: 1 };
  },
};

/** A line with a shaded band between lower and upper (stacked: the band is upper - lower). */
export function bandSeries(name, points, color) {
  return [
    {
      name: `${name} lower`,
      type: "line",
      data: points.map((p) => [p.x, p.lower]),
      lineStyle: { opacity: 0 },
      stack: name,
      symbol: "none",
      tooltip: { show: false },
      legendHoverLink: false,
    },
    {
      name: `${name} interval`,
      type: "line",
      data: points.map((p) => [p.x, p.upper === null ? null : p.upper - p.lower]),
      lineStyle: { opacity: 0 },
      areaStyle: { color, opacity: 0.18 },
      stack: name,
      symbol: "none",
      tooltip: { show: false },
    },
    {
      name,
      type: "line",
      data: points.map((p) => [p.x, p.value]),
      itemStyle: { color },
      lineStyle: { width: 2 },
      symbolSize: 5,
    },
  ];
}

export { PALETTE };
