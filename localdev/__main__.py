"""``python -m localdev``: run the service locally with no AWS account and no Docker.

serve   the API on http://127.0.0.1:3000 with an embedded DynamoDB (``--demo`` seeds it)
demo    drive a simulated swarm against a running server
invoke  invoke one function with an event file, like ``sam local invoke -e``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from localdev.devkey import DEFAULT_DEV_WORKSPACES, DEV_KEY_FILE, issue_dev_key
from localdev.server import DEFAULT_HOST, DEFAULT_PORT


def _serve(args: argparse.Namespace) -> int:
    from localdev.runtime import embedded_aws
    from localdev.server import start_server

    with embedded_aws() as functions:
        workspaces = tuple(dict.fromkeys((*DEFAULT_DEV_WORKSPACES, args.workspace)))
        api_key = issue_dev_key(workspaces)
        server = start_server(functions, args.host, args.port, quiet=not args.verbose)
        base = f"{server.url}/api/v1/learning"
        print(f"Swarm learning API on {base}  (embedded DynamoDB, tables from template.yaml)")
        print(f"  development API key for workspaces {', '.join(workspaces)} (saved to {DEV_KEY_FILE}):")
        print(f"    export SWARM_API_KEY={api_key}")
        print(f"  try: curl -H \"Authorization: Bearer $SWARM_API_KEY\" '{base}/stats?workspace_id=ws_demo'")
        print(f"  health (no key): curl {base}/health")
        print(f"  dashboard: {server.url}/dashboard/  (asks for the key above)")
        print("  stop with Ctrl+C")
        if args.history:
            from localdev.history import seed_history

            print(f"Seeding {args.history} days of simulated history in '{args.workspace}'...")
            seeded = seed_history(args.workspace, days=args.history, seed=args.seed)
            print(f"  {seeded.tracked} recommendations, {seeded.learning_cycles} learning cycles.")
        if args.demo:
            from localdev.demo import run_demo

            run_demo(
                server.url,
                workspace_id=args.workspace,
                workflows=args.workflows,
                seed=args.seed,
                api_key=api_key,
            )
            print(f"Demo data is in workspace '{args.workspace}'. The server keeps running.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.shutdown()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from localdev.demo import run_demo

    run_demo(
        args.url, workspace_id=args.workspace, workflows=args.workflows, seed=args.seed, api_key=args.api_key
    )
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from localdev.runtime import embedded_aws

    event = json.loads(Path(args.event).read_text())
    with embedded_aws() as functions:
        print(json.dumps(functions.invoke(args.function, event), indent=2))
    return 0


def _job(args: argparse.Namespace) -> int:
    import json as json_module
    import urllib.error
    import urllib.request

    event: dict[str, object] = {}
    if args.advance_days:
        # A fake clock for retention demos: the job runs as if it were this many days later.
        at = datetime.now(UTC) + timedelta(days=args.advance_days)
        event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if args.dry_run:
        event["dry_run"] = True
    request = urllib.request.Request(  # noqa: S310 - local URL
        f"{args.url}/_local/jobs/{args.job}", method="POST", data=json_module.dumps(event).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310 - local URL
            print(json_module.dumps(json_module.loads(response.read()), indent=2))
            return 0
    except urllib.error.HTTPError as error:
        print(error.read().decode(), file=sys.stderr)
        return 1


def _openapi(args: argparse.Namespace) -> int:
    from localdev.openapi import OPENAPI_FILE, openapi_document

    document = openapi_document()
    if args.check:
        if not OPENAPI_FILE.exists() or OPENAPI_FILE.read_text() != document:
            print(f"{OPENAPI_FILE} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        print(f"{OPENAPI_FILE} matches the handlers")
        return 0
    OPENAPI_FILE.write_text(document)
    print(f"wrote {OPENAPI_FILE}")
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
    serve.add_argument(
        "--history", type=int, default=0, metavar="DAYS", help="first seed DAYS days of simulated history"
    )
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="seed a running server with a simulated swarm")
    demo.add_argument("--url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    demo.add_argument(
        "--api-key", default=None, help="default: $SWARM_API_KEY, else the key `serve` saved in .localdev/"
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
    job.add_argument("--url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
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

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
