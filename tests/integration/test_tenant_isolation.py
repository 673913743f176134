"""Tenant isolation over every operation of every service, discovered from their OpenAPI.

A victim tenant's real data is seeded through the APIs first. Then each operation is called
with credentials that must not reach that data: none, a malformed one, an expired one, a
revoked one (revoked for real, on the credentials topic), one lacking the operation's scope,
an account-scoped one for another account, and another tenant's (all scopes; also scoped to
the victim's account id). Every refusal is a problem without the victim's data, and the
victim's state reads the same afterwards. An operation that declares no scope must be listed
in PUBLIC, so a new endpoint is covered (or fails) without editing this test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.scenario import term_around
from tangible_devstack.testing import eventually
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.credentials import publish_revocation
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings
from tangible_schemas import dead_letter_topic

pytestmark = pytest.mark.integration

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
# a shared impact report: its signed token is the credential (forged → 404, revoked → 410)
PUBLIC |= {("GET", "/v1/shared-reports/{token}")}
UNDOCUMENTED_PUBLIC = ("/openapi.json", "/docs", "/redoc")  # served outside the document
OPAQUE_IDS = {
    "trial_id",
    "license_id",
    "grant_id",
    "reward_id",
    "channel_id",
    "delivery_id",
    "item_id",
    "rule_id",
    "record_id",
}
THRESHOLD = "tangible.entitlements.v1.threshold_crossed"
TERM = term_around(datetime.now(UTC))  # the services run on the wall clock
ALL_SCOPES = ("admin", "read", "ingest", "portal")
# Reads of the caller's own tenant-wide log or book: the matrix's own calls, made with another
# tenant's admin credential, wrote rows into that tenant under the victim's ids (an account
# named like the victim's), which these list back; ids the matrix sent are not a leak there.
OWN_WRITES_LISTED = {("GET", "/v1/audit"), ("GET", "/v1/audit/export"), ("GET", "/v1/book"),
                     ("GET", "/v1/book/export"), ("GET", "/v1/book/credits-expiring"),
                     ("GET", "/v1/book/credits-expiring/export")}  # fmt: skip
# fields that say when it was read ("parent.field" where the name alone means more); the
# entitlements view's `position` is the change stream's cursor, which any tenant's change moves
VOLATILE = {"at", "generated_at", "as_of", "exported_at", "valid_until", "segments.start", "position"}

RULE = {
    "name": "Other rule",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 5},
    "reward": {"kind": "credits", "credits": "1"},
}
# A valid body per operation that takes one (`path` as in the OpenAPI document).
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/events"): [
        {"specversion": "1.0", "id": "evt-x", "source": "app://x", "type": "report.generated", "subject": "a"}
    ],
    ("POST", "/v1/imports/events"): [
        {"specversion": "1.0", "id": "imp-x", "source": "app://x", "type": "report.generated", "subject": "a"}
    ],
    ("POST", "/v1/features"): {"key": "other", "name": "Other", "kind": "boolean", "outcome": "x"},
    ("PATCH", "/v1/features/{key}"): {"name": "Renamed"},
    ("POST", "/v1/plans"): {"key": "other-plan", "name": "Other"},
    ("PATCH", "/v1/plans/{key}/versions/{version}"): {"name": "Renamed"},
    ("POST", "/v1/addons"): {"key": "other-addon", "name": "Other"},
    ("PATCH", "/v1/addons/{key}/versions/{version}"): {"name": "Renamed"},
    ("POST", "/v1/licenses"): {
        "account_id": "acct-x",
        "plan_key": "starter",
        "term_start": TERM[0],
        "term_end": TERM[1],
    },  # fmt: skip
    ("POST", "/v1/imports/licenses"): {
        "licenses": [
            {"account_id": "acct-x", "plan_key": "starter", "term_start": TERM[0], "term_end": TERM[1]}
        ]
    },
    ("POST", "/v1/licenses/{license_id}/renew"): {"reason": "x"},
    ("POST", "/v1/licenses/{license_id}/plan"): {"plan_key": "starter"},
    ("POST", "/v1/licenses/{license_id}/addons"): {"addon_key": "priority"},
    ("POST", "/v1/licenses/{license_id}/suspend"): {"reason": "x"},
    ("POST", "/v1/licenses/{license_id}/reinstate"): {"reason": "x"},
    ("POST", "/v1/licenses/{license_id}/revoke"): {"reason": "x"},
    ("POST", "/v1/licenses/{license_id}/restore"): {"reason": "x"},
    ("POST", "/v1/licenses/{license_id}/seats"): {"user_id": "u-x"},
    ("POST", "/v1/licenses/{license_id}/trials"): {"target_kind": "addon", "target_key": "extra", "days": 3},
    ("POST", "/v1/licenses/{license_id}/trials/{trial_id}/cancel"): {"reason": "x"},
    ("POST", "/v1/licenses/{license_id}/trials/{trial_id}/convert"): {"reason": "x"},
    ("PUT", "/v1/settings/lifecycle"): {"trial_max_days": 30},
    ("POST", "/v1/accounts/{account_id}/grants"): {"feature_key": "support", "value": "x"},
    ("POST", "/v1/milestones"): {"key": "other-rule", **RULE},
    ("PUT", "/v1/milestones/{key}"): RULE,
    ("PUT", "/v1/accounts/{account_id}/settings"): {"time_zone": "UTC"},
    ("POST", "/v1/accounts/{account_id}/redemptions"): {"amount": "1"},
    ("POST", "/v1/accounts/{account_id}/adjustments"): {"amount": "-1", "reason": "x"},
    ("POST", "/v1/accounts/{account_id}/rewards/{reward_id}/void"): {"reason": "x"},
    ("POST", "/v1/catalog/items"): {"key": "other-item", "name": "Other", "price": "1"},
    ("PATCH", "/v1/catalog/items/{key}"): {"stock": 1},
    ("POST", "/v1/channels"): {"kind": "webhook", "name": "x", "url": "https://hooks.example.com/x"},
    ("PATCH", "/v1/channels/{channel_id}"): {"enabled": False},
    ("POST", "/v1/channels/{channel_id}/secret/rotate"): {"overlap_hours": 1},
    ("PUT", "/v1/accounts/{account_id}/inbox/{item_id}/read"): {"read": True},
    ("PUT", "/v1/accounts/{account_id}/preferences"): {"email": "x@example.com"},
    ("PUT", "/v1/accounts/{account_id}/users/{user_id}/preferences"): {"email": "y@example.com"},
    ("POST", "/v1/rules"): {"name": "x", "event_types": [THRESHOLD], "channels": ["inbox"]},
    ("PUT", "/v1/rules/{rule_id}"): {"name": "x", "event_types": [THRESHOLD], "channels": ["inbox"]},
    ("PUT", "/v1/templates/{event_type}/{channel}"): {"title": "x"},
    ("POST", "/v1/templates/preview"): {"event_type": THRESHOLD},
    ("PUT", "/v1/settings"): {"inbox_enabled": True},
    ("POST", "/v1/credentials"): {"name": "x", "scopes": ["read"]},
    ("POST", "/v1/portal-tokens"): {"account_id": "acct-x"},
    ("POST", "/v1/portal-tokens/invalidate"): {"account_id": "acct-x"},
    ("PUT", "/v1/report-template"): {"primary_color": "#123456"},
    ("POST", "/v1/report-template/preview"): {"locale": "en"},
    ("POST", "/v1/accounts/{account_id}/report/share-links"): {"ttl_hours": 1},
    ("POST", "/v1/dead-letters/{consumer}/replay"): {"reason": "handler_failed"},
}
HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/v1/events"): {"Content-Type": "application/cloudevents-batch+json"},
    ("POST", "/v1/imports/events"): {"Content-Type": "application/cloudevents-batch+json"},
    ("POST", "/v1/accounts/{account_id}/redemptions"): {"Idempotency-Key": "isolation-matrix"},
    ("POST", "/v1/accounts/{account_id}/catalog/items/{key}/redeem"): {"Idempotency-Key": "isolation-matrix"},
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/accounts/{account_id}/usage"): {"from": TERM[0], "to": TERM[1]},
}


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    scope: str | None
    operation: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def streams(self) -> bool:
        """An event stream never ends: in process (ASGI, buffered) only its refusals can be
        read; tests/integration/test_live_stream.py opens it for real."""
        return "text/event-stream" in self.operation.get("responses", {}).get("200", {}).get("content", {})

    @property
    def parameters(self) -> list[str]:
        return [p["name"] for p in self.operation.get("parameters", []) if p["in"] == "path"]

    def enum(self, name: str) -> list[str]:
        """The values the document allows for a path parameter, when it names them."""
        for parameter in self.operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] == name:
                return list(parameter["schema"].get("enum", []))
        return []


def discover(started: dict[str, Any]) -> list[Operation]:
    found = []
    for name, service in started.items():
        for path, item in service.app.openapi()["paths"].items():
            for method, operation in item.items():
                requirements = operation.get("security") or [{}]
                scopes = [s for requirement in requirements for s in requirement.get("bearer", [])]
                scope = scopes[0] if scopes else None
                found.append(Operation(name, method.upper(), path, scope, operation))
    return found


def fill(op: Operation, ids: dict[str, str]) -> str:
    path = op.path
    collection = op.path.split("/")[2] if op.path.count("/") >= 2 else ""
    for name in op.parameters:
        named = ids.get(f"{op.service}:{name}", ids.get(f"{collection}.{name}", ids.get(name)))
        value = named or next(iter(op.enum(name)), None)
        assert value is not None, f"{op}: no seeded value for '{name}': extend seed_tenant"
        path = path.replace("{" + name + "}", value)
    return path


@dataclass
class Call:
    method: str
    url: str
    body: Any
    headers: dict[str, str]
    query: dict[str, str]

    def echoes(self, marker: str) -> bool:
        """The request itself carried it: an error may name what it was asked for."""
        return marker in self.url or marker in json.dumps(self.body) or marker in str(self.query)


def prepare(op: Operation, ids: dict[str, str]) -> Call:
    if "requestBody" in op.operation:
        assert op.key in BODIES, f"{op}: add a valid request body to BODIES"
    return Call(
        op.method, fill(op, ids), BODIES.get(op.key), HEADERS.get(op.key, {}), QUERIES.get(op.key, {})
    )


async def send(client: httpx.AsyncClient, call: Call, token: str | None) -> httpx.Response:
    headers = dict(call.headers)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = json.dumps(call.body).encode() if call.body is not None else None
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    return await client.request(call.method, call.url, params=call.query, content=content, headers=headers)


def assert_problem(response: httpx.Response, where: str) -> None:
    assert response.headers.get("content-type", "").startswith("application/problem+json"), where
    problem = response.json()
    assert problem["status"] == response.status_code and problem["title"] and problem["type"], where


def assert_nothing_of(markers: set[str], response: httpx.Response, call: Call, where: str) -> None:
    leaked = {m for m in markers if m in response.text and not call.echoes(m)}
    assert not leaked, f"{where}: {response.status_code} shows the victim's {sorted(leaked)}"


async def snapshot(ops: list[Operation], started: dict[str, Any], victim: Any, token: str) -> dict[str, Any]:
    """Every readable operation as the victim's admin sees it (each must answer 200)."""
    views = {}
    for op in ops:
        if op.method == "GET" and op.scope is not None and not op.streams:
            call = prepare(op, victim.ids)
            response = await send(started[op.service].client, call, token)
            assert response.status_code == 200, f"{op} as the victim: {response.status_code} {response.text}"
            is_json = response.headers.get("content-type", "").startswith("application/json")
            views[str(op)] = stable_view(response.json()) if is_json else response.text  # CSV, NDJSON
    return views


