"""Each API replica LISTENs for the accounts whose progress a commit may have changed and
drops what its view keeps for them (see service_layer/live_view.py and migration 0006).

A notification is one `tenant<TAB>account` per line, `tenant<TAB>*` for a rule change, or
`*` alone (a TRUNCATE: everything).

The connection is tested every second: a connection that died without a reset (a failover,
a proxy's timeout) would otherwise go unnoticed, and announcements with it, for as long as
the kept progress may live.
"""

from __future__ import annotations

from tangible_rewards.service_layer.live_view import AccountKey, LiveView
from tangible_runtime.listen import ChannelListener
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker

log = get_logger(__name__)

CHANNEL = "tangible_rewards_progress"
CHECK_SECONDS = 1.0


def progress_listener(runtime: ServiceRuntime, view: LiveView) -> Worker:
    listener = ChannelListener(runtime.engine, CHANNEL, check_seconds=CHECK_SECONDS)

    def announced(payload: str) -> None:
        if payload == "*":
            view.clear()
            return
        accounts: list[AccountKey] = []
        for line in payload.split("\n"):  # not splitlines: ids may hold \r and the like
            tenant_id, _, account_id = line.partition("\t")
            if account_id == "*":
                view.invalidate_tenant(tenant_id)
            elif account_id:
                accounts.append((tenant_id, account_id))
            else:  # not ours to parse: nothing kept can be trusted
                log.warning("rewards_progress_announcement_unreadable", payload=payload[:200])
                view.clear()
        view.invalidate(accounts)

    async def listen() -> None:
        await listener.run(announced, view.set_listening)

    return Worker("rewards-progress-listener", listen)
