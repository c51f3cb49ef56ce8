"""The platform's own integration: stored setpoints out through the connectors' dispatcher.

A park whose devices the platform reaches itself (a BMS over Modbus, a controller over
MQTT) has no integration fetching its setpoints over the API; :func:`relay_pending` plays
that part. It takes the pending setpoints of the names the dispatcher has targets for
(``Store.deliver_setpoints``, so each goes out once), sends each through
:meth:`carbontwin.connectors.dispatch.Dispatcher.dispatch` (rules, rate limits, write,
read-back and its audit record) and records the answer (``acknowledged`` with the value
read back, or ``failed`` with the dispatcher's reason). A strategy's setpoints, issued
quarter-hour by quarter-hour (:func:`carbontwin.runtime.strategies.issue_due`), reach the
devices this way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from carbontwin.connectors.dispatch import Dispatcher
from carbontwin.core.park import Park
from carbontwin.store import Store

__all__ = ["RELAY", "relay_pending"]

#: The name the relay fetches setpoints as.
RELAY = "dispatcher"


async def relay_pending(
    store: Store,
    park: Park,
    dispatcher: Dispatcher,
    *,
    name: str = RELAY,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Send the pending setpoints the dispatcher can reach; return their stored records.

    A newer setpoint of a name supersedes older pending ones of it: only the newest is sent
    and the older are answered ``failed`` ("superseded"). Setpoints past their validity at
    ``now`` (the platform's clock; the live demo's accelerated one) expire unsent.
    """
    wanted = sorted(dispatcher.targets)
    delivered = store.deliver_setpoints(park.id, wanted, to=name, now=now)
    newest: dict[str, dict[str, Any]] = {}
    for s in sorted(delivered, key=lambda r: r["id"]):
        newest[s["point"]] = s
    out = []
    for s in delivered:
        keep = newest[s["point"]]
        if s["id"] != keep["id"]:
            out.append(
                store.acknowledge_setpoint(
                    s["id"],
                    by=name,
                    applied=False,
                    detail=f"superseded by setpoint {keep['id']} before it was sent",
                )
            )
    for s in newest.values():
        result = await dispatcher.dispatch(s["point"], s["value"])
        out.append(
            store.acknowledge_setpoint(
                s["id"],
                by=name,
                applied=result.ok,
                readback=result.read_back,
                detail=result.reason or result.outcome,
            )
        )
    return out
