"""Inbound flows as a real Asterisk 22.10.1 sent them: answered by the dialplan, to an unregistered phone,
through a queue.

Each is the events of one call in the order observed, headers as Asterisk wrote them. Where the observations
give an event's name but not its headers, the headers are those Asterisk's manager code writes for that event
(a channel snapshot, plus the event's own fields).
"""

from __future__ import annotations

from datetime import datetime

from .parts import (
    RING,
    Flow,
    Leg,
    Pairs,
    cdr,
    device,
    event,
    hangup,
    newexten,
    soft_hangup,
    trunk_answered,
    trunk_leg,
    varset,
    with_fields,
)

HANGUP_NO_ROUTE = [("Cause", "3"), ("Cause-txt", "No route to destination"), ("TechCause", "404")]


def answered_without_dial(
    start: datetime | None = None, *, cdr_first: bool = False, caller: str = "0470123456", exten: str = "101"
) -> list[Pairs]:
    """Inbound call answered by the dialplan itself (`Answer()`, `Wait(3)`, `Hangup()`): no Dial events.

    Run 1 of the notes: `Newchannel > Newstate > DeviceStateChange > SoftHangupRequest > Hangup > Cdr >
    DeviceStateChange`; run 2 (`cdr_first`): the Cdr came before the Hangup.
    """
    flow = Flow(start or datetime.now())
    leg = trunk_leg(flow, exten, caller, "Customer")
    events = [event("Newchannel", leg.snapshot())]
    leg.priority = 2
    events.append(event("Newstate", leg.up().snapshot()))
    events.append(device("PJSIP/trunk", "INUSE"))
    leg.priority = 4
    events.append(soft_hangup(leg))
    record = cdr(flow, leg, last_app="Hangup")
    events += [record, hangup(leg)] if cdr_first else [hangup(leg), record]
    events.append(device("PJSIP/trunk", "UNAVAILABLE"))  # a trunk matched by address has no contact
    return events


def dial_unregistered(
    start: datetime | None = None, *, caller: str = "0470123456", exten: str = "101"
) -> list[Pairs]:
    """Inbound call to `Dial(PJSIP/6001,5)` while 6001 is not registered: `Newchannel > SoftHangupRequest >
    Hangup`, no Newstate, no Dial events and no Cdr (`unanswered=no` in cdr.conf)."""
    flow = Flow(start or datetime.now())
    leg = trunk_leg(flow, exten, caller, "Customer")
    events = [event("Newchannel", leg.snapshot())]
    leg.priority = 3
    # The caller is refused with SIP 404: Q.850 cause 3.
    events += [soft_hangup(leg), event("Hangup", leg.snapshot(), *HANGUP_NO_ROUTE)]
    return events


