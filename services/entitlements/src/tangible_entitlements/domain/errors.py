"""Errors of the entitlements domain."""

from __future__ import annotations

from tangible_runtime.domain import Conflict, NotFound, Rejected


class FeatureNotFound(NotFound):
    code = "feature-not-found"


class CatalogItemNotFound(NotFound):
    code = "catalog-item-not-found"


class LicenseNotFound(NotFound):
    code = "license-not-found"


class CatalogItemImmutable(Conflict):
    code = "catalog-item-immutable"


class AlreadyExists(Conflict):
    code = "already-exists"


class InvalidCatalog(Rejected):
    code = "invalid-catalog"


class LicenseStateConflict(Conflict):
    code = "license-state-conflict"


class RestoreWindowClosed(Conflict):
    code = "restore-window-closed"


class SeatsFull(Conflict):
    code = "seats-full"


class SeatNotAssigned(NotFound):
    code = "seat-not-assigned"


class GrantNotFound(NotFound):
    code = "grant-not-found"


class InvalidLicenseChange(Rejected):
    code = "invalid-license-change"


class TrialNotFound(NotFound):
    code = "trial-not-found"


class TrialNotEligible(Conflict):
    code = "trial-not-eligible"


class TrialConflict(Conflict):
    code = "trial-conflict"


class TrialNotActive(Conflict):
    code = "trial-not-active"


class InvalidTrial(Rejected):
    code = "invalid-trial"


class InvalidSettings(Rejected):
    code = "invalid-settings"


class CredentialNotFound(NotFound):
    code = "credential-not-found"


class IssuingNotConfigured(Rejected):
    """This deployment holds no signing key (`TANGIBLE_AUTH_PRIVATE_KEY`)."""

    code = "issuing-not-configured"


class InvalidCredential(Rejected):
    code = "invalid-credential"
