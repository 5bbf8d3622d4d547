"""Dashboard benchmark: how long each view takes to load in headless Chromium, and how many API
requests it makes, against the local server seeded with simulated history.

    python -m bench.dashboard [--days 21] [--workflows-per-day 12] [--runs 5]   (from the repository root)

Seeds ``ws_demo`` as ``python -m localdev serve --history`` does, opens every view ``--runs``
times in one page (after one warm-up pass) and measures, in the page, from the hash change to the
view being ready with every chart drawn. Prints a machine line, the command and a markdown table.
Needs Chromium (``make browser``) and Playwright (dev requirements).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from pathlib import Path

from bench.report import (
    command_line,
    markdown_table,
    results_file,
    seeded_workspace,
    seeded_workspace_arguments,
)
from localdev import runtime

ROOT = Path(__file__).resolve().parent.parent

runtime.configure_environment()

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWS = ["overview", "agents", "agents/CONT-01", "patterns", "cycles", "routing"]
WORKSPACE = "ws_demo"

# Runs in the page: switch view, wait until it is ready and every chart drawn, return the time.
_MEASURE = """async (view) => {
  const started = performance.now();
  location.hash = '#/' + view;
  const name = view.split('/')[0];
  for (;;) {
    const target = document.getElementById('view');
    const charts = [...document.querySelectorAll('[data-chart]')];
    if (target.dataset.state === 'ready' && target.dataset.view === name
        && charts.every(c => c.dataset.drawn === 'true')) break;
    if (target.dataset.state === 'error') throw new Error('view failed: ' + view);
    await new Promise(r => requestAnimationFrame(r));
  }
  return performance.now() - started;
}"""


def main() -> int:
    args = seeded_workspace_arguments(__doc__).parse_args()

    from playwright.sync_api import sync_playwright

    from localdev.server import serving

    with runtime.embedded_aws() as functions, serving(functions, port=0, quiet=True) as server:
        key, seeded, seeding = seeded_workspace(WORKSPACE, args)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url) if "/api/v1/learning/" in r.url else None)
            page.goto(f"{server.url}/dashboard/")
            page.fill("#login-workspace", WORKSPACE)
            page.fill("#login-key", key)
            page.click("#login button[type=submit]")
            page.wait_for_selector("#view[data-state=ready]")
            for view in VIEWS[1:]:  # warm-up: modules, the library and the handlers load once
                page.evaluate(_MEASURE, view)
            rows = []
            for view in VIEWS:
                times, counts = [], []
                for _ in range(args.runs):  # from another view, so the hash changes
                    page.evaluate(_MEASURE, "cycles" if view != "cycles" else "routing")
                    requests.clear()
                    times.append(page.evaluate(_MEASURE, view))
                    counts.append(len(requests))
                rows.append((view, max(counts), statistics.median(times), max(times)))
            browser.close()

    with results_file(args.save):
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cpus, load average "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}, Python {platform.python_version()}"
        )
        print(f"command: {command_line('bench.dashboard')}")
        print(
            f"seeded: {seeded.days} days, {seeded.tracked} recommendations, {seeded.routing_decisions} routing "
            f"decisions, {seeded.learning_cycles} cycles, 8 agents ({seeding:.0f} s)\n"
        )
        print(
            markdown_table(
                ["view", "API requests", "median load (ms)", "slowest (ms)"],
                [(view, count, f"{median:.0f}", f"{slowest:.0f}") for view, count, median, slowest in rows],
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
