"""Composition root of notifications: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Unpack

import httpx
from fastapi import APIRouter, FastAPI

from tangible_notifications.adapters.impact import ImpactClient
from tangible_notifications.adapters.metrics import NotificationsMetrics
from tangible_notifications.adapters.report_sources import ReportSources
from tangible_notifications.adapters.secrets import SecretBox
from tangible_notifications.adapters.smtp import EmailSender, SmtpConfig
from tangible_notifications.adapters.webhooks import WebhookSender
from tangible_notifications.config import Settings, get_settings
from tangible_notifications.domain.model import Channel
from tangible_notifications.domain.retry import RetryPolicy
from tangible_notifications.domain.sharing import ShareSigner
from tangible_notifications.entrypoints import api, elements, stream
from tangible_notifications.entrypoints.consumers import EVENTS_CONSUMER, events_consumer
from tangible_notifications.entrypoints.dependencies import Container
from tangible_notifications.entrypoints.scheduler import delivery_worker, schedule_worker
from tangible_notifications.service_layer.handlers.delivery import Dispatch
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.composition import AppOptions, RoleWorkers, ServiceDeclaration, relay_role, service_app
from tangible_runtime.inbox import inbox_pruner
from tangible_runtime.live import LiveHub
from tangible_runtime.service import ServiceRuntime, Worker

ROLES = ("api", "consumer", "relay", "scheduler", "delivery")
DESCRIPTION = (
    "Turns entitlement and reward events into personalised messages: tenant rules and "
    "templates, signed webhooks, email and an in-app inbox, one notification per event, rule, "
    "recipient and channel."
)


def _senders(
    settings: Settings, client: httpx.AsyncClient, box: SecretBox, metrics: NotificationsMetrics
) -> Dispatch:
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
        metrics=metrics,
    )


def _share_signer(settings: Settings) -> ShareSigner | None:
    key = settings.report_link_key or settings.secrets_key
    if key is None:
        return None
    return ShareSigner(key.get_secret_value().split(",")[0].encode())


def _container(settings: Settings, rt: ServiceRuntime) -> Container:
    box = SecretBox(settings.secrets_key.get_secret_value() if settings.secrets_key else None)
    return Container(
        settings=settings,
        clock=rt.clock,
        session_factory=rt.session_factory,
        box=box,
        share_signer=_share_signer(settings),
    )


def _issuer(settings: Settings) -> TokenIssuer | None:
    private = settings.auth.private_key
    return TokenIssuer(private.get_secret_value(), issuer=settings.auth.issuer) if private else None


def _report_sources(settings: Settings) -> ReportSources:
    return ReportSources(
        entitlements_url=settings.entitlements_url,
        rewards_url=settings.rewards_url,
        issuer=_issuer(settings),
        attempts=settings.http_attempts,
        timeout=settings.http_timeout_seconds,
        budget=settings.report_sources_seconds,
        cooldown=settings.report_source_cooldown_seconds,
    )


def _delivery_workers(clients: list[httpx.AsyncClient]) -> RoleWorkers[Container]:
    """The sender, with HTTP clients of its own (kept in `clients`, closed at shutdown)."""

    def workers(rt: ServiceRuntime, container: Container) -> list[Worker]:
        settings = container.settings
        timeout = httpx.Timeout(
            settings.webhook_timeout_seconds, connect=min(5.0, settings.webhook_timeout_seconds)
        )
        webhook_client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        impact_client = httpx.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=False)
        clients.extend((webhook_client, impact_client))
        impact = ImpactClient(
            impact_client,
            entitlements_url=settings.entitlements_url,
            rewards_url=settings.rewards_url,
            issuer=_issuer(settings),
            attempts=settings.http_attempts,
        )
        container.report_sources = container.report_sources or _report_sources(settings)
        senders = _senders(settings, webhook_client, container.box, NotificationsMetrics(rt.metrics))
        return [delivery_worker(container, senders, impact.facts)]

    return workers


def _routes() -> APIRouter:
    router = APIRouter()
    for module in (api, stream, elements):
        router.include_router(module.router)
    return router


def _api_role(clients: list[httpx.AsyncClient]) -> RoleWorkers[Container]:
    def workers(rt: ServiceRuntime, container: Container) -> list[Worker]:
        """The API role follows the topics for the accounts' live streams, and reads the
        other services' figures for impact reports."""
        container.report_sources = container.report_sources or _report_sources(container.settings)
        container.live_hub = LiveHub(rt.clients, stream.TOPICS)
        return [Worker("live-hub", container.live_hub.run)]

    return workers


def bootstrap(
    settings: Settings | None = None,
    *,
    roles: Collection[str] = ROLES,
    **options: Unpack[AppOptions],
) -> FastAPI:
    clients: list[httpx.AsyncClient] = []
    service: ServiceDeclaration[Settings, Container] = ServiceDeclaration(
        name="notifications",
        description=DESCRIPTION,
        router=_routes(),
        container=_container,
        roles={
            "api": _api_role(clients),
            "relay": relay_role,
            "consumer": lambda rt, container: [events_consumer(rt, container)],
            "delivery": _delivery_workers(clients),
            "scheduler": lambda rt, container: [schedule_worker(container), inbox_pruner(rt)],
        },
        dead_letter_consumers=(EVENTS_CONSUMER,),
    )

    async def stop(rt: ServiceRuntime) -> None:
        # workers first (stopping twice is harmless): the sender finishes its round in hand
        # while its HTTP clients are still open
        await rt.stop()
        for client in clients:
            await client.aclose()
        clients.clear()

    return service_app(service, settings or get_settings(), roles=roles, on_shutdown=[stop], **options)
