"""`tangible-credentials issue|revoke`: the admin CLI for tenant credentials.

Issuing needs the private key (`TANGIBLE_AUTH_PRIVATE_KEY`); revoking publishes to Kafka,
from where every service learns it within a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta

from tangible_runtime.auth import SCOPES, TokenIssuer
from tangible_runtime.credentials import publish_revocation
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import AuthSettings, KafkaSettings, TelemetrySettings
from tangible_runtime.telemetry import setup_tracing


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tangible-credentials", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser("issue", help="issue a credential and print it as JSON")
    issue.add_argument("--tenant", required=True)
    issue.add_argument("--scope", action="append", choices=SCOPES, required=True)
    issue.add_argument("--account", help="scope the credential to one account (read only)")
    issue.add_argument("--ttl-days", type=int, default=365)
    revoke = commands.add_parser("revoke", help="revoke a credential by id")
    revoke.add_argument("--tenant", required=True)
    revoke.add_argument("--credential-id", required=True)
    return parser


async def _revoke(tenant: str, credential_id: str) -> None:
    # tracing as the services have it, so the revocation record carries a traceparent
    provider = setup_tracing(TelemetrySettings(), "tangible-credentials")
    clients = KafkaClients(KafkaSettings())
    producer = clients.producer()
    await producer.start()
    try:
        await publish_revocation(producer, clients, tenant_id=tenant, credential_id=credential_id)
    finally:
        await producer.stop()
        provider.force_flush()  # the process ends now: export the span if an exporter is set


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "issue":
        settings = AuthSettings()
        if settings.private_key is None:
            print("TANGIBLE_AUTH_PRIVATE_KEY is not set", file=sys.stderr)
            return 2
        issuer = TokenIssuer(settings.private_key.get_secret_value(), issuer=settings.issuer)
        credential = issuer.issue(
            tenant_id=args.tenant,
            scopes=args.scope,
            account_id=args.account,
            ttl=timedelta(days=args.ttl_days),
        )
        print(
            json.dumps(
                {
                    "credential_id": credential.credential_id,
                    "token": credential.token,
                    "expires_at": credential.expires_at.isoformat(),
                }
            )
        )
        return 0
    asyncio.run(_revoke(args.tenant, args.credential_id))
    print(json.dumps({"revoked": args.credential_id}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
