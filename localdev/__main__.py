"""``python -m localdev``: run the service locally with no AWS account and no Docker.

serve   the API on http://127.0.0.1:3000 with an embedded DynamoDB kept in .localdev/<port>/
        (``--demo`` seeds it, ``--fresh`` starts empty)
reset   forget a stopped server's data and key
demo    drive a simulated swarm against the running server
job     run a scheduled job now on the running server
invoke  invoke one function with an event file, like ``sam local invoke -e``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from localdev.devkey import (
    DEFAULT_DEV_WORKSPACES,
    NoLocalServer,
    ServerFiles,
    dev_key,
    find_server,
    running_servers,
)
from localdev.persistence import DEFAULT_COMPACT_BYTES, DEFAULT_COMPACT_SECONDS
from localdev.server import DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from localdev.persistence import Opened, Store
    from localdev.server import LocalApiServer


class _Stopping:
    """SIGINT and SIGTERM (Ctrl+C, kill, docker stop, systemd, a terminal closing the process
    group) ask for one clean stop: the final snapshot, the url file removed, no traceback. The
    first signal while the server only serves ends its wait; while the demo or the history seeding
    runs in the foreground it interrupts them. A signal during the stop (``make run``'s group gets
    SIGTERM twice: make forwards its own) only says the save is under way; nothing interrupts it."""

    def __init__(self) -> None:
        import threading

        self.requested = threading.Event()
        self.interruptible = False  # the foreground is the demo or the seeding
        self.saving = False
        self._told = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.saving or self.requested.is_set():
            if not self._told:
                self._told = True
                print("still saving the data; stopping once it is written", file=sys.stderr, flush=True)
            return
        self.requested.set()
        if self.interruptible:
            self.interruptible = False
            raise KeyboardInterrupt

    def install(self) -> None:
        import signal

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self)


def _serve(args: argparse.Namespace) -> int:
    import shutil
    import warnings

    from localdev.persistence import CorruptJournal, Store, item_count
    from localdev.runtime import embedded_aws
    from localdev.server import LocalApiServer

    if not args.verbose:
        # Powertools warns on each invocation that published no metric: noise on a console.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
    stopping = _Stopping()
    stopping.install()
    stopping.interruptible = True  # until the server is up, a signal just ends the start
    try:
        with embedded_aws() as functions:
            try:
                # Bound now, served once the data and the key are in place.
                server = LocalApiServer((args.host, args.port), functions, quiet=not args.verbose)
            except OSError as error:
                print(
                    f"cannot listen on {args.host}:{args.port} ({error.strerror}); is a server running there?",
                    file=sys.stderr,
                )
                return 1
            port = server.server_address[1]
            files = ServerFiles.for_port(port)
            if args.fresh and files.directory.exists():
                shutil.rmtree(files.directory)
            files.create()
            store = Store(
                files.directory,
                server.invoke_lock,
                fsync=args.fsync,
                compact_seconds=args.snapshot_seconds,
                compact_bytes=int(args.compact_mb * 1024 * 1024),
            )
            try:
                opened = store.open()
            except CorruptJournal as error:
                server.server_close()
                print(error, file=sys.stderr)
                return 1
            try:
                return _run_server(args, server, files, store, opened, stopping)
            finally:
                stopping.saving = True
                server.stop()
                store.close()
                files.url.unlink(missing_ok=True)
                print(f"saved {item_count()} items in {files.directory}", flush=True)
    except KeyboardInterrupt:  # a signal before the server was up: nothing was opened to save
        return 0


def _run_server(
    args: argparse.Namespace,
    server: LocalApiServer,
    files: ServerFiles,
    store: Store,
    opened: Opened,
    stopping: _Stopping,
) -> int:
    from localdev.persistence import item_count

    workspaces = tuple(dict.fromkeys((*DEFAULT_DEV_WORKSPACES, args.workspace)))
    api_key, new_key = dev_key(files, workspaces)
    server.local_token = api_key
    store.start()
    base = f"{server.url}/api/v1/learning"
    if opened.migrated:
        kept = f"{item_count()} items migrated from dynamodb.pickle into"
    elif opened.restored:
        kept = f"{item_count()} items restored ({opened.journal_entries} journaled writes replayed) from"
    else:
        kept = "new, saved to"
    print(f"Swarm learning API on {base}  (embedded DynamoDB, tables from template.yaml)")
    print(f"  data: {kept} {files.directory} (`--fresh` or `make reset` starts empty)")
    print(
        f"  {'new' if new_key else 'same'} development API key for workspaces {', '.join(workspaces)}"
        f" (in {files.key}):"
    )
    print(f"    export SWARM_API_KEY={api_key}")
    print(f"  try: curl -H \"Authorization: Bearer $SWARM_API_KEY\" '{base}/stats?workspace_id=ws_demo'")
    print(f"  health (no key): curl {base}/health")
    print(f"  dashboard: {server.url}/dashboard/  (asks for the key above)")
    print("  stop with Ctrl+C; one line per request below (--verbose: the handlers' logs too)", flush=True)
    try:
        if args.history:
            from localdev.history import seed_history

            print(f"Seeding {args.history} days of simulated history in '{args.workspace}'...")
            with server.invoke_lock:
                seeded = seed_history(args.workspace, days=args.history, seed=args.seed)
            print(f"  {seeded.tracked} recommendations, {seeded.learning_cycles} learning cycles.")
        server.start()
        files.write_private(files.url, server.url)  # how commands find it: once it answers
        if args.demo:
            from localdev.demo import run_demo

            server.access_log = False  # the demo's progress bar says it better
            run_demo(
                server.url,
                workspace_id=args.workspace,
                workflows=args.workflows,
                seed=args.seed,
                api_key=api_key,
            )
            server.access_log = True
            print(f"Demo data is in workspace '{args.workspace}'. The server keeps running.", flush=True)
        stopping.interruptible = False
        stopping.requested.wait()
    except KeyboardInterrupt:
        pass  # the demo or the seeding was interrupted; stop as from serving
    stopping.interruptible = False
    return 0


def _reset(args: argparse.Namespace) -> int:
    import shutil

    files = ServerFiles.for_port(args.port)
    if any(s.files == files for s in running_servers()):
        print(f"the server on port {args.port} is running: stop it first (or restart it with --fresh)")
        return 1
    if files.directory.exists():
        shutil.rmtree(files.directory)
        print(f"removed {files.directory}: the next `make run` on port {args.port} starts empty")
    else:
        print(f"nothing saved for port {args.port}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from localdev.demo import DemoError, run_demo

    server = find_server(args.url)
    try:
        run_demo(
            server.url,
            workspace_id=args.workspace,
            workflows=args.workflows,
            seed=args.seed,
            api_key=args.api_key or server.key(),
        )
    except DemoError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from localdev.runtime import embedded_aws

    event = json.loads(Path(args.event).read_text())
    with embedded_aws() as functions:
        print(json.dumps(functions.invoke(args.function, event), indent=2))
    return 0


def _job(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    server = find_server(args.url)
    event: dict[str, object] = {}
    if args.advance_days:
        # A fake clock for retention demos: the job runs as if it were this many days later.
        at = datetime.now(UTC) + timedelta(days=args.advance_days)
        event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if args.dry_run:
        event["dry_run"] = True
    request = urllib.request.Request(  # noqa: S310 - local URL
        f"{server.url}/_local/jobs/{args.job}",
        method="POST",
        data=json.dumps(event).encode(),
        headers={"Authorization": f"Bearer {server.key() or ''}"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=900) as response:
            print(json.dumps(json.loads(response.read()), indent=2))
            return 0
    except urllib.error.HTTPError as error:
        print(f"{args.job}: HTTP {error.code} {error.read().decode()}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        print(f"cannot reach {server.url} ({getattr(error, 'reason', error)})", file=sys.stderr)
        return 1


def _openapi(args: argparse.Namespace) -> int:
    from localdev.openapi import ALERT_EVENTS_FILE, OPENAPI_FILE, alert_events_schema, openapi_document

    documents = {OPENAPI_FILE: openapi_document(), ALERT_EVENTS_FILE: alert_events_schema()}
    if args.check:
        stale = [path for path, text in documents.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path} is out of date: run `make openapi`", file=sys.stderr)
        if stale:
            return 1
        print(f"{OPENAPI_FILE} and {ALERT_EVENTS_FILE} match the code")
        return 0
    for path, text in documents.items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


def _features_doc(args: argparse.Namespace) -> int:
    from localdev.feature_docs import LEARNING_DOC, with_features_table

    text = LEARNING_DOC.read_text()
    generated = with_features_table(text)
    if args.check:
        if generated != text:
            print(
                f"{LEARNING_DOC}'s features table is out of date: run `make docs-features`", file=sys.stderr
            )
            return 1
        print(f"{LEARNING_DOC}'s features table matches the registry")
        return 0
    LEARNING_DOC.write_text(generated)
    print(f"wrote the features table of {LEARNING_DOC}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localdev", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API locally")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    serve.add_argument("--demo", action="store_true", help="seed a simulated swarm after starting")
    serve.add_argument("--verbose", action="store_true", help="show the handlers' logs and metrics")
    serve.add_argument("--fresh", action="store_true", help="forget the saved data and key; start empty")
    serve.add_argument(
        "--fsync",
        action="store_true",
        default=os.environ.get("LOCALDEV_FSYNC", "") not in ("", "0"),
        help="sync each journaled write to the disk before answering (survives a power cut; slower)",
    )
    serve.add_argument(
        "--snapshot-seconds",
        type=float,
        default=DEFAULT_COMPACT_SECONDS,
        help="how often to look whether the journal has grown enough to fold into a snapshot",
    )
    serve.add_argument(
        "--compact-mb",
        type=float,
        default=DEFAULT_COMPACT_BYTES / 1024 / 1024,
        help="fold the journal into a new snapshot once it is this long",
    )
    serve.add_argument(
        "--history", type=int, default=0, metavar="DAYS", help="first seed DAYS days of simulated history"
    )
    serve.set_defaults(run=_serve)

    reset = commands.add_parser("reset", help="forget a stopped server's saved data and key")
    reset.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
    reset.set_defaults(run=_reset)

    found = "default: the running local server (found through .localdev/<port>/url)"
    demo = commands.add_parser("demo", help="seed a running server with a simulated swarm")
    demo.add_argument("--url", default=None, help=found)
    demo.add_argument(
        "--api-key", default=None, help="default: $SWARM_API_KEY, else the key that server saved"
    )
    demo.set_defaults(run=_demo)

    for sub in (serve, demo):
        sub.add_argument("--workspace", default="ws_demo")
        sub.add_argument("--workflows", type=int, default=300, help="workflows to simulate")
        sub.add_argument("--seed", type=int, default=7)

    invoke = commands.add_parser("invoke", help="invoke one function with an event file")
    invoke.add_argument("function", help="logical id in template.yaml, e.g. TrackFunction")
    invoke.add_argument("-e", "--event", required=True, help="event JSON file, e.g. events/track.json")
    invoke.set_defaults(run=_invoke)

    job = commands.add_parser("job", help="run a scheduled job now on a running local server")
    job.add_argument("job", help="job name, e.g. trust-refresh")
    job.add_argument("--url", default=None, help=found)
    job.add_argument(
        "--advance-days", type=float, default=0, help="run as if this many days had passed (retention demos)"
    )
    job.add_argument(
        "--dry-run", action="store_true", help="cleanup: count what would be deleted, delete nothing"
    )
    job.set_defaults(run=_job)

    openapi = commands.add_parser("openapi", help="write docs/openapi.json from the handlers")
    openapi.add_argument("--check", action="store_true", help="fail if the committed file differs")
    openapi.set_defaults(run=_openapi)

    features = commands.add_parser(
        "features-doc", help="write the features table of docs/learning.md from the feature registry"
    )
    features.add_argument("--check", action="store_true", help="fail if the committed table differs")
    features.set_defaults(run=_features_doc)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        return int(args.run(args))
    except NoLocalServer as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
