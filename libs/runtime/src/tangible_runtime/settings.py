"""Settings shared by every service, read from the environment (pydantic-settings).

Each group reads its own prefix so that the names ops teams expect work as-is:
`KAFKA_BOOTSTRAP_SERVERS`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `LOG_LEVEL`; each service adds
`<SERVICE>_DATABASE_URL` and `<SERVICE>_PORT` in its own `config.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@\s]*@", re.IGNORECASE)


def redact_url(url: str) -> str:
    """`postgresql://app:s3cret@db/x` → `postgresql://app:***@db/x` (other text unchanged)."""
    return _URL_PASSWORD.sub(r"\g<head>***@", url)


# host:port, the host a name, an IPv4 address or a bracketed IPv6 address
_BROKER = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})$")
_DATABASE_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:19092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    topic_prefix: str = Field(default="", description="Prepended to every topic and group name.")
    publish_timeout_seconds: float = 10.0
    linger_ms: int = 5
    compression: Literal["lz4", "gzip", "zstd", "snappy", "none"] = "lz4"
    max_batch_bytes: int = 1_048_576
    create_topics: bool = Field(
        default=True, description="Create missing topics at start; turn off where topics are provisioned."
    )
    replication_factor: int = Field(default=1, ge=1, description="For topics this process creates.")
    startup_wait_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a starting process waits for the broker before it exits (status 3); "
        "it serves /healthz and /readyz ('waiting for Kafka') meanwhile. The chart's startup probe "
        "budget is derived from it.",
    )

    @field_validator("bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        brokers = [b.strip() for b in value.split(",")]
        for broker in brokers:
            match = _BROKER.match(broker)
            if match is None or not 0 < int(match["port"]) < 65536:
                raise ValueError(
                    f"{broker!r} is not host:port; expected a comma-separated list such as "
                    "kafka-0:9092,kafka-1:9092"
                )
        return ",".join(brokers)

    @model_validator(mode="after")
    def _sasl_combination(self) -> KafkaSettings:
        """The combinations aiokafka would refuse late, or in terms of its own defaults."""
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and self.sasl_mechanism is None:
            raise ValueError(
                f"KAFKA_SASL_MECHANISM is required with KAFKA_SECURITY_PROTOCOL={self.security_protocol} "
                "(PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)"
            )
        if sasl and (not self.sasl_username or self.sasl_password is None):
            raise ValueError(
                f"KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with "
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol}"
            )
        if not sasl and self.sasl_mechanism is not None:
            raise ValueError(
                f"KAFKA_SASL_MECHANISM={self.sasl_mechanism} needs KAFKA_SECURITY_PROTOCOL=SASL_SSL "
                f"or SASL_PLAINTEXT (it is {self.security_protocol})"
            )
        return self


class TelemetrySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_format: Literal["json", "console"] = Field(default="json", validation_alias="LOG_FORMAT")
    traces_exporter: Literal["none", "otlp", "console"] = Field(
        default="none", validation_alias="OTEL_TRACES_EXPORTER"
    )
    otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")


class AuthSettings(BaseSettings):
    """Tokens are Ed25519-signed JWTs: services hold only the public key."""

    model_config = SettingsConfigDict(env_prefix="TANGIBLE_AUTH_", extra="ignore")

    public_key: SecretStr | None = Field(default=None, description="PEM, or a path to a PEM file.")
    private_key: SecretStr | None = Field(
        default=None, description="PEM or path; only where credentials are issued."
    )
    issuer: str = "tangible"
    leeway_seconds: int = 30


class CorsSettings(BaseSettings):
    """Origins whose pages may call the APIs from a browser (the customer-facing components
    with a portal token). Credentials travel in the Authorization header, never in cookies,
    so responses never allow credentials and a wildcard stays harmless; list the vendor's
    origins anyway."""

    model_config = SettingsConfigDict(env_prefix="TANGIBLE_CORS_", extra="ignore")

    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated, e.g. `https://app.example.com,https://portal.example.com`; "
        "empty: no cross-origin calls",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    max_age_seconds: int = Field(default=600, ge=0, le=86_400)


class ServiceSettings(BaseSettings):
    """Base of each service's `Settings`; subclasses set `env_prefix` and defaults.

    Secrets are `SecretStr`; URLs stay strings (every driver takes them) but their
    passwords never show in a repr or str of the settings."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str
    migration_database_url: str | None = Field(
        default=None,
        description="Where `migrate` connects, as the owner of the tables; the service itself then "
        "connects with `database_url` as the application role (under row-level security).",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(
        default=1, ge=1, description="Processes serving the port, where the service supports it."
    )
    db_pool_size: int = 10
    db_pool_pre_ping: bool = True  # test connections on checkout (see db.create_engine)
    consumer_batch_size: int = 1000
    outbox_batch_size: int = 1000
    outbox_idle_seconds: float = Field(
        default=0.05, gt=0, description="How often an idle relay polls its outbox when it cannot LISTEN."
    )
    outbox_listening_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often an idle relay polls while it LISTENs: commits wake it at once, so the "
        "poll is only a safety net.",
    )
    inbox_retention_days: float = Field(
        default=8,
        gt=0,
        description="How long consumers remember the ids of the events they applied, so that a "
        "redelivery is a no-op: longer than the topics' retention (7 days).",
    )
    inbox_prune_interval_seconds: float = Field(
        default=3600, gt=0, description="How often the scheduler role forgets inbox ids past retention."
    )
    shutdown_grace_seconds: float = Field(
        default=20.0,
        gt=0,
        le=300,
        description="On SIGTERM, how long workers get to finish the batch or round in hand before they "
        "are cancelled; keep it under the pod's terminationGracePeriodSeconds (the chart's 30).",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _asyncpg_driver(cls, url: str | None) -> str | None:
        """Accept plain `postgresql://` URLs (as ops teams write them) and use asyncpg."""
        if url is None:
            return None
        scheme, separator, rest = url.partition("://")
        if not separator or not rest:
            raise ValueError("not a URL; expected postgresql://user:password@host:5432/database")
        if scheme.lower() not in _DATABASE_SCHEMES:
            raise ValueError(
                f"scheme {scheme!r} is not supported: Tangible runs on PostgreSQL "
                "(postgresql://user:password@host:5432/database)"
            )
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if isinstance(value, str) else value


def configuration_errors(error: ValidationError, settings: type[BaseSettings]) -> list[str]:
    """One line per problem, each naming the environment variable to fix (a ValidationError
    names fields and, for a group built by a default factory, not even its prefix)."""
    groups: dict[str, type[BaseSettings]] = {
        cls.__name__: cls for cls in (KafkaSettings, TelemetrySettings, AuthSettings, CorsSettings)
    }
    source = groups.get(error.title, settings)
    prefix = str(source.model_config.get("env_prefix", ""))
    lines = []
    for problem in error.errors(include_url=False):
        message = str(problem["msg"]).removeprefix("Value error, ")
        location = [str(part) for part in problem["loc"]]
        if not location:  # a whole-group rule: its message names the variables
            lines.append(message)
            continue
        field = location[0]
        variable = field if field.isupper() else f"{prefix}{field}".upper()
        value = problem.get("input")
        # a URL only once its password can be masked (one without a scheme could show it)
        echo = isinstance(value, str) and "password" not in field and ("url" not in field or "://" in value)
        shown = f" (got {redact_url(str(value))!r})" if echo else ""
        lines.append(f"{variable}: {message}{shown}")
    return lines
