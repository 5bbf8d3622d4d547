// The dashboard: asks for the workspace and API key, then shows one view at a time (#/overview,
// #/agents, #/agents/<id>, #/patterns, #/cycles, #/routing).
import { ApiError, session } from "./api.js";
import { disposeCharts } from "./charts.js";
import { clear, h } from "./dom.js";
import { agentView } from "./views/agent.js";
import { agentsView } from "./views/agents.js";
import { cyclesView } from "./views/cycles.js";
import { overviewView } from "./views/overview.js";
import { patternsView } from "./views/patterns.js";
import { routingView } from "./views/routing.js";

const VIEWS = {
  overview: overviewView,
  agents: agentsView,
  patterns: patternsView,
  cycles: cyclesView,
  routing: routingView,
};

const $ = (id) => document.getElementById(id);
let rendering = 0;

function showMessage(text, kind = "error") {
  const message = $("message");
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

function showLogin(reason) {
  disposeCharts();
  clear($("view"));
  $("nav").hidden = true;
  $("session").hidden = true;
  $("login").hidden = false;
  if (session.workspace) $("login-workspace").value = session.workspace;
  $("login-key").value = "";
  showMessage(reason || "", "error");
  $("login-key").focus();
}

async function render() {
  if (!session.key || !session.workspace) {
    showLogin();
    return;
  }
  const current = ++rendering;
  const [, name = "overview", ...rest] = (location.hash || "#/overview").split("/");
  const view = name === "agents" && rest.length ? agentView : VIEWS[name] || overviewView;
  $("login").hidden = true;
  $("nav").hidden = false;
  $("session").hidden = false;
  $("session-workspace").textContent = `Workspace ${session.workspace}`;
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.dataset.view === name);
  }
  showMessage("");
  disposeCharts();
  const target = clear($("view"));
  target.dataset.state = "loading";
  target.append(h("p", { class: "loading" }, "Loading…"));
  try {
    const content = await view(rest.map(decodeURIComponent), { rerender: render });
    if (current !== rendering) return; // the reader moved on meanwhile
    clear(target).append(content);
    target.dataset.view = name;
    target.dataset.state = "ready";
  } catch (error) {
    if (current !== rendering) return;
    clear(target);
    target.dataset.state = "error";
    if (error instanceof ApiError && error.status === 401) {
      session.forget(); // nothing is loaded with a refused key
      showLogin(error.message);
      return;
    }
    showMessage(error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`);
    if (!(error instanceof ApiError)) console.error(error);
  }
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const workspace = $("login-workspace").value.trim();
  const key = $("login-key").value.trim();
  if (!$("login").reportValidity()) return;
  session.open(workspace, key);
  $("login-key").value = "";
  if (location.hash) render();
  else location.hash = "#/overview"; // renders on hashchange
});

$("sign-out").addEventListener("click", () => {
  session.forget();
  showLogin("The key is forgotten. Enter it again to continue.");
});

window.addEventListener("hashchange", render);
render();
