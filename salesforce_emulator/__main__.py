"""``python -m salesforce_emulator``: serve the emulator until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .testing import build

DEFAULT_CA_FILE = Path.home() / ".cache" / "salesforce-emulator" / "emulator-ca.pem"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m salesforce_emulator",
        description="Serve an emulated Salesforce org over HTTPS.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--data", help="JSON file keeping the records across restarts")
    parser.add_argument("--access-token", help="accept this token for the default org's admin")
    parser.add_argument(
        "--ca-file",
        default=str(DEFAULT_CA_FILE),
        help="where to write (or reuse) the server certificate",
    )
    parser.add_argument("--org-name", default="Emulated Org")
    parser.add_argument("--no-shared-activities", action="store_true")
    parser.add_argument(
        "--client-id",
        action="append",
        default=[],
        help="register a connected app (repeatable, paired with the next two)",
    )
    parser.add_argument("--client-secret", action="append", default=[])
    parser.add_argument("--callback-url", action="append", default=[])
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if len(args.client_secret) != len(args.client_id):
        parser.error("give one --client-secret per --client-id")

    server, registry, cert, _ = build(
        args.host, args.port, ca_file=args.ca_file, data_file=args.data, quiet=not args.verbose
    )
    org = next(iter(registry.orgs.values()), None)
    if org is None:
        org, _session, grant = registry.create_org(
            args.org_name, shared_activities=not args.no_shared_activities
        )
        refresh = grant.token
    else:
        refresh = None
    if args.access_token and args.access_token not in registry.sessions:
        registry.issue(org, org.admin_user_id, None, token=args.access_token)
    for client_id, secret in zip(args.client_id, args.client_secret, strict=True):
        # Every callback is registered with every app: one demo app is the usual case.
        registry.add_app(org, client_id, secret, args.callback_url)

    print(f"Salesforce emulator serving {registry.base_url}", flush=True)
    print(f"  org {org.name} ({org.id}), admin user {org.admin_user_id}", flush=True)
    print(f"  CA certificate: {cert}", flush=True)
    if args.access_token:
        print("  access token from --access-token accepted", flush=True)
    if refresh and sys.stdout.isatty():
        # Shown to a person at a terminal only, never written to a log file.
        print(f"  refresh token: {refresh}", flush=True)
    if args.data:
        print(f"  records kept in {args.data}", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        registry.stop_saver()
    print("Salesforce emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
