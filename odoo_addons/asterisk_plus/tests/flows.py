"""Call flows as a real Asterisk 22.10 sent them (inbound trunk calls, a queue, ring groups, Local chains,
click-to-call), as the items the bridge hands to Odoo: AMI headers, `@id`, `@at` (or `@time`), `@e164` and,
for Cdr, `@utc`.

Each flow is (key, synthetic facts, items in the order Asterisk sent them). Only the events the module's
events map selects are kept; headers are trimmed to the ones that matter. Plain Python: the module's tests use
it in Odoo, tests/odoo_module loads it by path."""

from __future__ import annotations

import importlib.util
import os
from datetime import UTC, datetime, timedelta

try:
    from .. import call_events as events
except ImportError:  # loaded by path by tests/odoo_module, outside Odoo
    _spec = importlib.util.spec_from_file_location(
        "asterisk_plus_call_events_for_flows",
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "call_events.py"),
    )
    events = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(events)

T0 = datetime(2026, 12, 1, 4, 10, 18, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cdr_time(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


class Flow:
    """Builds the items of one flow, numbering them as the gateway does (`<session>:<seq>`)."""

    def __init__(self, session: str) -> None:
        self.session = session
        self.items: list[dict] = []

    def add(self, seconds: float, event: str, **headers) -> dict:
        item = {"Event": event, "@id": f"{self.session}:{len(self.items) + 1}", "@at": at(seconds)}
        for name, value in headers.items():
            item[{"e164": "@e164", "utc": "@utc", "Cause_txt": "Cause-txt"}.get(name, name)] = value
        self.items.append(item)
        return item

    def cdr(self, seconds, uniqueid, channel, times, *, dest="", called="", disposition="ANSWERED", **local):
        """A Cdr; `times`: (start, answer or None, end) in seconds from T0, its `@utc`; `called`: an
        inbound call's, with the trunk's caller as Source (and in E.164); `local`: the times as Asterisk wrote
        them."""
        start, answer, end = times
        headers = {"UniqueID": uniqueid, "Channel": channel, "DestinationChannel": dest}
        if called:
            headers.update(Source=TRUNK_IN["CallerIDNum"], Destination=called)
        billable = 0 if answer is None else int(end - answer)
        headers.update(Disposition=disposition, BillableSeconds=str(billable), **local)
        if called:
            headers["e164"] = {"Source": TRUNK_IN["e164"]["CallerIDNum"]}
        answered = "" if answer is None else cdr_time(answer)
        headers["utc"] = {"StartTime": cdr_time(start), "AnswerTime": answered, "EndTime": cdr_time(end)}
        return self.add(seconds, "Cdr", **headers)


def chan(channel: str, uniqueid: str, linkedid: str, **extra) -> dict:
    return dict(Channel=channel, Uniqueid=uniqueid, Linkedid=linkedid, **extra)


TRUNK_IN = {"CallerIDNum": "0470123456", "Exten": "101", "e164": {"CallerIDNum": "+32470123456"}}


def inbound_answered_without_dial() -> tuple[str, list, list]:
    """`Answer()`, `Wait(3)`, `Hangup()`: no Dial at all; in run 2 the Cdr came before the Hangup."""
    key = "1796098218.8"
    f = Flow("a")
    leg = chan("PJSIP/trunk-00000002", key, key, **TRUNK_IN)
    f.add(0, "Newchannel", ChannelState="0", **leg)
    f.add(0.02, "Newstate", ChannelState="6", **leg)
    f.add(3.1, "Hangup", ChannelState="6", Cause="16", Cause_txt="Normal Clearing", **leg)
    local = {"StartTime": cdr_time(0), "AnswerTime": cdr_time(0), "EndTime": cdr_time(3)}
    f.cdr(3.1, key, "PJSIP/trunk-00000002", (0, 0, 3), called="101", **local)
    return key, [], f.items


def inbound_dial_unregistered() -> tuple[str, list, list]:
    """`Dial(PJSIP/6001,5)` while 6001 is not registered: no DialBegin, no Newstate, no Cdr."""
    key = "1796098300.9"
    f = Flow("b")
    leg = chan("PJSIP/trunk-00000003", key, key, **TRUNK_IN)
    f.add(0, "Newchannel", ChannelState="4", **leg)
    f.add(0.01, "Hangup", ChannelState="4", Cause="3", Cause_txt="No route to destination", **leg)
    return key, [], f.items


def queue_answered() -> tuple[str, list, list]:
    """`Queue(support)`, ringall, one member `Local/100@demo` that answers; the caller was answered first."""
    key = "1796100902.11"
    member1, member2 = "Local/100@demo-00000004;1", "Local/100@demo-00000004;2"
    f = Flow("c")
    caller = chan("PJSIP/trunk-00000003", key, key, **TRUNK_IN)
    one = chan(member1, "1796100902.12", key, CallerIDNum="0470123456", Exten="100")
    two = chan(member2, "1796100902.13", key, CallerIDNum="0470123456", Exten="100")
    dest = {"DestChannel": member1, "DestUniqueid": "1796100902.12", "DestLinkedid": key}
    queue = {"Queue": "support", "Interface": "Local/100@demo", "MemberName": "Agent100"}
    f.add(0, "Newchannel", ChannelState="0", **caller)
    f.add(0.01, "Newstate", ChannelState="6", **caller)
    f.add(0.05, "QueueCallerJoin", Queue="support", Position="1", **caller)
    f.add(0.06, "Newchannel", ChannelState="0", **one)
    f.add(0.06, "Newchannel", ChannelState="0", **two)
    f.add(0.07, "AgentCalled", **caller, **dest, **queue)
    f.add(0.07, "DialBegin", DialString="Local/100@demo", **caller, **dest)
    f.add(0.08, "Newstate", ChannelState="6", **two)
    f.add(0.09, "Newstate", ChannelState="6", **one)
    f.add(0.1, "DialEnd", DialStatus="ANSWER", **caller, **dest)
    f.add(0.1, "QueueCallerLeave", Queue="support", **caller)
    f.add(0.11, "AgentConnect", HoldTime="0", RingTime="0", **caller, **dest, **queue)
    f.add(0.12, "BridgeEnter", BridgeUniqueid="b-1", BridgeNumChannels="1", **caller)
    f.add(0.12, "BridgeEnter", BridgeUniqueid="b-1", BridgeNumChannels="2", **one)
    f.add(3.2, "AgentComplete", TalkTime="3", **caller, **dest, **queue)
    f.add(3.2, "Hangup", ChannelState="6", Cause="16", Cause_txt="Normal Clearing", **two)
    f.cdr(3.21, "1796100902.13", member2, (0, 0, 3))
    f.add(3.22, "Hangup", ChannelState="6", Cause="16", Cause_txt="Normal Clearing", **one)
    f.add(3.23, "Hangup", ChannelState="6", Cause="16", Cause_txt="Normal Clearing", **caller)
    f.cdr(3.24, key, "PJSIP/trunk-00000003", (0, 0, 3), dest=member1, called="101")
    return key, [], f.items


def queue_abandoned() -> tuple[str, list, list]:
    """The same queue, but the member does not answer and the caller hangs up while waiting."""
    key = "1796101000.20"
    member1 = "Local/100@demo-00000006;1"
    f = Flow("d")
    caller = chan("PJSIP/trunk-00000005", key, key, **TRUNK_IN)
    one = chan(member1, "1796101000.21", key, CallerIDNum="0470123456", Exten="100")
    dest = {"DestChannel": member1, "DestUniqueid": "1796101000.21", "DestLinkedid": key}
    queue = {"Queue": "support", "Interface": "Local/100@demo", "MemberName": "Agent100"}
    f.add(0, "Newchannel", ChannelState="0", **caller)
    f.add(0.01, "Newstate", ChannelState="6", **caller)
    f.add(0.05, "QueueCallerJoin", Queue="support", Position="1", **caller)
    f.add(0.06, "Newchannel", ChannelState="0", **one)
    f.add(0.07, "AgentCalled", **caller, **dest, **queue)
    f.add(0.07, "DialBegin", DialString="Local/100@demo", **caller, **dest)
    f.add(0.08, "Newstate", ChannelState="5", **one)
    f.add(12.0, "QueueCallerAbandon", Queue="support", Position="1", HoldTime="12", **caller)
    f.add(12.0, "DialEnd", DialStatus="CANCEL", **caller, **dest)
    f.add(12.01, "Hangup", ChannelState="5", Cause="16", Cause_txt="Normal Clearing", **one)
    f.add(12.02, "Hangup", ChannelState="6", Cause="16", Cause_txt="Normal Clearing", **caller)
    f.cdr(12.03, key, "PJSIP/trunk-00000005", (0, 0, 12))
    return key, [], f.items


def local_chain_originate() -> tuple[str, list, list]:
    """`Originate Local/101@from-trunk` -> `demo,100`, both legs answer (not from Odoo); Cdr before Hangup."""
    key = "1796098400.0"
    one, two = "Local/101@from-trunk-00000000;1", "Local/101@from-trunk-00000000;2"
    f = Flow("e")
    leg1 = chan(one, key, key, CallerIDNum="555", Exten="100")
    leg2 = chan(two, "1796098400.1", key, CallerIDNum="555", Exten="101")
    dest = {"DestChannel": one, "DestUniqueid": key, "DestLinkedid": key}
    f.add(0, "Newchannel", ChannelState="0", **leg1)
    f.add(0, "Newchannel", ChannelState="0", **leg2)
    f.add(0.01, "DialBegin", DialString="101@from-trunk", **dest)
    f.add(0.02, "Newstate", ChannelState="6", **leg2)
    f.add(0.02, "Newstate", ChannelState="6", **leg1)
    f.add(0.03, "DialEnd", DialStatus="ANSWER", **dest)
    f.add(
        0.04, "OriginateResponse", ActionID="x-1", Response="Success", Channel=one, Reason="4", Uniqueid=key
    )
    for n, (name, uid, seconds) in enumerate(((two, "1796098400.1", 3.0), (one, key, 3.1))):
        f.cdr(seconds, uid, name, (0, 0, 3))
        f.add(seconds + 0.01, "Hangup", ChannelState="6", Cause="16", **(leg2 if n == 0 else leg1))
    return key, [], f.items


def click_to_call_unreachable(req: str = "c2c1") -> tuple[str, list, list]:
    """Odoo's Originate `PJSIP/6001` (not registered): queued, then only an OriginateResponse Failure."""
    key = events.channel_id(req)
    originate = events.originate_fact(at(0), "+32470123456", True, [{"req": req, "channel": "PJSIP/6001"}])
    f = Flow("f")
    reply = {"@type": "reply", "@id": req, "@status": "ok", "@at": at(0.01), "Response": "Success"}
    reply["Message"] = "Originate successfully queued"
    f.add(
        0.5,
        "OriginateResponse",
        ActionID=f"5e55i0n-{req}",
        Response="Failure",
        Channel="PJSIP/6001",
        Context="from-internal",
        Exten="+32470123456",
        Reason="0",
        Uniqueid="<unknown>",
    )
    return key, [("@originate", originate), (f"@reply:{req}", events.reply_fact(reply))], f.items


def click_to_call_answered(ring_all: bool = False, r1: str = "r1", r2: str = "r2") -> tuple[str, list, list]:
    """Odoo's Originate to the user's phone(s); the user answers on 6001, then the customer on the trunk."""
    reqs = [{"req": r1, "channel": "PJSIP/6001"}] + ([{"req": r2, "channel": "PJSIP/6001b"}] * ring_all)
    key = events.channel_id(r1)
    originate = events.originate_fact(at(0), "+32470123456", True, reqs, "agent", "6001")
    f = Flow("g")
    root = chan("PJSIP/6001-0000000a", key, key, CallerIDNum="6001", Exten="s")
    dest = {"DestChannel": "PJSIP/6001-0000000a", "DestUniqueid": key, "DestLinkedid": key}
    trunk = chan("PJSIP/trunk-0000000c", "1796200000.3", key, CallerIDNum="6001", Exten="0470123456")
    to_trunk = {"DestChannel": "PJSIP/trunk-0000000c", "DestUniqueid": "1796200000.3", "DestLinkedid": key}
    f.add(0.01, "Newchannel", ChannelState="0", **root)
    f.add(0.01, "DialBegin", DialString="6001", **dest)
    if ring_all:
        other_id = events.channel_id(r2)
        other = chan("PJSIP/6001b-0000000b", other_id, other_id, CallerIDNum="6001", Exten="s")
        f.add(0.01, "Newchannel", ChannelState="0", **other)
        f.add(0.2, "Newstate", ChannelState="5", **other)
    f.add(0.2, "Newstate", ChannelState="5", **root)
    f.add(2.0, "Newstate", ChannelState="6", **root)
    f.add(2.0, "DialEnd", DialStatus="ANSWER", **dest)
    f.add(
        2.01,
        "OriginateResponse",
        ActionID=f"s-{r1}",
        Response="Success",
        Channel="PJSIP/6001",
        Reason="4",
        Uniqueid=key,
    )
    f.add(2.02, "DialBegin", DialString="trunk/0470123456", **root, **to_trunk)
    f.add(2.02, "Newchannel", ChannelState="0", **trunk)
    if ring_all:  # Odoo hangs up the other phone once 6001 answered
        f.add(2.1, "Hangup", ChannelState="5", Cause="16", Cause_txt="Normal Clearing", **other)
        f.add(
            2.11,
            "OriginateResponse",
            ActionID=f"s-{r2}",
            Response="Failure",
            Channel="PJSIP/6001b",
            Reason="1",
            Uniqueid=other_id,
        )
    f.add(6.0, "Newstate", ChannelState="6", **trunk)
    f.add(6.0, "DialEnd", DialStatus="ANSWER", **root, **to_trunk)
    f.add(6.01, "BridgeEnter", BridgeUniqueid="b-9", BridgeNumChannels="1", **root)
    f.add(6.01, "BridgeEnter", BridgeUniqueid="b-9", BridgeNumChannels="2", **trunk)
    f.add(66.0, "Hangup", ChannelState="6", Cause="16", Cause_txt="Normal Clearing", **trunk)
    f.add(66.01, "Hangup", ChannelState="6", Cause="16", Cause_txt="Normal Clearing", **root)
    return key, [("@originate", originate)], f.items


def ring_group_answered() -> tuple[str, list, list]:
    """`Dial(Local/201@phone-devices&Local/201@phone-devices&Local/202@phone-devices,20)`: a ring group of
    two devices of extension 201 and one of 202; both 201 legs answer after 1 s, Dial takes the second and
    cancels the others ("Answered elsewhere"). Three Cdrs of the caller's leg, one a dialled party."""
    key = "1796104207.0"
    f = Flow("h")
    trunk = chan(
        "PJSIP/trunk-00000000",
        key,
        key,
        CallerIDNum="0470123456",
        Exten="410",
        e164={"CallerIDNum": "+32470123456"},
    )
    legs = {}
    for n, (name, uid) in enumerate(
        (
            ("Local/201@phone-devices-00000000", "1"),
            ("Local/201@phone-devices-00000001", "3"),
            ("Local/202@phone-devices-00000002", "5"),
        )
    ):
        exten = name.split("/")[1][:3]
        legs[n] = (
            chan(f"{name};1", f"1796104207.{uid}", key, CallerIDNum="<unknown>", Exten=exten),
            chan(f"{name};2", f"1796104207.{int(uid) + 1}", key, CallerIDNum="<unknown>", Exten=exten),
        )
    dest = {
        n: {"DestChannel": one["Channel"], "DestUniqueid": one["Uniqueid"], "DestLinkedid": key}
        for n, (one, _two) in legs.items()
    }
    f.add(0, "Newchannel", ChannelState="4", **trunk)
    for one, two in legs.values():
        f.add(0.01, "Newchannel", ChannelState="0", **one)
        f.add(0.01, "Newchannel", ChannelState="4", **two)
    for n in legs:
        dial = "201@phone-devices" if n < 2 else "202@phone-devices"
        f.add(0.02, "DialBegin", ChannelState="4", DialString=dial, **trunk, **dest[n])
    f.add(1.02, "Newstate", ChannelState="6", **legs[1][1])
    f.add(1.02, "Newstate", ChannelState="6", **legs[0][1])
    f.add(1.03, "Newstate", ChannelState="6", **legs[1][0])
    f.add(1.03, "DialEnd", ChannelState="4", DialStatus="CANCEL", **trunk, **dest[0])
    f.add(1.03, "DialEnd", ChannelState="4", DialStatus="CANCEL", **trunk, **dest[2])
    f.cdr(1.04, legs[0][1]["Uniqueid"], legs[0][1]["Channel"], (0, 1, 1), called="201")
    elsewhere = {"Cause": "26", "Cause_txt": "Answered elsewhere"}
    f.add(1.04, "Hangup", ChannelState="0", **elsewhere, **legs[0][0])
    f.add(1.04, "Hangup", ChannelState="6", **elsewhere, **legs[0][1])
    f.add(1.04, "Hangup", ChannelState="0", **elsewhere, **legs[2][0])
    f.add(1.04, "DialEnd", ChannelState="4", DialStatus="ANSWER", **trunk, **dest[1])
    f.add(1.05, "Newstate", ChannelState="6", **trunk)
    f.add(1.05, "Hangup", ChannelState="4", **elsewhere, **legs[2][1])
    f.add(1.06, "BridgeEnter", BridgeUniqueid="b-rg", BridgeNumChannels="1", **legs[1][0])
    f.add(1.06, "BridgeEnter", BridgeUniqueid="b-rg", BridgeNumChannels="2", **trunk)
    normal = {"Cause": "16", "Cause_txt": "Normal Clearing"}
    f.add(3.05, "Hangup", ChannelState="6", **normal, **legs[1][1])
    f.cdr(3.05, legs[1][1]["Uniqueid"], legs[1][1]["Channel"], (0, 1, 3), called="201")
    f.add(3.06, "Hangup", ChannelState="6", **normal, **legs[1][0])
    f.add(3.06, "Hangup", ChannelState="6", **normal, **trunk)
    for n, disposition in ((0, "NO ANSWER"), (1, "ANSWERED"), (2, "NO ANSWER")):
        times = (0, 1, 3) if disposition == "ANSWERED" else (0, None, 1)
        dest = legs[n][0]["Channel"]
        f.cdr(3.07, key, "PJSIP/trunk-00000000", times, dest=dest, called="410", disposition=disposition)
    return key, [], f.items


def ring_group_missed() -> tuple[str, list, list]:
    """`Dial(Local/202@phone-devices&Local/202@phone-devices,3)`: two devices of extension 202 ring 3 s,
    nobody answers, the caller is hung up without an answer (SIP 603)."""
    key = "1796104215.7"
    f = Flow("i")
    trunk = chan(
        "PJSIP/trunk-00000001",
        key,
        key,
        CallerIDNum="0470123456",
        Exten="420",
        e164={"CallerIDNum": "+32470123456"},
    )
    legs = [
        (
            chan(
                f"Local/202@phone-devices-0000000{n};1",
                f"1796104215.{u}",
                key,
                CallerIDNum="<unknown>",
                Exten="202",
            ),
            chan(
                f"Local/202@phone-devices-0000000{n};2",
                f"1796104215.{u + 1}",
                key,
                CallerIDNum="<unknown>",
                Exten="202",
            ),
        )
        for n, u in ((3, 8), (4, 10))
    ]
    dest = [
        {"DestChannel": one["Channel"], "DestUniqueid": one["Uniqueid"], "DestLinkedid": key}
        for one, _two in legs
    ]
    f.add(0, "Newchannel", ChannelState="4", **trunk)
    for one, two in legs:
        f.add(0.01, "Newchannel", ChannelState="0", **one)
        f.add(0.01, "Newchannel", ChannelState="4", **two)
    for d in dest:
        f.add(0.02, "DialBegin", ChannelState="4", DialString="202@phone-devices", **trunk, **d)
    for d in dest:
        f.add(3.02, "DialEnd", ChannelState="4", DialStatus="NOANSWER", **trunk, **d)
    unknown = {"Cause": "0", "Cause_txt": "Unknown"}
    f.add(3.03, "Hangup", ChannelState="0", **unknown, **legs[0][0])
    f.add(3.03, "Hangup", ChannelState="0", **unknown, **legs[1][0])
    f.add(3.03, "Hangup", ChannelState="4", **unknown, **legs[0][1])
    f.add(3.03, "Hangup", ChannelState="4", **unknown, **legs[1][1])
    f.add(3.04, "Hangup", ChannelState="4", Cause="16", Cause_txt="Normal Clearing", **trunk)
    for one, _two in legs:
        dest = one["Channel"]
        f.cdr(
            3.05, key, "PJSIP/trunk-00000001", (0, None, 3), dest=dest, called="420", disposition="NO ANSWER"
        )
    return key, [], f.items


FLOWS = {
    "inbound_answered_without_dial": inbound_answered_without_dial,
    "inbound_dial_unregistered": inbound_dial_unregistered,
    "queue_answered": queue_answered,
    "queue_abandoned": queue_abandoned,
    "local_chain_originate": local_chain_originate,
    "click_to_call_unreachable": click_to_call_unreachable,
    "click_to_call_answered": click_to_call_answered,
    "click_to_call_ring_all": lambda: click_to_call_answered(ring_all=True),
    "ring_group_answered": ring_group_answered,
    "ring_group_missed": ring_group_missed,
}
