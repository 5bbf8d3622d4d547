"""The development API key of the local server: issued in the embedded store at start, saved to
``.localdev/api-key`` (mode 0600, git-ignored) so the demo, the job command and curl find it."""

from __future__ import annotations

import os
from pathlib import Path

DEV_KEY_FILE = Path(__file__).resolve().parent.parent / ".localdev" / "api-key"
DEFAULT_DEV_WORKSPACES = ("ws_demo", "ws_123")


def issue_dev_key(workspaces: tuple[str, ...] = DEFAULT_DEV_WORKSPACES, *, save: bool = True) -> str:
    """A development API key in the embedded store, for the demo and curl; saved (mode 0600) to
    ``.localdev/api-key`` so other local commands find it. It dies with the server's store."""
    from swarm_learning.apikeys import KeyRequest, get_key_service

    token = get_key_service().issue(KeyRequest(name="local development", workspaces=list(workspaces))).api_key
    if save:
        DEV_KEY_FILE.parent.mkdir(exist_ok=True)
        DEV_KEY_FILE.touch(mode=0o600)
        DEV_KEY_FILE.write_text(token + "\n")
    return token


def saved_dev_key() -> str | None:
    """The key the local server issued last (``SWARM_API_KEY`` wins when set)."""
    if os.environ.get("SWARM_API_KEY"):
        return os.environ["SWARM_API_KEY"]
    return DEV_KEY_FILE.read_text().strip() if DEV_KEY_FILE.exists() else None
