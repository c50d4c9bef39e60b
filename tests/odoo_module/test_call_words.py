"""A call's words (odoo_addons/asterisk_plus/call_words.py): English as they always were without a translator,
and every word through the translator given (Odoo gives one in the reader's language), without Odoo."""

from __future__ import annotations

import pytest

from tests.odoo_module.module_files import MODULE, load

words = load("call_words")
state = load("call_state")
flows = load("flows", MODULE / "tests" / "flows.py")

CH = "PJSIP/101-0000000a"
FACTS = [
    (
        {"e": "Newchannel", "ch": CH, "num": "+32470123456", "exten": "101"},
        f"{CH}: new channel (+32470123456 -> 101)",
    ),
    ({"e": "Newchannel", "ch": CH}, f"{CH}: new channel (? -> ?)"),
    ({"e": "Newstate", "ch": CH, "st": "6"}, f"{CH}: answered"),
    ({"e": "Newstate", "ch": CH, "st": "5"}, f"{CH}: ringing"),
    ({"e": "Newstate", "ch": CH, "st": "4"}, f"{CH}: ring"),
    ({"e": "Newstate", "ch": CH, "st": "3"}, f"{CH}: state 3"),
    (
        {"e": "Hangup", "ch": CH, "cause": 16, "cause_txt": "Normal Clearing"},
        f"{CH}: hung up (Normal Clearing)",
    ),
    ({"e": "Hangup", "ch": CH, "cause": 16}, f"{CH}: hung up (16)"),
    ({"e": "DialBegin", "ch": CH, "dch": "PJSIP/102-0000000b"}, f"{CH} dials PJSIP/102-0000000b"),
    ({"e": "DialBegin", "dstr": "PJSIP/102"}, "Originate dials PJSIP/102"),
    ({"e": "DialEnd", "dch": "PJSIP/102-0000000b", "ds": "BUSY"}, "PJSIP/102-0000000b: BUSY"),
    ({"e": "BridgeEnter", "ch": CH, "n": 2}, f"{CH} joins a bridge (2 in it)"),
    ({"e": "QueueCallerJoin", "ch": CH, "queue": "sales"}, f"{CH} waits in queue sales"),
    ({"e": "QueueCallerLeave", "ch": CH, "queue": "sales"}, f"{CH} leaves queue sales"),
    ({"e": "QueueCallerAbandon", "ch": CH, "queue": "sales"}, f"{CH} gives up in queue sales"),
    ({"e": "AgentCalled", "queue": "sales", "member": "Alice", "dch": CH}, "Queue sales rings Alice"),
    ({"e": "AgentConnect", "queue": "sales", "dch": CH}, f"Queue sales is answered by {CH}"),
    ({"e": "AgentComplete", "queue": "sales", "member": "Alice"}, "Queue sales is done with Alice"),
    ({"e": "Cdr", "ch": CH, "disp": "ANSWERED", "bill": 12}, f"CDR {CH}: ANSWERED, 12 s billed"),
    (
        {"e": "OriginateResponse", "ch": CH, "resp": "Failure", "reason": 5},
        f"Originate {CH}: Failure (is busy)",
    ),
    ({"e": "OriginateResponse", "ch": CH, "resp": "Failure", "reason": 99}, f"Originate {CH}: Failure ()"),
    ({"e": "OriginateResponse", "ch": CH, "resp": "Success", "reason": 4}, f"Originate {CH}: Success"),
    (
        {
            "e": "@originate",
            "login": "bob",
            "number": "+3225551234",
            "reqs": [{"ch": "PJSIP/1"}, {"ch": "PJSIP/2"}],
        },
        "Click-to-call by bob: PJSIP/1, PJSIP/2 -> +3225551234",
    ),
    (
        {"e": "@reply", "ok": True, "msg": "Originate successfully queued"},
        "Asterisk accepted the call: Originate successfully queued",
    ),
    (
        {"e": "@reply", "ok": False, "msg": "Extension does not exist."},
        "Asterisk refused the call: Extension does not exist.",
    ),
    ({"e": "@siblings", "on": "odoo-7"}, "Answered on odoo-7: the other phones stop ringing"),
]


def shouting(source: str, *args: object) -> str:
    """A fake translator: the text upper-cased, its `%s` kept, so the arguments come through as they are."""
    text = source.upper().replace("%S", "%s")
    return text % args if args else text