def queue_call(
    start: datetime | None = None,
    *,
    caller: str = "0470123456",
    exten: str = "105",
    queue: str = "support",
    member: str = "100@demo",
    member_name: str = "Agent100",
    talk_s: int = 3,
) -> list[Pairs]:
    """A call through `Queue(support)` (ringall; one member `Local/100@demo` that answers), all event classes.

    The caller is answered by the dialplan, waits in the queue, the member is rung through a Local channel
    (`;1` dialled by the queue, `;2` running the member's dialplan); the order is the one in the notes.
    """
    flow = Flow(start or datetime.now())
    caller_leg = trunk_leg(flow, exten, caller, "Customer")
    name = f"Local/{member}-{flow.suffix()}"
    mctx, mexten = member.split("@", 1)[1], member.split("@", 1)[0]
    linked = caller_leg.linkedid
    one = Leg(f"{name};1", flow.uniqueid(), linked, mctx, mexten, caller, "Customer")
    two = Leg(f"{name};2", flow.uniqueid(), linked, mctx, mexten, caller, "Customer", state=RING)
    c, e = caller_leg, event
    queue_fields = [("Queue", queue)]
    member_fields = [("Queue", queue), ("Interface", f"Local/{member}"), ("MemberName", member_name)]

    def member_status(status: str, in_call: str) -> Pairs:
        return e(
            "QueueMemberStatus",
            ("Queue", queue),
            ("MemberName", member_name),
            ("Interface", f"Local/{member}"),
            ("StateInterface", f"Local/{member}"),
            ("Membership", "static"),
            ("Penalty", "0"),
            ("CallsTaken", "0"),
            ("LastCall", "0"),
            ("LastPause", "0"),
            ("LoginTime", str(int(flow.start.timestamp()) - 600)),
            ("InCall", in_call),
            ("Status", status),
            ("Paused", "0"),
            ("PausedReason", ""),
            ("Ringinuse", "1"),
            ("Wrapuptime", "0"),
            privilege=("Privilege", "agent,all"),
        )

    agent = ("Privilege", "agent,all")
    events = trunk_answered(c, "__FROM_TRUNK")
    c.priority = 2
    events.append(newexten(c, "Queue", queue))
    for variable, value in (
        ("QUEUENAME", queue),
        ("QUEUEMAX", "0"),
        ("QUEUESTRATEGY", "ringall"),
        ("QUEUECALLS", "0"),
        ("QUEUEHOLDTIME", "0"),
        ("QUEUECOMPLETED", "0"),
    ):
        events.append(varset(c, variable, value))
    events.append(device(f"Queue:{queue}_avail", "INUSE"))
    events.append(
        e("QueueCallerJoin", c.snapshot(), *queue_fields, ("Position", "1"), ("Count", "1"), privilege=agent)
    )
    events += [e("Newchannel", one.snapshot()), e("Newchannel", two.snapshot()), newexten(two, "NoOp")]
    cid = [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")]
    events += [
        e("NewCallerid", one.snapshot(), *cid),
        varset(one, "__QUEUE", queue),
        varset(two, "__QUEUE", queue),
    ]
    events += [e("NewCallerid", two.snapshot(), *cid), e("NewConnectedLine", one.snapshot())]
    events.append(
        e(
            "LocalBridge",
            one.snapshot("LocalOne"),
            two.snapshot("LocalTwo"),
            ("Context", mctx),
            ("Exten", mexten),
            ("LocalOptimization", "No"),
        )
    )
    events.append(e("AgentCalled", c.snapshot(), one.snapshot("Dest"), *member_fields, privilege=agent))
    two.priority = 2
    events.append(newexten(two, "Answer"))
    events.append(e("DialBegin", c.snapshot(), one.snapshot("Dest"), ("DialString", member)))
    events.append(e("Newstate", two.up().snapshot()))
    events += [
        member_status("2", "1"),
        device(f"Local/{member}", "INUSE"),
        device(f"Queue:{queue}_avail", "INUSE"),
    ]
    events.append(e("Newstate", one.up().snapshot()))
    two.priority = 3
    events.append(newexten(two, "Wait", str(talk_s)))
    c.connected_num, c.connected_name = caller, "Customer"
    events.append(e("NewConnectedLine", c.snapshot()))
    events.append(e("DialEnd", c.snapshot(), one.snapshot("Dest"), ("DialStatus", "ANSWER")))
    events += [device(f"Local/{member}", "INUSE"), device(f"Queue:{queue}_avail", "NOT_INUSE")]
    events.append(
        e("QueueCallerLeave", c.snapshot(), *queue_fields, ("Position", "1"), ("Count", "0"), privilege=agent)
    )
    events += [varset(c, "MEMBERINTERFACE", f"Local/{member}"), varset(c, "MEMBERNAME", member_name)]
    events.append(varset(c, "MEMBERCALLS", "0"))
    events.append(
        e(
            "AgentConnect",
            c.snapshot(),
            one.snapshot("Dest"),
            *member_fields,
            ("HoldTime", "0"),
            ("RingTime", "0"),
            privilege=agent,
        )
    )
    bridge = f"{flow.suffix()}-queue-bridge"
    bridge_fields = [
        ("BridgeUniqueid", bridge),
        ("BridgeType", "basic"),
        ("BridgeTechnology", "simple_bridge"),
        ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"),
        ("BridgeNumChannels", "0"),
        ("BridgeVideoSourceMode", "none"),
    ]
    events.append(e("BridgeCreate", bridge_fields))
    events.append(e("BridgeEnter", with_fields(bridge_fields, BridgeNumChannels="1"), c.snapshot()))
    events.append(e("BridgeEnter", with_fields(bridge_fields, BridgeNumChannels="2"), one.snapshot()))
    events += [varset(c, "BRIDGEPEER", one.channel), varset(one, "BRIDGEPEER", c.channel)]
    events.append(varset(c, "BRIDGEPVTCALLID", ""))
    two.priority = 4
    events += [newexten(two, "Hangup"), newexten(two, "Hangup")]
    events += [soft_hangup(two), e("HangupRequest", two.snapshot(), ("Cause", "16"))]
    events += [varset(two, "DIALSTATUS", ""), varset(c, "ANSWEREDTIME", str(talk_s))]
    events.append(
        e(
            "AgentComplete",
            c.snapshot(),
            one.snapshot("Dest"),
            *member_fields,
            ("HoldTime", "0"),
            ("TalkTime", str(talk_s)),
            ("Reason", "agent"),
            privilege=agent,
        )
    )
    events += [hangup(two), varset(one, "BRIDGEPEER", "")]
    events.append(e("BridgeLeave", with_fields(bridge_fields, BridgeNumChannels="1"), one.snapshot()))
    events.append(e("BridgeLeave", with_fields(bridge_fields, BridgeNumChannels="0"), c.snapshot()))
    events.append(varset(c, "BRIDGEPEER", ""))
    events.append(e("BridgeDestroy", bridge_fields))
    events += [varset(c, "QUEUESTATUS", "CONTINUE"), varset(c, "DIALEDPEERNUMBER", member)]
    events.append(varset(c, "DIALEDPEERNAME", one.channel))
    c.priority = 3
    events.append(soft_hangup(c))
    for variable in ("DIALEDTIME", "ANSWEREDTIME", "RINGTIME", "PROGRESSTIME"):
        events.append(varset(c, variable, str(talk_s) if variable != "RINGTIME" else "0"))
    events.append(cdr(flow, two, last_app="Hangup"))
    events += [varset(one, "MACRO_DEPTH", "0"), device(f"Local/{member}", "NOT_INUSE"), hangup(one)]
    events += [member_status("1", "0"), device("PJSIP/trunk", "NOT_INUSE"), hangup(c)]
    events.append(device(f"Queue:{queue}_avail", "NOT_INUSE"))
    queue_data = f"{queue},,,,30"
    events.append(
        cdr(flow, c, last_app="Queue", last_data=queue_data, dest_channel=one.channel, talk_s=talk_s)
    )
    return events
