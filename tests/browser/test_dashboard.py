"""The dashboard in a real browser: headless Chromium (Debian's package) driven by Playwright,
against the in-process local server seeded with simulated history.

Skipped, with the reason, only when no Chromium or Playwright is installed AND not in CI; in CI
(``CI`` set) it must run (``.ci/run`` installs Chromium). Screenshots of every view go to a
temporary directory, or to ``$DASHBOARD_SCREENSHOTS`` (``docs/img`` refreshes the README's)."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.devkey import issue_dev_key
from localdev.history import seed_history
from localdev.runtime import embedded_aws
from localdev.server import LocalApiServer, serving

pytestmark = pytest.mark.slow  # a browser, and weeks of history seeded

WORKSPACE = "ws_demo"
HOSTILE = "<img src=x onerror=alert(1)> \u202etxt.exe"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWS = {  # view -> the number of API requests its tables and charts may make
    "overview": 4,
    "agents": 2,
    "agents/CONT-01": 4,
    "patterns": 2,
    "cycles": 1,
    "routing": 3,  # the series, the decisions, and routing/evaluate
}
TIMEOUT_MS = 30_000
# Small enough to seed in well under a minute; the README's screenshots use more
# (DASHBOARD_HISTORY_DAYS=21 DASHBOARD_WORKFLOWS_PER_DAY=12).
HISTORY_DAYS = int(os.environ.get("DASHBOARD_HISTORY_DAYS", "8"))
WORKFLOWS_PER_DAY = int(os.environ.get("DASHBOARD_WORKFLOWS_PER_DAY", "5"))


def _browser_or_skip() -> Any:
    in_ci = bool(os.environ.get("CI"))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if in_ci:
            raise
        pytest.skip("playwright is not installed (make setup installs it)")
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        if in_ci:
            pytest.fail(f"no Chromium at {CHROMIUM}: CI must install it (apt-get install -y chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium); runs in CI")
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(browser: Any) -> Iterator[LocalApiServer]:
    with embedded_aws() as functions, serving(functions, port=0) as running:
        yield running


@pytest.fixture(scope="module")
def api_key(server: LocalApiServer) -> str:
    key = issue_dev_key((WORKSPACE,))
    seed_history(
        WORKSPACE, days=HISTORY_DAYS, workflows_per_day=WORKFLOWS_PER_DAY, seed=11, min_pattern_confidence=0.5
    )
    # An agent whose name, reasoning and feedback try markup and a right-to-left override.
    tracked = _call(
        server,
        key,
        "/recommendations/track",
        {
            "workspace_id": WORKSPACE,
            "agent_id": "MAL-01",
            "agent_name": "Mallory <b>bold</b>",
            "recommendation_type": "strategy",
            "recommendation_content": {"action": "noop"},
            "confidence_score": 0.9,
            "reasoning": HOSTILE,
            "input_tokens": 1200,
            "output_tokens": 300,
        },
    )
    _call(
        server,
        key,
        "/outcomes/evaluate",
        {
            "workspace_id": WORKSPACE,
            "recommendation_id": tracked["recommendation_id"],
            "overall_quality_score": 40,
            "evaluator_feedback": f"feedback {HOSTILE}",
        },
    )
    server.functions.run_job("trust-refresh")  # MAL-01 gets a snapshot too,
    _call(
        server,
        key,
        "/learning-cycles/trigger",
        {"workspace_id": WORKSPACE, "lookback_days": 14, "min_pattern_confidence": 0.5},
    )
    server.functions.deliver_events()  # the cycle runs: MAL-01 gets a profile
    return key


def _call(server: LocalApiServer, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.url}/api/v1/learning{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return json.loads(response.read())


# What makes a view look unfinished, read in the page: text that is a JavaScript value instead of
# a figure, elements wider than the window (outside a scrolling box), chart labels cut at their canvas.
DEFECTS = """() => {
    const problems = [];
    const text = document.querySelector('#view').innerText;
    for (const word of ['NaN', 'undefined', 'null', 'Infinity', 'object Object']) {
        const at = text.search(new RegExp('(^|[^A-Za-z_])' + word + '($|[^A-Za-z_])'));
        if (at >= 0) problems.push(`text "${word}": ...${text.slice(Math.max(0, at - 40), at + 40)}...`);
    }
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1) {
        problems.push(`page ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
    }
    const scrolls = (e) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX);
    for (const element of document.querySelectorAll('body *')) {
        const box = element.getBoundingClientRect();
        if (!box.width || (box.left >= -1 && box.right <= width + 1)) continue;
        // Inside a box that scrolls (or clips) and itself fits the window: seen through that box.
        let clip = element.parentElement;
        while (clip && clip !== document.body) {
            const edge = clip.getBoundingClientRect();
            if (scrolls(clip) && edge.left >= -1 && edge.right <= width + 1) break;
            clip = clip.parentElement;
        }
        if (clip && clip !== document.body) continue;
        const name = element.id ? '#' + element.id : element.tagName.toLowerCase() + '.' + element.getAttribute('class');
        problems.push(`${name} spans ${Math.round(box.left)}..${Math.round(box.right)}px in a ${width}px window`);
    }
    // Text that runs past its box (a long word in a narrow card) is not in any element's box.
    const walker = document.createTreeWalker(document.querySelector('#view'), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(walker.currentNode);
        const box = range.getBoundingClientRect();
        if (!box.width || (box.left >= -1 && box.right <= width + 1)) continue;
        let clip = walker.currentNode.parentElement;
        while (clip && clip !== document.body) {
            const edge = clip.getBoundingClientRect();
            if (scrolls(clip) && edge.left >= -1 && edge.right <= width + 1) break;
            clip = clip.parentElement;
        }
        if (clip && clip !== document.body) continue;
        problems.push(`text "${walker.currentNode.textContent.slice(0, 40)}" runs to ${Math.round(box.right)}px in a ${width}px window`);
    }
    for (const chart of document.querySelectorAll('[data-chart]')) {
        if (chart.dataset.labelsOutside !== '0') {
            problems.push(`chart "${chart.dataset.chart}": labels cut at its canvas: ${chart.dataset.labelsOutsideText}`);
        }
    }
    return problems;
}"""


class Page:
    """A page with its console errors, uncaught errors, dialogs and API requests recorded."""

    def __init__(self, browser: Any, server: LocalApiServer, width: int = 1360) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.server = server
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )

    def login(self, key: str, workspace: str = WORKSPACE) -> None:
        self.page.goto(f"{self.server.url}/dashboard/")
        self.page.fill("#login-workspace", workspace)
        self.page.fill("#login-key", key)
        self.page.click("#login button[type=submit]")

    def open(self, view: str) -> None:
        self.requests.clear()
        self.page.evaluate("view => { location.hash = '#/' + view }", view)
        name = view.split("/")[0]
        self.page.wait_for_selector(f"#view[data-state=ready][data-view='{name}']")
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('[data-chart]')].every(c => c.dataset.drawn === 'true')"
        )

    def defects(self) -> list[str]:
        return list(self.page.evaluate(DEFECTS))

    def api_requests(self) -> list[str]:
        return [u for u in self.requests if "/api/v1/learning/" in u]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser: Any, server: LocalApiServer) -> Iterator[Page]:
    opened = Page(browser, server)
    yield opened
    opened.close()


def _screenshots() -> Path | None:
    target = os.environ.get("DASHBOARD_SCREENSHOTS")
    return Path(target) if target else None


def test_every_view_loads_draws_its_charts_and_logs_no_error(
    page: Page, api_key: str, tmp_path: Path
) -> None:
    page.login(api_key)
    shots = _screenshots() or tmp_path
    for view, allowed_requests in VIEWS.items():
        page.open(view)
        charts = page.page.eval_on_selector_all(
            "#view [data-chart]",
            """charts => charts.map(c => {
                const canvas = c.querySelector('canvas');
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = 0;
                for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
                return {name: c.dataset.chart, series: +c.dataset.series, marks: +c.dataset.marks, painted};
            })""",
        )
        assert charts, f"{view} has no chart"
        for chart in charts:
            assert chart["series"] > 0, (view, chart)
            assert chart["marks"] > 0, (view, chart)
            assert chart["painted"] > 500, (view, chart)  # axes, labels and marks on the canvas
        # One request per table or chart at most: never one per agent or per row.
        assert len(page.api_requests()) <= allowed_requests, (view, page.api_requests())
        assert page.defects() == [], view
        name = view.replace("/CONT-01", "-detail")
        page.page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=True)
    assert not page.errors, page.errors
    assert not page.dialogs


def test_every_view_fits_a_420_px_window(
    browser: Any, server: LocalApiServer, api_key: str, tmp_path: Path
) -> None:
    """A phone-sized window: nothing wider than the window (tables scroll in their own box), no
    chart label cut off, no stray JavaScript value in the text."""
    narrow = Page(browser, server, width=420)
    try:
        narrow.login(api_key)
        shots = _screenshots() or tmp_path
        for view in [*VIEWS, "agents/ANLY-01"]:  # ANLY-01: the declining agent (a long word in a card)
            narrow.open(view)
            defects = narrow.defects()
            assert defects == [], (view, defects)
            header = narrow.page.eval_on_selector("header.top", "h => h.getBoundingClientRect().width")
            assert header == narrow.page.evaluate("() => document.documentElement.clientWidth")
            if view == "overview":
                narrow.page.screenshot(path=str(shots / "dashboard-overview-420.png"), full_page=True)
        assert not narrow.errors, narrow.errors
    finally:
        narrow.close()


def test_the_overviews_figures_are_the_workspace_stats(page: Page, api_key: str) -> None:
    """The overview sums its daily series instead of asking GET /stats too: the same figures."""
    page.login(api_key)
    page.open("overview")
    shown = dict(
        zip(
            page.page.locator(".kpi-label").all_inner_texts(),
            page.page.locator(".kpi-value").all_inner_texts(),
            strict=True,
        )
    )
    query = urllib.parse.urlencode({"workspace_id": WORKSPACE, "days": 30})
    request = urllib.request.Request(
        f"{page.server.url}/api/v1/learning/stats?{query}", headers={"Authorization": f"Bearer {api_key}"}
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30) as response:
        stats = json.loads(response.read())
    counts = stats["overall"]["counts"]
    assert counts["evaluated"] > 0
    assert shown == {
        "Tracked (30 days)": f"{counts['tracked']:,}",
        "Evaluated": f"{counts['evaluated']:,}",
        "Approval rate": f"{stats['overall']['approval_rate'] * 100:.1f}%",
        "Pending outcomes": f"{counts['pending']:,}",
        "Agents": f"{stats['agents']:,}",
    }


def test_agents_view_draws_an_interval_and_a_sparkline_per_agent(page: Page, api_key: str) -> None:
    page.login(api_key)
    page.open("agents")
    rows = page.page.eval_on_selector_all("#agents-table tbody tr", "rows => rows.length")
    assert rows >= 8
    assert page.page.eval_on_selector_all("#agents-table svg.interval", "s => s.length") == rows
    marks = page.page.eval_on_selector_all("#agents-table svg.sparkline", "s => s.map(x => +x.dataset.marks)")
    assert len(marks) == rows
    assert sum(m >= 5 for m in marks) >= 8  # the seeded agents have a snapshot per day
    # Tokens per recommendation beside approval: MAL-01 reported 1,500; the seeded agents none.
    assert page.page.inner_text("#agents-table th[data-key=avg_tokens]").startswith("Tokens / rec.")
    tokens = dict(
        zip(
            [n.splitlines()[-1] for n in _column(page, "#agents-table", 0)],
            _column(page, "#agents-table", 9),
            strict=True,
        )
    )
    assert tokens["MAL-01"] == "1500"
    assert {v for k, v in tokens.items() if k != "MAL-01"} == {"\u2013"}  # an en dash: none reported
    assert not page.errors, page.errors


def _column(page: Page, table: str, index: int) -> list[str]:
    return page.page.eval_on_selector_all(
        f"{table} tbody tr", f"rows => rows.map(r => r.children[{index}].innerText.trim())"
    )


def test_agents_sort_by_any_column_and_filter(page: Page, api_key: str) -> None:
    page.login(api_key)
    page.open("agents")
    evaluated = "#agents-table th[data-key=evaluated]"
    page.page.click(f"{evaluated} button")
    assert page.page.get_attribute(evaluated, "aria-sort") == "descending"
    counts = [int(v.replace(",", "")) for v in _column(page, "#agents-table", 10)]
    assert counts == sorted(counts, reverse=True)
    page.page.click(f"{evaluated} button")
    assert page.page.get_attribute(evaluated, "aria-sort") == "ascending"
    counts = [int(v.replace(",", "")) for v in _column(page, "#agents-table", 10)]
    assert counts == sorted(counts)

    page.page.click("#agents-table th[data-key=agent_name] button")
    names = [n.splitlines()[0].lower() for n in _column(page, "#agents-table", 0)]
    assert names in (sorted(names), sorted(names, reverse=True))

    page.page.fill("#agents-filter", "cont-")
    ids = [n.splitlines()[-1] for n in _column(page, "#agents-table", 0)]
    assert ids
    assert all(i.startswith("CONT-") for i in ids)
    page.page.fill("#agents-filter", "no such agent")
    assert page.page.get_attribute("#agents-table", "data-rows") == "0"
    page.page.fill("#agents-filter", "")
    page.page.select_option("#agents-trend", "stable")
    trends = _column(page, "#agents-table", 6)
    assert trends
    assert set(trends) == {"stable"}
    assert not page.errors, page.errors


def test_patterns_filter_by_category(page: Page, api_key: str) -> None:
    page.login(api_key)
    page.open("patterns")
    total = int(page.page.get_attribute("#patterns-table", "data-rows"))
    assert total > 0
    categories = set(_column(page, "#patterns-table", 0))
    chosen = sorted(categories)[0]
    page.page.select_option("#patterns-category", chosen.replace(" ", "_"))
    shown = _column(page, "#patterns-table", 0)
    assert set(shown) == {chosen}
    assert len(shown) <= total
    assert int(page.page.get_attribute("#rules-table", "data-rows")) > 0
    assert not page.errors, page.errors


def test_a_wrong_key_says_so_and_loads_nothing(page: Page, api_key: str) -> None:
    page.login("swl_not_a_key_0123456789")
    page.page.wait_for_selector("#message:not([hidden])")
    message = page.page.inner_text("#message")
    assert "API key was refused (401)" in message
    assert page.page.is_visible("#login")
    assert page.page.eval_on_selector("#view", "v => v.children.length") == 0
    assert page.page.eval_on_selector_all("[data-chart]", "c => c.length") == 0
    assert page.page.evaluate("() => sessionStorage.getItem('swarm-learning.api-key')") is None
    # The key never travels in a URL, right or wrong.
    page.login(api_key)
    page.page.wait_for_selector("#view[data-state=ready]")
    assert all("swl_" not in url for url in page.requests)
    assert page.page.evaluate("() => localStorage.length + document.cookie.length") == 0
    assert [e for e in page.errors if "401" not in e] == []  # the browser logs the refused request


def test_hostile_text_from_the_api_is_shown_inert(page: Page, api_key: str) -> None:
    page.login(api_key)
    page.open("agents/MAL-01")
    view = page.page.inner_text("#view")
    assert "<img src=x onerror=alert(1)>" in view
    assert "Mallory <b>bold</b>" in view
    assert "\u2039U+202E\u203a" in view  # the override is shown, not obeyed
    assert "\u202e" not in view
    assert page.page.eval_on_selector_all("#view img, #view b", "e => e.length") == 0
    page.open("agents")
    assert "Mallory <b>bold</b>" in page.page.inner_text("#agents-table")
    assert page.dialogs == []
    assert not page.errors, page.errors


def test_worth_knowing_is_the_alert_feed_with_times_and_links(page: Page, api_key: str) -> None:
    """GET /alerts as the overview's feed: newest first, each with its time and a link into the
    dashboard; an alert's text is shown as text, and a path that is not the dashboard's is no link."""
    from swarm_learning.domain.alert_state import Change
    from swarm_learning.services.alerts.service import get_alert_raiser
    from swarm_learning.vocabulary import AlertKind

    raised = [
        (
            AlertKind.AGENT_TRUST_DECLINED,
            "ANLY-01",
            "#/agents/ANLY-01",
            {"outcomes_before": 40, "outcomes_after": 30},
        ),
        (AlertKind.LEARNING_CYCLE_FAILED, None, "javascript:alert(1)", {"error": HOSTILE}),
    ]
    for number, (kind, agent, path, details) in enumerate(raised):
        change = Change(kind, 0.8, 0.3, 70, details)
        get_alert_raiser().apply(
            WORKSPACE,
            f"browser#{number}",
            lambda _current, change=change: ({"status": "changed"}, change),
            agent_id=agent,
            dashboard_path=path,
        )
    page.login(api_key)
    page.open("overview")
    items = page.page.locator(".alarms li")
    first, second = items.nth(0), items.nth(1)
    assert first.get_attribute("data-kind") == "LearningCycleFailed"
    assert "<img src=x onerror=alert(1)>" in first.inner_text()
    assert first.locator("a").count() == 0  # not a dashboard path: no link
    assert second.get_attribute("data-kind") == "AgentTrustDeclined"
    assert "ANLY-01 performance declined: approval 30% after 80% (70 outcomes)" in second.inner_text()
    assert second.locator("time").get_attribute("datetime")
    assert " UTC" in second.locator("time").inner_text()
    assert second.locator("a").get_attribute("href") == "#/agents/ANLY-01"
    second.locator("a").click()
    page.page.wait_for_function("() => location.hash === '#/agents/ANLY-01'")
    assert page.dialogs == []
    assert not page.errors, page.errors


def test_the_trigger_button_runs_a_cycle_and_follows_it(page: Page, api_key: str) -> None:
    page.login(api_key)
    page.open("cycles")
    before = page.page.eval_on_selector_all("#cycles-list details", "d => d.length")
    page.page.click("#trigger-cycle")
    page.page.wait_for_selector("#cycle-status[data-final]", timeout=120_000)
    assert page.page.get_attribute("#cycle-status", "data-final") == "succeeded"
    polled = [u for u in page.api_requests() if "/learning-cycles/iter_" in u]
    assert polled  # it followed the iteration
    page.page.wait_for_function(
        f"() => document.querySelectorAll('#cycles-list details').length > {before}", timeout=TIMEOUT_MS
    )
    assert not page.errors, page.errors


def test_the_routing_view_answers_is_routing_helping(page: Page, api_key: str) -> None:
    page.login(api_key)
    page.open("routing")
    # The seeded history routes each workflow's lead: its decisions have outcomes to judge.
    rows = page.page.locator("#routing-evaluation-table tbody tr")
    assert rows.count() == 5  # four policies and the best fixed agent
    assert "Logged approval" in page.page.inner_text("#view")
    assert page.page.locator("[data-chart='Policy estimates'][data-drawn=true]").count() == 1
    assert not page.errors, page.errors
