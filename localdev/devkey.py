"""Where a local server keeps its files, its development API key, and how commands find it.

Each server has its own directory, ``.localdev/<port>/`` (git-ignored; ``LOCALDEV_STATE_DIR``
moves the root): ``api-key`` (mode 0600), ``url`` while it runs, and the snapshot and journal of
its embedded DynamoDB (``localdev.persistence``). Two servers on two ports never share a file; ``make demo``,
``python -m localdev job`` and ``python -m admin keys --local`` find the running one through
its ``url`` file.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_STATE_ROOT = Path(__file__).resolve().parent.parent / ".localdev"
DEFAULT_DEV_WORKSPACES = ("ws_demo", "ws_123")


class NoLocalServer(SystemExit):
    """No running local server matches: one line to print, exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def state_root() -> Path:
    return Path(os.environ.get("LOCALDEV_STATE_DIR") or DEFAULT_STATE_ROOT)


@dataclass(frozen=True)
class ServerFiles:
    directory: Path

    @classmethod
    def for_port(cls, port: int) -> ServerFiles:
        return cls(state_root() / str(port))

    @property
    def key(self) -> Path:
        return self.directory / "api-key"

    @property
    def url(self) -> Path:
        return self.directory / "url"

    @property
    def store(self) -> Path:
        """What names the snapshot and journal of its embedded DynamoDB (``localdev.persistence``)."""
        return self.directory / "store.json"

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def write_private(self, path: Path, text: str) -> None:
        path.touch(mode=0o600)
        path.write_text(text + "\n")

    def saved_key(self) -> str | None:
        return self.key.read_text().strip() if self.key.exists() else None


def dev_key(files: ServerFiles, workspaces: tuple[str, ...] = DEFAULT_DEV_WORKSPACES) -> tuple[str, bool]:
    """The server's development key and whether it is new: the saved one while the store still
    holds it (and it allows ``workspaces``), else a new one, saved. Call inside the embedded AWS."""
    from swarm_learning.services.keys.service import InvalidApiKeyError, KeyRequest, get_key_service

    keys = get_key_service()
    saved = files.saved_key()
    if saved:
        try:
            if set(workspaces) <= set(keys.authenticate(saved).workspaces):
                return saved, False
        except InvalidApiKeyError:
            pass  # the data it belonged to is gone (--fresh, make reset) or it was revoked
    token = keys.issue(KeyRequest(name="local development", workspaces=list(workspaces))).api_key
    files.create()
    files.write_private(files.key, token)
    return token, True


def issue_dev_key(workspaces: tuple[str, ...] = DEFAULT_DEV_WORKSPACES) -> str:
    """A new development key in the embedded store, not saved anywhere (tests, in-process demos)."""
    from swarm_learning.services.keys.service import KeyRequest, get_key_service

    return get_key_service().issue(KeyRequest(name="local development", workspaces=list(workspaces))).api_key


@dataclass(frozen=True)
class RunningServer:
    url: str
    files: ServerFiles | None  # None: a URL given by hand that no local directory names

    def key(self) -> str | None:
        """``SWARM_API_KEY`` when set, else the key this server saved."""
        return os.environ.get("SWARM_API_KEY") or (self.files.saved_key() if self.files else None)


def _answers(url: str) -> bool:
    """Whether a server listens at ``url``. A connection, not a request: a busy server (a learning
    cycle holds its one request slot) still accepts connections at once."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=2):
            return True
    except OSError:
        return False


def running_servers() -> list[RunningServer]:
    """The local servers whose ``url`` file is there and who listen at that URL."""
    found = []
    root = state_root()
    for url_file in sorted(root.glob("*/url")) if root.exists() else []:
        url = url_file.read_text().strip()
        if url and _answers(url):
            found.append(RunningServer(url, ServerFiles(url_file.parent)))
    return found


def find_server(url: str | None = None) -> RunningServer:
    """The running local server at ``url``, or the only one running; else ``NoLocalServer``."""
    if url:
        url = url.rstrip("/")
        if not _answers(url):
            raise NoLocalServer(f"no local server answers at {url}; start one with `make run`")
        named = next((s for s in running_servers() if s.url == url), None)
        return named or RunningServer(url, None)
    servers = running_servers()
    if not servers:
        raise NoLocalServer("no local server is running; start one with `make run` (or pass --url)")
    if len(servers) > 1:
        urls = ", ".join(s.url for s in servers)
        raise NoLocalServer(f"several local servers are running ({urls}); pick one with --url")
    return servers[0]


def saved_dev_key() -> str | None:
    """``SWARM_API_KEY`` when set, else the key of the one running local server, if any."""
    if os.environ.get("SWARM_API_KEY"):
        return os.environ["SWARM_API_KEY"]
    try:
        return find_server().key()
    except NoLocalServer:
        return None
