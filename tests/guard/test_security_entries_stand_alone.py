"""One bad entry on `security` is dead-lettered alone: the attackers in the same batch are banned."""

from __future__ import annotations

from peers.ami_peer import attack, security_event
from services.bus import encode, keys
from tests.bus.helpers import eventually
from tests.guard.helpers import AT, guard_settings, published, started


async def test_an_entry_with_two_remote_addresses_is_dead_lettered_alone(redis_url: str, prefix: str) -> None:
    run = await started(guard_settings(redis_url, prefix))
    try:
        events = list(attack(["203.0.113.61", "203.0.113.62"], attempts=5))
        twice = [(k, v) for k, v in security_event("InvalidPassword", "203.0.113.63") if k != "RemoteAddress"]
        twice += [
            ("RemoteAddress", "IPV4/UDP/203.0.113.63/5060"),
            ("RemoteAddress", "IPV4/UDP/203.0.113.64/5060"),
        ]
        odd_event = [*security_event("InvalidPassword", "203.0.113.65"), ("Event", "InvalidAccountID")]
        fields = [encode(p, type="event", at=AT) for p in events]
        bad = [encode(twice, type="event", at=AT), encode(odd_event, type="event", at=AT)]
        assert "RemoteAddress#2" in bad[0] and "Event#2" in bad[1]
        fields[3:3] = bad  # in the middle of one batch
        ids = await run.bus.publish_fields(keys.SECURITY, fields)

        await eventually(run.has("203.0.113.61"))
        await eventually(run.has("203.0.113.62"))
        await eventually(lambda: published(run, 2))

        async def dead_lettered() -> bool:
            return await run.bus.redis.xlen(run.bus.key(keys.DEAD)) == 2

        await eventually(dead_lettered)
        dead = [f for _, f in await run.bus.redis.xrange(run.bus.key(keys.DEAD))]
        assert [d["@source_id"] for d in dead] == ids[3:5]
        assert dead[0]["RemoteAddress#2"] == "IPV4/UDP/203.0.113.64/5060" and dead[0]["@source"] == "security"
        assert all("@error" in d for d in dead)
        assert set(run.backend.banned) == {"203.0.113.61", "203.0.113.62"}
        assert run.guard.events_seen == len(fields)
    finally:
        await run.close()
