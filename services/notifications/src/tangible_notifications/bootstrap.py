"""Composition root of notifications: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from tangible_notifications.adapters.impact import ImpactClient
from tangible_notifications.adapters.secrets import SecretBox
from tangible_notifications.adapters.smtp import EmailSender, SmtpConfig
from tangible_notifications.adapters.webhooks import WebhookSender
from tangible_notifications.config import Settings, get_settings
from tangible_notifications.domain.model import Channel
from tangible_notifications.domain.retry import RetryPolicy
from tangible_notifications.entrypoints import api
from tangible_notifications.entrypoints.consumers import events_consumer
from tangible_notifications.entrypoints.dependencies import Container
from tangible_notifications.entrypoints.scheduler import delivery_worker, schedule_worker
from tangible_notifications.service_layer.handlers.delivery import Dispatch
from tangible_runtime.app import create_app
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.credentials import revocation_follower
from tangible_runtime.domain import Clock, SystemClock
from tangible_runtime.relay import relay_worker
from tangible_runtime.service import ServiceRuntime

ROLES = ("api", "consumer", "relay", "scheduler", "delivery")
DESCRIPTION = (
    "Turns entitlement and reward events into personalised messages: tenant rules and "
    "templates, signed webhooks, email and an in-app inbox, one notification per event, rule, "
    "recipient and channel."
)


def _senders(settings: Settings, client: httpx.AsyncClient, box: SecretBox) -> Dispatch:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    smtp = SmtpConfig(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_username,
        password,
        settings.smtp_starttls,
        settings.smtp_timeout_seconds,
    )
    return Dispatch(
        senders={
            Channel.WEBHOOK: WebhookSender(client, box, allow_private=settings.allow_private_targets),
            Channel.EMAIL: EmailSender(smtp, default_sender=settings.smtp_from),
        },
        policy=RetryPolicy(
            window=timedelta(hours=settings.retry_window_hours),
            base=timedelta(seconds=settings.retry_base_seconds),
            cap=timedelta(seconds=settings.retry_cap_seconds),
        ),
        disable_after=timedelta(days=settings.disable_after_failing_days),
        lease=timedelta(seconds=settings.delivery_lease_seconds),
    )


def bootstrap(
    settings: Settings | None = None,
    *,
    roles: Collection[str] = ROLES,
    clock: Clock | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    configure_logs: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(
        "notifications", settings, clock or SystemClock(), span_processors, configure_logs
    )
    clients: list[httpx.AsyncClient] = []

    async def start(rt: ServiceRuntime) -> None:
        await rt.clients.ensure_topics()
        box = SecretBox(settings.secrets_key.get_secret_value() if settings.secrets_key else None)
        container = Container(settings=settings, clock=rt.clock, session_factory=rt.session_factory, box=box)
        app.state.container = container
        if "relay" in roles:
            relay = relay_worker(rt)
            container.on_commit = relay.wake
            rt.start_worker(relay.worker)
        if "api" in roles:
            rt.start_worker(revocation_follower(rt))
        if "consumer" in roles:
            rt.start_worker(events_consumer(rt, container))
        if "delivery" in roles:
            timeout = httpx.Timeout(
                settings.webhook_timeout_seconds, connect=min(5.0, settings.webhook_timeout_seconds)
            )
            webhook_client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
            impact_client = httpx.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=False)
            clients.extend((webhook_client, impact_client))
            private = settings.auth.private_key
            issuer = TokenIssuer(private.get_secret_value(), issuer=settings.auth.issuer) if private else None
            impact = ImpactClient(
                impact_client,
                entitlements_url=settings.entitlements_url,
                rewards_url=settings.rewards_url,
                issuer=issuer,
                attempts=settings.http_attempts,
            )
            rt.start_worker(delivery_worker(container, _senders(settings, webhook_client, box), impact.facts))
        if "scheduler" in roles:
            rt.start_worker(schedule_worker(container))

    async def stop(rt: ServiceRuntime) -> None:
        # workers first (stopping twice is harmless): the sender finishes its round in hand
        # while its HTTP clients are still open
        await rt.stop()
        for client in clients:
            await client.aclose()
        clients.clear()

    app = create_app(
        runtime,
        title="Tangible notifications",
        description=DESCRIPTION,
        routers=[api.router] if "api" in roles else [],
        on_startup=[start],
        on_shutdown=[stop],
    )
    return app
