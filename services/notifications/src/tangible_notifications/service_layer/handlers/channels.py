"""Channels: webhook endpoints (SSRF-guarded, signed with rotating secrets) and email."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import ChannelHasNoSecret, ChannelNotFound, TargetRefused
from tangible_notifications.domain.model import Channel, Endpoint
from tangible_notifications.service_layer.ports import TargetGuard, UnitOfWork, WebhookSecrets
from tangible_runtime.domain import Clock


async def create_channel(
    command: commands.CreateChannel,
    *,
    uow: UnitOfWork,
    secrets: WebhookSecrets,
    guard: TargetGuard,
    clock: Clock,
) -> tuple[Endpoint, str | None]:
    """Returns the channel and, for a webhook, its secret: shown once, stored encrypted."""
    endpoint = Endpoint(
        id=str(uuid.uuid4()),
        tenant_id=command.tenant_id,
        kind=command.kind,
        name=command.name,
        purpose=command.purpose,
        url=command.url,
        sender=command.sender,
        recipients=command.recipients,
        to_account_contacts=command.to_account_contacts,
    )
    secret: str | None = None
    ciphertext: str | None = None
    if command.kind is Channel.WEBHOOK:
        if not command.url:
            raise TargetRefused("a webhook channel needs a url")
        await guard.check(command.url)
        secret = command.secret or secrets.generate()
        ciphertext = secrets.encrypt(secret)
    now = clock.now()
    async with uow:
        await uow.channels.add(endpoint, now)
        if ciphertext is not None:
            await uow.channels.add_secret(endpoint.id, str(uuid.uuid4()), ciphertext, now)
        await uow.commit()
    return endpoint, secret


async def set_channel_enabled(
    command: commands.SetChannelEnabled, *, uow: UnitOfWork, clock: Clock
) -> Endpoint:
    async with uow:
        endpoint = await uow.channels.get(command.tenant_id, command.channel_id, for_update=True)
        if endpoint is None:
            raise ChannelNotFound(f"channel '{command.channel_id}' does not exist")
        values: dict[str, object] = {"enabled": command.enabled}
        if command.enabled:
            values |= {"disabled_reason": None, "disabled_at": None, "failing_since": None}
        else:
            values |= {"disabled_reason": "disabled by an admin", "disabled_at": clock.now()}
        await uow.channels.update(command.tenant_id, command.channel_id, **values)
        await uow.commit()
    return replace(endpoint, enabled=command.enabled, disabled_reason=values.get("disabled_reason"))  # type: ignore[arg-type]


async def rotate_secret(
    command: commands.RotateSecret, *, uow: UnitOfWork, secrets: WebhookSecrets, clock: Clock
) -> tuple[str, datetime]:
    """A new current secret; the old ones keep signing until the overlap ends."""
    now = clock.now()
    secret = secrets.generate()
    async with uow:
        endpoint = await uow.channels.get(command.tenant_id, command.channel_id, for_update=True)
        if endpoint is None:
            raise ChannelNotFound(f"channel '{command.channel_id}' does not exist")
        if endpoint.kind is not Channel.WEBHOOK:
            raise ChannelHasNoSecret(f"{endpoint.kind} channels have no secret", kind=endpoint.kind.value)
        await uow.channels.expire_secrets(endpoint.id, now + command.overlap)
        await uow.channels.add_secret(endpoint.id, str(uuid.uuid4()), secrets.encrypt(secret), now)
        await uow.commit()
    return secret, now + command.overlap
