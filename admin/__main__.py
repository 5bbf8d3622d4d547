"""``python -m admin keys ...``: issue, list, revoke and rotate API keys;
``python -m admin dashboard publish``: upload the dashboard to a deployed stack.

  python -m admin keys create --workspace ws_prod --name orchestrator --stack swarm-learning
  python -m admin keys list --stack swarm-learning
  python -m admin keys rotate <key_id> --grace-hours 24 --stack swarm-learning
  python -m admin keys revoke <key_id> --stack swarm-learning
  python -m admin dashboard publish --stack swarm-learning

``--stack`` uses your AWS credentials and region (AWS_PROFILE, AWS_REGION); ``--local`` talks to
the local server instead. A new key's secret is printed once and never stored: keep it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from pydantic import ValidationError

from admin.keys import KeyAdmin, LocalKeys, StackKeys
from swarm_learning.errors import LearningError
from swarm_learning.services.keys.service import KeyRequest


def _target(args: argparse.Namespace) -> KeyAdmin:
    if args.local is not None:
        from localdev.devkey import find_server

        server = find_server(args.local or None)
        return LocalKeys(server.url, server.key())
    import boto3

    return StackKeys.from_stack(args.stack, boto3.session.Session(region_name=args.region))


def _publish_dashboard(args: argparse.Namespace) -> int:
    import boto3

    from admin.dashboard import DashboardSite

    site = DashboardSite.from_stack(args.stack, boto3.session.Session(region_name=args.region))
    print(json.dumps(site.publish(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m admin", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="area", required=True)
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="command", required=True)

    create = keys.add_parser("create", help="issue a key; prints its secret once")
    create.add_argument("--workspace", action="append", required=True, help="repeat for several")
    create.add_argument("--name", required=True, help="who uses it, e.g. orchestrator-prod")
    create.add_argument("--expires-in-days", type=int, default=None)
    listing = keys.add_parser("list", help="list keys (never their secrets)")
    revoke = keys.add_parser("revoke", help="revoke a key (effective within the authorizer cache time)")
    revoke.add_argument("key_id")
    rotate = keys.add_parser("rotate", help="issue a successor; the old key expires after the grace period")
    rotate.add_argument("key_id")
    rotate.add_argument("--grace-hours", type=float, default=24.0)
    for sub in (create, listing, revoke, rotate):
        target = sub.add_mutually_exclusive_group(required=True)
        target.add_argument("--stack", help="a deployed stack's name (see samconfig.toml)")
        target.add_argument(
            "--local",
            nargs="?",
            const="",
            metavar="URL",
            help="the local server (default: the running one, found through .localdev/<port>/url)",
        )
        sub.add_argument("--region", default=None)

    dashboard = commands.add_parser("dashboard", help="the dashboard's static site")
    publish = dashboard.add_subparsers(dest="command", required=True).add_parser(
        "publish", help="upload the dashboard to the stack's bucket, point it at the stack's API"
    )
    publish.add_argument("--stack", required=True, help="a deployed stack's name (see samconfig.toml)")
    publish.add_argument("--region", default=None)

    args = parser.parse_args(argv)
    if args.area == "dashboard":
        return _publish_dashboard(args)
    try:
        admin = _target(args)
        if args.command == "create":
            request = KeyRequest(
                name=args.name, workspaces=args.workspace, expires_in_days=args.expires_in_days
            )
            answer: object = admin.issue(request)
        elif args.command == "list":
            answer = admin.list()
        elif args.command == "revoke":
            answer = admin.revoke(args.key_id)
        else:
            answer = admin.rotate(args.key_id, timedelta(hours=args.grace_hours))
    except ValidationError as error:
        print(f"invalid input: {error}", file=sys.stderr)
        return 2
    except LearningError as error:
        print(f"{error.code}: {error.message}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    if isinstance(answer, dict) and "api_key" in answer:
        print("Keep the api_key now: only its salted hash is stored.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