@pytest.mark.parametrize(("fact", "english"), FACTS)
def test_each_fact_reads_as_it_always_did_in_english(fact: dict, english: str) -> None:
    assert words.describe(fact) == english
    assert words.describe(fact, words.plain) == english


@pytest.mark.parametrize(("fact", "english"), [(f, e) for f, e in FACTS if f["e"] != "DialEnd"])
def test_each_fact_has_its_words_from_the_translator_given(fact: dict, english: str) -> None:
    translated = words.describe(fact, shouting)
    assert translated != english
    assert translated.upper() == english.upper()  # the same line, nothing else changed ...
    for value in ("PJSIP/102-0000000b", CH, "sales", "Alice", "bob", "Normal Clearing", "odoo-7"):
        if value in english:
            assert value in translated  # ... and what Asterisk or the user named stays as it was


@pytest.mark.parametrize("name", sorted(flows.FLOWS))
def test_a_summary_has_its_words_from_the_translator_and_nothing_else_changes(name: str) -> None:
    key, synthetic, items = flows.FLOWS[name]()
    facts = state.fold(dict(synthetic), items)
    english, translated = state.summarize(facts, key), state.summarize(facts, key, shouting)
    assert {k: v for k, v in translated.items() if k not in ("reason", "timeline")} == {
        k: v for k, v in english.items() if k not in ("reason", "timeline")
    }
    assert translated["reason"].upper() == english["reason"].upper()
    assert [line.upper() for _t, line in translated["timeline"]] == [
        line.upper() for _t, line in english["timeline"]
    ]
    changed = [
        line
        for (_t, line), (_e, plain) in zip(translated["timeline"], english["timeline"], strict=True)
        if line != plain
    ]
    assert changed  # every flow has some line in words


def test_why_a_call_failed_comes_from_the_translator() -> None:
    cases = {
        "click_to_call_unreachable": "PJSIP/6001 COULD NOT BE CALLED: NOT REGISTERED, UNKNOWN OR UNAVAILABLE",
        "inbound_dial_unregistered": None,  # Asterisk's own words for the hangup cause: as it said them
    }
    for name, expected in cases.items():
        key, synthetic, items = flows.FLOWS[name]()
        facts = state.fold(dict(synthetic), items)
        reason = state.summarize(facts, key, shouting)["reason"]
        assert reason == (expected or state.summarize(facts, key)["reason"]), name
    key, synthetic, items = flows.FLOWS["queue_abandoned"]()
    s = state.summarize(state.fold(dict(synthetic), items), key, shouting)
    assert s["reason"] == f"THE CALLER GAVE UP WAITING IN QUEUE {s['abandoned']}"
    assert state.summarize({}, "none", shouting)["reason"] == ""  # not ended: no reason


def test_nobody_answered_and_a_refusal_with_its_hint_come_from_the_translator() -> None:
    hangup = {"e": "Hangup", "u": "k", "t": "2026-12-01 10:00:05.000000", "ch": "PJSIP/1-1", "cause": 16}
    assert state.summarize({"h": hangup}, "k")["reason"] == "Nobody answered"
    assert state.summarize({"h": hangup}, "k", shouting)["reason"] == "NOBODY ANSWERED"
    events = load("call_events")
    click = events.originate_fact(
        "2026-12-01T10:00:00Z", "+3225551234", True, [{"req": "r1", "channel": "PJSIP/1"}]
    )
    refused = {
        "e": "@reply",
        "t": "2026-12-01 10:00:01.000000",
        "req": "r1",
        "ok": False,
        "msg": "No such extension: it does not exist",
    }
    facts = {"@originate": dict(click, ctx="office"), "r": refused}
    english = state.summarize(facts, "odoo-r1")
    assert (english["status"], english["reason"]) == (
        "failed",
        "Asterisk refused the call: No such extension: it does not exist (no +3225551234 in context office: "
        "check the PBX user's or the server's context)",
    )
    assert state.summarize(facts, "odoo-r1", shouting)["reason"] == (
        "ASTERISK REFUSED THE CALL: No such extension: it does not exist (NO +3225551234 IN CONTEXT office: "
        "CHECK THE PBX USER'S OR THE SERVER'S CONTEXT)"
    )
