"""Who hears what about a ringing call (odoo_addons/asterisk_plus/call_popup.py), over the real flows: every
rung user hears of it once per state, and the last thing each one hears is how the call ended, whatever order
and batches the events came in."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.odoo_module.module_files import MODULE, load

events = load("call_events")
state = load("call_state")
popup = load("call_popup")
flows = load("flows", MODULE / "tests" / "flows.py")

# Phones of the PBX users, as the module's directory holds them (channel without its suffix -> user).
PHONES = {
    "Local/100@demo": "agent100",
    "Local/201@phone-devices": "alice",  # two devices of one extension: the same phone twice
    "Local/202@phone-devices": "bob",
}


def user_of(channel: str, exten: str) -> str | None:
    return PHONES.get(events.channel_base(channel))


def replay(key: str, synthetic: list, batches: list[list]) -> tuple[dict, dict[str, list], list]:
    """Deliver the batches as Odoo does: (final memory, what each user heard in order, missed notices)."""
    facts, memory, heard, missed = dict(synthetic), {}, {}, []
    for batch in batches:
        facts = state.fold(facts, batch)
        summary = state.summarize(facts, key)
        before = memory
        memory, tell = popup.news(summary, memory, user_of)
        for user in tell:
            heard.setdefault(user, []).append(popup.said(summary))
        if tell and popup.missed(before, memory):
            missed.append(sorted(tell))
    return memory, heard, missed


RUNG = {
    "queue_answered": ["agent100"],
    "queue_abandoned": ["agent100"],
    "ring_group_answered": ["alice", "bob"],
    "ring_group_missed": ["bob"],
}


def batched(data, items: list) -> list[list]:
    cuts = sorted(data.draw(st.sets(st.integers(1, len(items) - 1), max_size=6)))
    return [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)]


def final_words(key: str, synthetic: list, items: list) -> tuple[str, str]:
    return popup.said(state.summarize(state.fold(dict(synthetic), items), key))


@pytest.mark.parametrize("name", sorted(RUNG))
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_in_the_order_asterisk_sent_them_every_rung_user_hears_each_thing_once_and_last_the_end(
    name: str, data
) -> None:
    """The bridge keeps a call's events in order; the batches it cuts them into vary."""
    key, synthetic, items = flows.FLOWS[name]()
    memory, heard, missed = replay(key, synthetic, batched(data, items))
    final = final_words(key, synthetic, items)
    assert sorted(heard) == RUNG[name]
    assert (memory["state"], memory["status"]) == final
    for user, said in heard.items():
        assert said[-1] == final, (user, said)
        assert len(said) == len(set(said)), (user, said)
    assert missed == ([RUNG[name]] if final[1] == "missed" else [])


@pytest.mark.parametrize("name", sorted(RUNG))
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_in_any_order_every_rung_user_still_hears_last_how_the_call_ended(name: str, data) -> None:
    """Out of order (a redelivery after a crash), a call may look ended or missed for a while before its
    first events tell it was answered: the users then hear it again, never the same thing twice in a row,
    and the last word is the call's."""
    key, synthetic, items = flows.FLOWS[name]()
    _memory, heard, missed = replay(key, synthetic, batched(data, data.draw(st.permutations(items))))
    final = final_words(key, synthetic, items)
    assert sorted(heard) == RUNG[name]
    for user, said in heard.items():
        assert said[-1] == final, (user, said)
        assert all(a != b for a, b in itertools.pairwise(said)), (user, said)
    assert len(missed) <= 1
    if final[1] == "missed":
        assert missed == [RUNG[name]]


def test_a_queue_call_rings_the_agent_then_says_it_answered_then_that_it_ended() -> None:
    key, synthetic, items = flows.queue_answered()
    called = next(i for i, item in enumerate(items) if item["Event"] == "AgentCalled")
    connect = next(i for i, item in enumerate(items) if item["Event"] == "AgentConnect")
    batches = [items[: called + 1], items[called + 1 : connect + 1], items[connect + 1 :]]
    memory, heard, missed = replay(key, synthetic, batches)
    assert heard == {"agent100": [("ringing", ""), ("answered", ""), ("ended", "answered")]}
    assert memory == {"rung": ["agent100"], "state": popup.ENDED, "status": "answered"}
    assert missed == []


def test_two_devices_of_one_extension_ring_one_pop_up_and_the_other_user_hears_who_took_it() -> None:
    key, synthetic, items = flows.ring_group_answered()
    dialled = max(i for i, item in enumerate(items) if item["Event"] == "DialBegin")
    answered = next(i for i, item in enumerate(items) if item.get("DialStatus") == "ANSWER")
    batches = [items[: dialled + 1], items[dialled + 1 : answered + 1], items[answered + 1 :]]
    _memory, heard, _missed = replay(key, synthetic, batches)
    told = [("ringing", ""), ("answered", ""), ("ended", "answered")]
    assert heard == {"alice": told, "bob": told}
    summary = state.summarize(state.fold({}, items), key)
    assert popup.answered_user(summary, user_of) == "alice"


def test_an_outgoing_call_pops_up_for_nobody() -> None:
    key, synthetic, items = flows.click_to_call_answered()
    memory, heard, missed = replay(key, synthetic, [items])
    assert (memory, heard, missed) == ({}, {}, [])


def test_a_redelivered_batch_tells_nobody_again() -> None:
    key, _synthetic, items = flows.ring_group_missed()
    facts = state.fold({}, items)
    summary = state.summarize(facts, key)
    memory, tell = popup.news(summary, {}, user_of)
    assert tell == ["bob"] and popup.missed({}, memory)
    again, tell = popup.news(summary, memory, user_of)
    assert (again, tell) == (memory, []) and not popup.missed(memory, again)
