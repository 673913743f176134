"""Webhook secrets: `whsec_` + base64, encrypted at rest with Fernet (key from settings)."""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tangible_notifications.domain.errors import SecretsUnavailable


def new_webhook_secret() -> str:
    """24 random bytes, as Standard Webhooks suggests (between 24 and 64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class SecretBox:
    """MultiFernet: the first key encrypts, every key decrypts, so keys can be rotated."""

    def __init__(self, keys: str | None) -> None:
        parts = [k.strip() for k in (keys or "").split(",") if k.strip()]
        self._fernet = MultiFernet([Fernet(k) for k in parts]) if parts else None

    def generate(self) -> str:
        return new_webhook_secret()

    @property
    def available(self) -> bool:
        return self._fernet is not None

    def _require(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretsUnavailable(
                "webhook endpoints need NOTIFICATIONS_SECRETS_KEY (a Fernet key) to be set"
            )
        return self._fernet

    def encrypt(self, plaintext: str) -> str:
        return self._require().encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._require().decrypt(ciphertext.encode()).decode()
        except InvalidToken as error:
            raise SecretsUnavailable("a webhook secret does not decrypt with the configured key") from error
