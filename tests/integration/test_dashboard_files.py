"""The dashboard's static files: served by the local server under /dashboard/ with the same
security headers CloudFront sends, nothing outside the directory, nothing from a CDN, the
charting library pinned and licensed, and no HTML built from strings."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator

import pytest

from localdev.dashboard import DASHBOARD_DIR
from localdev.runtime import embedded_aws
from localdev.server import LocalApiServer, serving


@pytest.fixture(scope="module")
def server() -> Iterator[LocalApiServer]:
    with embedded_aws() as functions, serving(functions, port=0) as running:
        yield running


def _get(server: LocalApiServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    connection.request(method, path)  # sent as written: no client-side normalisation of ".."
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_the_page_and_its_modules_are_served_with_security_headers(server: LocalApiServer) -> None:
    status, headers, body = _get(server, "/dashboard/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "connect-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert b'<script type="module" src="js/app.js">' in body
    status, headers, _ = _get(server, "/dashboard/vendor/echarts/echarts.esm.min.js")
    assert (status, headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    status, headers, body = _get(server, "/dashboard/config.json")
    assert (status, json.loads(body)) == (200, {"api_base": "/api/v1/learning"})
    status, headers, body = _get(server, "/dashboard/", method="HEAD")
    assert (status, body) == (200, b"")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/dashboard", 301),
        ("/dashboard/../pyproject.toml", 404),
        ("/dashboard/js/../../template.yaml", 404),
        ("/dashboard/package.json", 404),
        ("/dashboard/vendor/echarts/README.md", 404),
        ("/dashboard/nothing.js", 404),
    ],
)
def test_nothing_outside_the_dashboards_own_files_is_served(
    server: LocalApiServer, path: str, status: int
) -> None:
    answered, headers, _ = _get(server, path)
    assert answered == status
    if status == 301:
        assert headers["location"] == "/dashboard/"


def test_only_get_and_head(server: LocalApiServer) -> None:
    assert _get(server, "/dashboard/", method="POST")[0] == 405


def _own_sources() -> list[tuple[str, str]]:
    files = [
        DASHBOARD_DIR / "index.html",
        DASHBOARD_DIR / "styles.css",
        *sorted(DASHBOARD_DIR.glob("js/**/*.js")),
    ]
    return [(str(f.relative_to(DASHBOARD_DIR)), f.read_text()) for f in files]


def test_nothing_loads_from_elsewhere_and_no_html_is_built_from_strings() -> None:
    sources = _own_sources()
    assert len(sources) >= 10
    for name, text in sources:
        assert not re.search(r"""(src|href)\s*=\s*["']https?:""", text), name
        assert not re.search(r"""(import|from)\s*\(?\s*["']https?:""", text), name
        assert not re.search(r"@import|url\(\s*['\"]?https?:", text), name
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, (name, sink)
        assert "localStorage.setItem" not in text, name  # the key lives in sessionStorage only


def test_the_charting_library_is_the_pinned_release_with_its_licences() -> None:
    pinned = json.loads((DASHBOARD_DIR / "package.json").read_text())["dependencies"]["echarts"]
    locked = json.loads((DASHBOARD_DIR / "package-lock.json").read_text())["packages"]["node_modules/echarts"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)  # an exact version, not a range
    assert locked["version"] == pinned
    assert locked["integrity"].startswith("sha512-")
    vendored = DASHBOARD_DIR / "vendor" / "echarts"
    assert f'version:"{pinned}"' in (vendored / "echarts.esm.min.js").read_text()
    assert "Apache License" in (vendored / "LICENSE").read_text()
    for licence in ("NOTICE", "LICENSE-zrender", "LICENSE-d3", "LICENSE-tslib"):
        assert (vendored / licence).stat().st_size > 100