def stable_view(value: Any, parent: str = "") -> Any:
    """A read without the fields that change with the clock (as-of timestamps)."""
    if isinstance(value, dict):
        return {
            k: stable_view(v, k)
            for k, v in value.items()
            if k not in VOLATILE and f"{parent}.{k}" not in VOLATILE
        }
    if isinstance(value, list):
        return [stable_view(v, parent) for v in value]
    return value


async def revoke(kafka_settings: KafkaSettings, tenant: str, credential_id: str) -> None:
    clients = KafkaClients(kafka_settings)
    producer = clients.producer()
    await producer.start()
    try:
        await publish_revocation(producer, clients, tenant_id=tenant, credential_id=credential_id)
    finally:
        await producer.stop()


async def seed_dead_letters(kafka_settings: KafkaSettings, ops: list[Operation], victim: Any) -> None:
    """A dead letter of the victim's in the first consumer of every service, written as a
    consumer writes one: the routes over them list and show it to the victim's admin only."""
    clients = KafkaClients(kafka_settings)
    producer = clients.producer()
    await producer.start()
    try:
        for op in ops:
            if op.path != "/v1/dead-letters/{consumer}/records/{record_id}":
                continue
            consumer = op.enum("consumer")[0]
            marker = f"dead-letter-of-{victim.account}-in-{op.service}"
            sent = await producer.send_and_wait(
                clients.topic(dead_letter_topic(consumer).name),
                key=f"{victim.tenant}/{victim.account}".encode(),
                value=json.dumps({"account_id": victim.account, "note": marker}).encode(),
                headers=[
                    ("ce_tenantid", victim.tenant.encode()),
                    ("ce_id", marker.encode()),
                    ("ce_type", b"report.generated"),
                    ("dlq_consumer", consumer.encode()),
                    ("dlq_reason", b"handler_failed"),
                    ("dlq_detail", b"seeded by the isolation matrix"),
                    ("dlq_topic", b"tangible.usage.v1"),
                ],
            )
            victim.ids[f"{op.service}:record_id"] = f"{sent.partition}-{sent.offset}"
            victim.markers.add(marker)
            victim.account_markers.add(marker)
    finally:
        await producer.stop()


