"""`UserEvent(OdooExecute, Model: ..., Method: ..., Args: <JSON>)` in the dialplan reaches
`asterisk_plus.execute_rule.on_execute_events` through the default events map, batched like other events, and
Odoo runs only what it allows: the rest is dead-lettered with Odoo's reason (docs/odoo-api.md, "The developer
API")."""

from __future__ import annotations

import json

from peers.odoo_peer import OdooPeer
from peers.odoo_peer.developer import EXAMPLE, RULES
from services.bus import Bus, encode, keys
from tests.bus.helpers import eventually
from tests.odoo_bridge.conftest import Agent, bridge_settings, running_bridge


def user_event(model: str, method: str, args: str, uid: str = "1796175886.14") -> list[tuple[str, str]]:
    """As Asterisk 22 sends `UserEvent(OdooExecute, Model: m, Method: f, Args: {\\"number\\": ...})`
    (from a real one): the names after each comma keep their leading space, the JSON arrives unescaped."""
    return [
        ("Event", "UserEvent"),
        ("Privilege", "user,all"),
        ("Channel", "Local/300@internal-00000004;2"),
        ("ChannelState", "6"),
        ("ChannelStateDesc", "Up"),
        ("CallerIDNum", "0470123456"),
        ("CallerIDName", "<unknown>"),
        ("ConnectedLineNum", "<unknown>"),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "en"),
        ("AccountCode", ""),
        ("Context", "internal"),
        ("Exten", "300"),
        ("Priority", "3"),
        ("Uniqueid", uid),
        ("Linkedid", "1796175886.13"),
        ("UserEvent", "OdooExecute"),
        (" Model", model),
        (" Method", method),
        (" Args", args),
    ]


ARGS = '{"number": "0470123456", "user": "admin"}'


async def test_a_dialplan_user_event_reaches_the_allowed_method_with_its_args(agent: Agent) -> None:
    agent.odoo.developer.rules.add(EXAMPLE)
    agent.ami.emit(user_event(*EXAMPLE, ARGS))
    agent.ami.emit([("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "Other")])

    async def executed() -> bool:
        return len(agent.odoo.developer.executed) == 1

    await eventually(executed)
    ((model, method, args, item),) = agent.odoo.developer.executed
    assert (model, method, args) == (*EXAMPLE, {"number": "0470123456", "user": "admin"})
    assert item["Linkedid"] == "1796175886.13" and item["@e164"]["CallerIDNum"] == "+32470123456"
    # Only OdooExecute goes there: the map's condition holds the other UserEvent back.
    assert [c for c in agent.odoo.calls if c[1] == "on_execute_events"] == [(RULES, "on_execute_events", 1)]


async def test_a_method_odoo_does_not_allow_is_refused_and_dead_lettered(agent: Agent) -> None:
    agent.ami.emit(user_event(*EXAMPLE, ARGS))  # marked @dialplan, but no admin rule allows it
    agent.ami.emit(user_event("res.users", "unlink", "{}", uid="1796175886.15"))

    async def dead() -> bool:
        return await agent.bus.redis.xlen(agent.bus.key(keys.DEAD)) == 2

    await eventually(dead)
    letters = [f for _, f in await agent.bus.redis.xrange(agent.bus.key(keys.DEAD))]
    assert all("may not be called from the dialplan" in f["@error"] for f in letters)
    assert {f[" Method"] for f in letters} == {"request_callback", "unlink"}
    assert agent.odoo.developer.executed == []


async def test_many_user_events_go_to_odoo_in_one_batch(redis_url: str, prefix: str) -> None:
    peer = await OdooPeer().start()
    peer.developer.rules.add(EXAMPLE)
    settings = bridge_settings(redis_url, prefix, peer)
    # On the bus before the bridge reads: its first read takes them all.
    bus = Bus(settings)
    await bus.publish_fields(
        keys.EVENTS,
        [
            encode(
                user_event(*EXAMPLE, json.dumps({"number": f"047012345{n}"}), uid=f"1796175886.{n}"),
                type="event",
                server="asterisk1",
                at="2026-12-02T01:00:00.000000Z",
                id=f"sess:{n}",
            )
            for n in range(10)
        ],
    )
    await bus.close()
    async with running_bridge(settings, peer, stop_peer=True):

        async def all_in() -> bool:
            return len(peer.developer.executed) == 10

        await eventually(all_in)
        assert [a["number"] for _m, _f, a, _i in peer.developer.executed] == [
            f"047012345{n}" for n in range(10)
        ]
        # One call's events, all on the bus at the first read: one Odoo call.
        assert [c for c in peer.calls if c[1] == "on_execute_events"] == [(RULES, "on_execute_events", 10)]
