"""Python producer client for Tangible usage-ingest."""

from tangible_client.batching import Batching
from tangible_client.client import ClientClosedError, ClientOptions, DeliveryCallback, TangibleClient
from tangible_client.reports import DeliveryReport, DeliveryStatus, Reason
from tangible_client.retry import RetryPolicy
from tangible_client.sync import SyncTangibleClient

__all__ = [
    "Batching",
    "ClientClosedError",
    "ClientOptions",
    "DeliveryCallback",
    "DeliveryReport",
    "DeliveryStatus",
    "Reason",
    "RetryPolicy",
    "SyncTangibleClient",
    "TangibleClient",
]
