"""Email over SMTP (aiosmtplib): a text and an HTML part; 4xx answers are retried."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from tangible_notifications.domain.retry import AttemptResult, Outcome
from tangible_notifications.service_layer.ports import Job


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    timeout: float


def build_message(
    *, sender: str, to: str, subject: str, text: str, html: str, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # stable per delivery: a retried send after a lost answer can be recognised downstream
    message["Message-ID"] = f"<{message_id}@tangible.notifications>"
    message.set_content(text or subject)
    message.add_alternative(html, subtype="html")
    return message


def _smtp_outcome(code: int) -> Outcome:
    return Outcome.FAILED if 400 <= code < 500 else Outcome.REJECTED


class EmailSender:
    """The email channel's `Sender`. An SMTP relay's trouble is not the channel's doing, so
    failures do not count against it."""

    watches_endpoint = False

    def __init__(self, config: SmtpConfig, *, default_sender: str) -> None:
        self._config = config
        self._default_sender = default_sender

    async def send(self, job: Job, now: datetime) -> AttemptResult:
        n = job.notification
        message = build_message(
            sender=(job.endpoint.sender if job.endpoint else None) or self._default_sender,
            to=job.delivery.target,
            subject=n.title,
            text=n.body,
            html=n.html or "",
            message_id=job.delivery.id,
        )
        return await self.submit(message)

    async def submit(self, message: EmailMessage) -> AttemptResult:
        started = time.perf_counter()
        c = self._config

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            await aiosmtplib.send(
                message,
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                start_tls=c.starttls,
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [r.code for r in error.recipients]
            outcome = Outcome.FAILED if any(400 <= code < 500 for code in codes) else Outcome.REJECTED
            return AttemptResult(
                outcome,
                status_code=codes[0] if codes else None,
                error=str(error)[:500],
                duration_ms=elapsed(),
            )
        except aiosmtplib.SMTPResponseException as error:
            return AttemptResult(
                _smtp_outcome(error.code),
                status_code=error.code,
                error=error.message[:500],
                duration_ms=elapsed(),
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            return AttemptResult(
                Outcome.FAILED, error=f"{type(error).__name__}: {error}"[:500], duration_ms=elapsed()
            )
        return AttemptResult(Outcome.SUCCEEDED, status_code=250, duration_ms=elapsed())
