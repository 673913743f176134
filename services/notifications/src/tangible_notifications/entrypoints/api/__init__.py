"""notifications' HTTP API: channels and the delivery log, the inbox and preferences, and
(admin) rules, templates and tenant settings."""

from fastapi import APIRouter

from tangible_notifications.entrypoints.api import (
    channels,
    deliveries,
    inbox,
    preferences,
    reports,
    rules,
    settings,
    share_links,
    templates,
)

router = APIRouter(prefix="/v1")
for module in (channels, deliveries, inbox, preferences, rules, templates, settings, reports, share_links):
    router.include_router(module.router)