async def test_no_credential_but_the_victims_own_reaches_the_victims_data(
    start_system: Any,
    started_services: dict[str, Any],
    seed: Any,
    notifications_overrides: dict[str, Any],
    token_issuer: TokenIssuer,
    kafka_settings: KafkaSettings,
    tenant_id: str,
) -> None:
    system = await start_system(overrides={"notifications": notifications_overrides})
    victim = await seed(system, tenant_id, "v1ct1m")
    attacker = f"{tenant_id}-other"
    await seed(system, attacker, "att4ck")  # the attacker has data of its own, under the same keys

    def token(tenant: str, *scopes: str, account: str | None = None, ttl: timedelta | None = None) -> str:
        options: dict[str, Any] = {} if ttl is None else {"ttl": ttl}
        return token_issuer.issue(tenant_id=tenant, scopes=scopes, account_id=account, **options).token

    ops = discover(started_services)
    await seed_dead_letters(kafka_settings, ops, victim)
    undeclared = [str(op) for op in ops if op.scope is None and op.key not in PUBLIC]
    assert not undeclared, f"operations that require no scope and are not listed as public: {undeclared}"
    secured = [op for op in ops if op.scope is not None]
    assert {op.service for op in secured} == set(started_services)

    revoked = token_issuer.issue(tenant_id=tenant_id, scopes=ALL_SCOPES)
    await revoke(kafka_settings, tenant_id, revoked.credential_id)
    # one harmless call per service (a read, or a write without a body) until all follow it
    probes: dict[str, Call] = {}
    for op in sorted(secured, key=lambda o: (o.method != "GET", len(o.parameters))):
        probes.setdefault(
            op.service, Call(op.method, fill(op, victim.ids), None, {}, QUERIES.get(op.key, {}))
        )

    async def refused_everywhere() -> None:
        for name, call in probes.items():
            response = await send(started_services[name].client, call, revoked.token)
            assert response.status_code == 401, (name, call.url, response.status_code)

    await eventually(refused_everywhere, timeout=20)

    victim_admin = token(tenant_id, "admin")

    async def stable() -> dict[str, Any]:
        first = await snapshot(ops, started_services, victim, victim_admin)
        assert first == await snapshot(ops, started_services, victim, victim_admin)
        return first

    before = await eventually(stable, timeout=30)
    other_account = token(tenant_id, "read", account="acct-neighbour")
    other_portal = token_issuer.issue_portal(tenant_id=tenant_id, account_id="acct-neighbour").token
    other_user = token_issuer.issue_portal(
        tenant_id=tenant_id, account_id=victim.account, user_id="someone"
    ).token
    other_tenant = token(attacker, *ALL_SCOPES)
    other_tenant_same_account = token(attacker, "read", account=victim.account)
    refused = {
        "no credential": None,
        "malformed credential": "not-a-token",
        "expired credential": token(tenant_id, *ALL_SCOPES, ttl=timedelta(hours=-1)),
        "revoked credential": revoked.token,
    }
    checked = 0
    for op in secured:
        call = prepare(op, victim.ids)
        client = started_services[op.service].client
        for kind, credential in refused.items():
            response = await send(client, call, credential)
            where = f"{op} with {kind}"
            assert response.status_code == 401, f"{where}: {response.status_code} {response.text}"
            assert_problem(response, where)
            assert_nothing_of(victim.markers, response, call, where)
        for scope in ALL_SCOPES:
            if scope == op.scope or (op.scope in ("read", "portal") and scope == "admin"):
                continue
            response = await send(client, call, token(tenant_id, scope))
            where = f"{op} with the '{scope}' scope instead of '{op.scope}'"
            assert response.status_code == 403, f"{where}: {response.status_code} {response.text}"
            assert_problem(response, where)
            assert_nothing_of(victim.markers, response, call, where)

        for kind, credential in (
            ("an account-scoped token for another account", other_account),
            ("a portal token for another account", other_portal),
            ("a portal token for another user of the account", other_user),
        ):
            own_account = kind.endswith("of the account")
            if op.streams and (own_account or "account_id" not in op.parameters):
                continue  # a stream of the token's own account or user opens (and never ends in
                # process): tests/integration/test_live_stream.py reads what it sends
            if own_account and op.method != "GET" and "user_id" not in op.parameters:
                continue  # the account's writes open to any of its tokens (marking read) would
                # change what is compared
            response = await send(client, call, credential)
            where = f"{op} with {kind}"
            if own_account:
                if "user_id" in op.parameters or op.path.endswith("/{account_id}/preferences"):
                    assert response.status_code == 403, f"{where}: {response.status_code} {response.text}"
                if op.scope != "read":
                    assert response.status_code == 403, f"{where}: {response.status_code} {response.text}"
            elif op.scope != "read" or "account_id" in op.parameters or OPAQUE_IDS & set(op.parameters):
                assert response.status_code == 403, f"{where}: {response.status_code} {response.text}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert_problem(response, where)
            markers = victim.user_markers if own_account else victim.account_markers
            assert_nothing_of(markers, response, call, where)
        if op.streams:
            checked += 1
            continue  # another tenant's credential opens its own tenant's stream: nothing to read

        sent = {m for m in victim.markers if any(prepare(o, victim.ids).echoes(m) for o in secured)}
        markers = victim.markers - sent if op.key in OWN_WRITES_LISTED else victim.markers
        for kind, credential, named in (
            ("another tenant's credential", other_tenant, set()),
            # the account id is the credential's own: a read of "my account" may name it
            (
                "another tenant's credential for the same account id",
                other_tenant_same_account,
                {victim.account},
            ),
        ):
            response = await send(client, call, credential)
            where = f"{op} with {kind}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            if OPAQUE_IDS & set(op.parameters) and response.status_code != 403:
                assert response.status_code == 404, f"{where}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert_problem(response, where)
            assert_nothing_of(markers - named, response, call, where)
        checked += 1

    assert checked == len(secured)
    assert await snapshot(ops, started_services, victim, victim_admin) == before, "the victim's data changed"
    for service in started_services.values():
        for path in UNDOCUMENTED_PUBLIC:
            response = await service.client.get(path)
            assert response.status_code == 200, (service.name, path)
            assert not {m for m in victim.markers if m in response.text}, (service.name, path)
