"""The dashboard's static files, served by the local server under ``/dashboard/`` from the
repository's ``dashboard/`` directory (deployed: the same files from S3 behind CloudFront)."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
DASHBOARD_PATH = "/dashboard/"
# As CloudFront's response headers policy sends them (template.yaml), with the API on this origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def is_dashboard(path: str) -> bool:
    return path == DASHBOARD_PATH.rstrip("/") or path.startswith(DASHBOARD_PATH)


def dashboard_file(path: str, method: str) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for a GET or HEAD of ``path`` (under ``/dashboard``)."""
    if method not in ("GET", "HEAD"):
        return HTTPStatus.METHOD_NOT_ALLOWED, b"", {"Allow": "GET, HEAD", "Content-Type": "text/plain"}
    if not path.startswith(DASHBOARD_PATH):  # /dashboard -> /dashboard/, so relative URLs resolve
        return HTTPStatus.MOVED_PERMANENTLY, b"", {"Location": DASHBOARD_PATH, "Content-Type": "text/plain"}
    relative = path.removeprefix(DASHBOARD_PATH) or "index.html"
    file = (DASHBOARD_DIR / relative).resolve()
    # Only the dashboard's own files: no escaping the directory, no dotfiles, no npm metadata.
    inside = file.is_relative_to(DASHBOARD_DIR) and not any(p.startswith(".") for p in file.parts)
    if not inside or not file.is_file() or file.suffix not in _TYPES or file.name.startswith("package"):
        return HTTPStatus.NOT_FOUND, b"not found", {"Content-Type": "text/plain"}
    body = file.read_bytes()
    return (
        HTTPStatus.OK,
        b"" if method == "HEAD" else body,
        {"Content-Type": _TYPES[file.suffix], **SECURITY_HEADERS},
    )
