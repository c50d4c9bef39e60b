"""Times: every item Odoo gets says when its event happened (`@time`), and Cdrs that land hours away from
their arrival say the server's timezone in Odoo is wrong, once per offset."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from peers.ami_peer.flows import answered_without_dial
from peers.odoo_peer import OdooPeer
from services.bus import encode, keys
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import Running, bridge_settings, running_bridge, start_bridge

# Asterisk's clock runs in Brussels (UTC+1 in December): a call ends at 05:10:21 there, 04:10:21 UTC.
START = datetime(2026, 12, 1, 5, 10, 18)
ARRIVED = "2026-12-01T04:10:21.250000Z"


def cdr_fields(n: int, start: datetime, arrived: str) -> dict[str, str]:
    (cdr,) = [e for e in answered_without_dial(start) if dict(e)["Event"] == "Cdr"]
    return encode(cdr, type="event", server="asterisk1", at=arrived, id=f"s:cdr{n}")


async def deliver(run: Running, fields: list[dict[str, str]]) -> None:
    await run.bus.publish_fields(keys.EVENTS, fields)
    ids = {f["@id"] for f in fields}

    async def there() -> bool:
        return ids <= {i["@id"] for i in run.peer.items()}

    await eventually(there)


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "the server's timezone in Odoo is probably wrong"]


async def test_items_carry_the_events_own_time(redis_url: str, prefix: str, odoo: OdooPeer) -> None:
    async with running_bridge(bridge_settings(redis_url, prefix, odoo), odoo) as run:
        timed = encode(
            [("Event", "Newchannel"), ("Privilege", "call,all"), ("Timestamp", "1796098218.500000")],
            type="event",
            at=ARRIVED,
            id="s:tv",
        )
        await deliver(run, [timed, cdr_fields(1, START, ARRIVED)])
        by_id = {i["@id"]: i for i in odoo.items()}
        assert by_id["s:tv"]["@time"] == "2026-12-01T04:10:18.500000Z"  # when Asterisk wrote it
        assert by_id["s:cdr1"]["@time"] == ARRIVED  # no time of its own: its arrival


async def test_a_wrong_timezone_is_said_once_per_offset(
    redis_url: str, prefix: str, odoo: OdooPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    odoo.config["tz"] = "Europe/Brussels"  # right: nothing to say
    run = await start_bridge(bridge_settings(redis_url, prefix, odoo), odoo)
    try:
        await deliver(run, [cdr_fields(1, START, ARRIVED)])
        assert warnings(caplog) == []
        await run.halt()

        odoo.config["tz"] = "UTC"  # wrong by an hour: every Cdr ends an hour after it arrived
        run = await start_bridge(bridge_settings(redis_url, prefix, odoo), odoo)
        later = START + timedelta(minutes=7)
        await deliver(
            run, [cdr_fields(2, START, ARRIVED), cdr_fields(3, later, "2026-12-01T04:17:22.000000Z")]
        )
        (said,) = warnings(caplog)
        fields = said.fields  # type: ignore[attr-defined]
        assert (fields["offset_s"], fields["tz"], fields["stream"]) == (3600, "UTC", "events")
        assert fields["detail"] == (
            "Cdr EndTime read in the server's timezone (UTC) is 1 h 00 min later than the Cdr's arrival: the "
            "timezone set for this server in Odoo is probably wrong, by 1 h 00 min"
        )

        # Another offset (a Cdr that arrived two hours late here) is said too, once.
        await deliver(run, [cdr_fields(4, START, "2026-12-01T02:10:21.000000Z")])
        assert [w.fields["offset_s"] for w in warnings(caplog)] == [3600, 3 * 3600]  # type: ignore[attr-defined]

        async def on_the_status() -> bool:
            status = await run.bus.redis.hgetall(run.bus.key("status:odoo_bridge"))
            return "probably wrong, by 3 h 00 min" in status.get("tz_warning", "")

        await eventually(on_the_status)
    finally:
        await run.halt()
