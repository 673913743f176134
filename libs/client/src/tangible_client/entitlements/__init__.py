"""Entitlement checks in-process: a local view kept fresh by entitlements' change stream."""

from tangible_client.entitlements.client import AsyncEntitlements
from tangible_client.entitlements.model import (
    AccountNotFound,
    Check,
    CredentialRefused,
    EntitlementsError,
    EntitlementsUnavailable,
    FeatureNotFound,
    Outage,
    Source,
)
from tangible_client.entitlements.sync import Entitlements

__all__ = [
    "AccountNotFound",
    "AsyncEntitlements",
    "Check",
    "CredentialRefused",
    "Entitlements",
    "EntitlementsError",
    "EntitlementsUnavailable",
    "FeatureNotFound",
    "Outage",
    "Source",
]
