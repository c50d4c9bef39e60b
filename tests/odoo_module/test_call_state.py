"""The call state (odoo_addons/asterisk_plus/call_state.py) is the same whatever order the events came in.

The flows are the real ones (the module's tests/flows.py). Hypothesis feeds each in every order it likes; the
result must be the one of the order Asterisk used, and the status must never move back along the way."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.odoo_module.module_files import MODULE, load

events = load("call_events")
state = load("call_state")
flows = load("flows", MODULE / "tests" / "flows.py")
FLOWS, at, cdr_time = flows.FLOWS, flows.at, flows.cdr_time


def summary_of(key: str, synthetic: list, items: list) -> dict:
    return state.summarize(state.fold(dict(synthetic), items), key)


def flow(name: str) -> tuple[str, list, list, dict]:
    key, synthetic, items = FLOWS[name]()
    return key, synthetic, items, summary_of(key, synthetic, items)


@pytest.mark.parametrize("name", sorted(FLOWS))
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_every_order_of_a_call_gives_one_result_and_the_status_never_goes_back(name: str, data) -> None:
    key, synthetic, items, expected = flow(name)
    order = data.draw(st.permutations(items))
    facts = dict(synthetic)
    ranks = [state.summarize(facts, key)["rank"]]
    for item in order:
        facts = state.fold(facts, [item])
        ranks.append(state.summarize(facts, key)["rank"])
    assert ranks == sorted(ranks), [i["Event"] for i in order]
    assert state.summarize(facts, key) == expected


@pytest.mark.parametrize("name", sorted(FLOWS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_call_split_in_two_records_and_merged_is_the_same_call(name: str, data) -> None:
    """What Odoo does when a Cdr made a call of its own before its channel's other events named the call."""
    key, synthetic, items, expected = flow(name)
    picks = data.draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items)))
    first = [item for item, pick in zip(items, picks, strict=True) if pick]
    second = [item for item, pick in zip(items, picks, strict=True) if not pick]
    merged = state.merge(state.fold({}, second), state.fold(dict(synthetic), first))
    assert state.summarize(merged, key) == expected


@pytest.mark.parametrize("name", sorted(FLOWS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_redelivered_event_changes_nothing(name: str, data) -> None:
    key, synthetic, items, expected = flow(name)
    again = data.draw(st.lists(st.sampled_from(items), max_size=len(items)))
    assert summary_of(key, synthetic, items + again) == expected


def test_an_inbound_call_answered_by_the_dialplan_alone_is_answered() -> None:
    *_, s = flow("inbound_answered_without_dial")
    assert (s["status"], s["direction"], s["caller"], s["called"]) == (
        "answered",
        "in",
        "+32470123456",
        "101",
    )
    assert s["answered_by_dialplan"] and s["answered_by"] is None
    assert (s["ring_time"], s["talk_time"], s["duration"]) == (0, 3, 3)
    assert s["started_at"] == "2026-12-01 04:10:18.000000"


def test_an_inbound_call_to_an_unregistered_phone_is_missed() -> None:
    *_, s = flow("inbound_dial_unregistered")
    assert (s["status"], s["answered"], s["reason"]) == (
        "missed",
        False,
        "PJSIP/trunk-00000003: No route to destination",
    )


def test_a_queue_call_is_answered_by_the_member_on_the_end_of_the_local_chain() -> None:
    key, _synthetic, _items, s = flow("queue_answered")
    assert (s["status"], s["queue"], s["answered_by_dialplan"]) == ("answered", "support", False)
    assert s["answered_by"] == {
        "uniqueid": "1796100902.12",
        "channel": "Local/100@demo-00000004;1",
        "exten": "100",
        "member": "Agent100",
    }
    # The member's leg answering, not the dialplan's Answer() of the caller before the queue.
    assert s["answered_at"] == "2026-12-01 04:10:18.080000"
    assert [(leg["uniqueid"], leg["role"]) for leg in s["legs"]] == [
        (key, "caller"),
        ("1796100902.12", "answered"),
        ("1796100902.13", ""),
    ]
    assert s["rung"] == ["Local/100@demo-00000004;1"]


def test_a_caller_who_gives_up_in_the_queue_is_a_missed_call_though_the_dialplan_answered_him() -> None:
    *_, s = flow("queue_abandoned")
    assert (s["status"], s["abandoned"], s["answered"]) == ("missed", "support", False)
    assert s["reason"] == "The caller gave up waiting in queue support"
    assert (s["ring_time"], s["talk_time"]) == (12, 0)


def test_a_local_chain_is_one_call_with_both_legs() -> None:
    key, _synthetic, _items, s = flow("local_chain_originate")
    assert (s["status"], s["direction"]) == ("answered", "internal")
    assert [leg["uniqueid"] for leg in s["legs"]] == [key, "1796098400.1"]


def test_a_click_to_call_to_an_unreachable_phone_fails_with_the_reason_in_words() -> None:
    key, synthetic, _items, s = flow("click_to_call_unreachable")
    assert (s["status"], s["direction"], s["called"]) == ("failed", "out", "+32470123456")
    assert s["reason"] == "PJSIP/6001 could not be called: not registered, unknown or unavailable"
    assert state.summarize(dict(synthetic), key)["status"] == "dialing"


def test_a_click_to_call_is_answered_when_the_customer_answers_not_when_the_user_does() -> None:
    key, synthetic, items, s = flow("click_to_call_answered")
    assert (s["status"], s["answered_by"]["channel"]) == ("answered", "PJSIP/trunk-0000000c")
    assert (s["ring_time"], s["talk_time"], s["duration"]) == (6, 60, 66)
    assert s["root_answered"] == [key]
    user_answered = [i for i in items if i["@at"] <= at(2.02)]
    half = summary_of(key, synthetic, user_answered)
    assert (half["status"], half["answered"]) == ("up", False)


def test_ring_all_ends_only_when_every_phone_is_done() -> None:
    key, synthetic, items, s = flow("click_to_call_ring_all")
    assert (s["status"], s["roots"]) == ("answered", ["odoo-r1", "odoo-r2"])
    other_phone = [i for i in items if i.get("Uniqueid") != "odoo-r2"]
    assert summary_of(key, synthetic, other_phone)["status"] == "up"


def test_a_cdr_read_in_the_wrong_timezone_is_reported_and_its_times_are_not_used() -> None:
    key, _synthetic, items, _s = flow("inbound_answered_without_dial")
    cdr = next(i for i in items if i["Event"] == "Cdr")
    shifted = dict(cdr, **{"@utc": {k: cdr_time(3600 + 3 * (k == "EndTime")) for k in cdr["@utc"]}})
    without_hangup = [i for i in items if i["Event"] not in ("Hangup", "Cdr")] + [shifted]
    s = summary_of(key, [], without_hangup)
    assert s["status"] == "answered"
    assert s["skews"] and abs(s["skews"][0] + 3600) < 2
    assert s["duration"] == 3  # the Cdr's arrival, not its EndTime an hour off


def test_channel_names_give_their_extension() -> None:
    assert events.channel_exten("PJSIP/101-0000000a") == "101"
    assert events.channel_exten("Local/100@demo-00000004;1") == "100"
    assert events.channel_base("PJSIP/office-abc") == "PJSIP/office-abc"
    assert events.channel_base("SIP/trunk-out-00000001") == "SIP/trunk-out"
    assert events.request_of("a1b2c3d4e5f6-0123abcd") == "0123abcd"


def test_events_outside_a_call_are_no_facts() -> None:
    assert events.fact({"Event": "FullyBooted"}) is None
    assert events.fact({"Event": "VarSet", "Linkedid": "1"}) is None
    assert state.fold({}, [{"Event": "PeerStatus"}]) == {}


def test_a_cdr_answer_time_in_whole_seconds_is_used_only_when_no_event_gave_the_answer_time() -> None:
    """A real Asterisk's Cdr says `AnswerTime: 04:10:18` for a channel answered at 04:10:18.020 (Newstate):
    the Cdr's truncated second is earlier and must not win; without the Newstate it is all there is."""
    key, synthetic, items, s = flow("inbound_answered_without_dial")
    assert s["answered_at"] == "2026-12-01 04:10:18.020000"
    assert (s["ring_time"], s["talk_time"]) == (0, 3)
    without_newstate = [i for i in items if i["Event"] != "Newstate"]
    s = summary_of(key, synthetic, without_newstate)
    assert s["status"] == "answered" and s["answered_by_dialplan"]
    assert s["answered_at"] == "2026-12-01 04:10:18.000000"
