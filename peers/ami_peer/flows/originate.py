"""Originate flows as a real Asterisk 22.10.1 sent them: to an unregistered phone, a Local channel chain, a
click-to-call to a registered phone."""

from __future__ import annotations

from datetime import datetime

from .parts import (
    RING,
    RINGING,
    Flow,
    Leg,
    Pairs,
    cdr,
    device,
    event,
    hangup,
    newexten,
    originate_response,
    soft_hangup,
)


def originate_failure(
    action_id: str = "c2c-1",
    *,
    channel: str = "PJSIP/6001",
    context: str = "from-trunk",
    exten: str = "101",
    cid_num: str = "6001",
    cid_name: str = "HC Customer",
    reason: str = "0",
    channel_id: str = "",
    application: str = "",
    data: str = "",
) -> list[Pairs]:
    """Click-to-call to a phone that is not registered: the only event is this OriginateResponse.

    `Reason` is Asterisk's AST_CONTROL code: 0 the channel could not be created, 3 no answer, 5 busy,
    8 congestion. An Originate of an application (a supervisor's ChanSpy) names it instead of the extension.
    """
    target = [("Application", application), ("Data", data)] if application else []
    target = target or [("Context", context), ("Exten", exten)]
    uid = channel_id or "<unknown>"  # the Originate's ChannelId when it gave one
    return [originate_response(action_id, "Failure", channel, target, reason, uid, (cid_num, cid_name))]


def local_chain(
    start: datetime | None = None,
    *,
    action_id: str = "orig-2",
    local: str = "101@from-trunk",
    context: str = "demo",
    exten: str = "100",
    cid_num: str = "555",
    cid_name: str = "AMI Test",
    channel_id: str = "",
    other_channel_id: str = "",
) -> list[Pairs]:
    """`Originate Local/101@from-trunk` to `demo,100`, Async, both legs answer.

    `;1` and `;2` share the Linkedid (the `;1` Uniqueid); each leg has its own Cdr, keyed by its own UniqueID,
    and a Cdr comes before its channel's Hangup.
    """
    flow = Flow(start or datetime.now())
    name = f"Local/{local}-{flow.suffix()}"
    lctx, lexten = local.split("@", 1)[1], local.split("@", 1)[0]
    uid1 = channel_id or flow.uniqueid()  # the Originate's ChannelId / OtherChannelId name the two halves
    one = Leg(f"{name};1", uid1, uid1, lctx, lexten)
    # Without OtherChannelId, Asterisk names the ;2 half after the ChannelId: `<ChannelId>;2`.
    uid2 = other_channel_id or (f"{channel_id};2" if channel_id else flow.uniqueid())
    two = Leg(f"{name};2", uid2, uid1, lctx, lexten, state=RING)
    events = [event("Newchannel", one.snapshot()), event("Newchannel", two.snapshot())]
    one.cid_num, one.cid_name = cid_num, cid_name
    cid = [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")]
    events += [event("NewCallerid", one.snapshot(), *cid), event("NewConnectedLine", two.snapshot())]
    two.connected_num, two.connected_name = cid_num, cid_name
    two.cid_num, two.cid_name = cid_num, cid_name
    events += [event("NewCallerid", two.snapshot(), *cid), event("NewConnectedLine", one.snapshot())]
    events.append(
        event(
            "LocalBridge",
            one.snapshot("LocalOne"),
            two.snapshot("LocalTwo"),
            ("Context", lctx),
            ("Exten", lexten),
            ("LocalOptimization", "No"),
        )
    )
    # The Originate itself dials ;1: only Dest* fields.
    events.append(event("DialBegin", one.snapshot("Dest"), ("DialString", local)))
    events += [event("Newstate", two.up().snapshot()), event("Newstate", one.up().snapshot())]
    events.append(event("DialEnd", one.snapshot("Dest"), ("DialStatus", "ANSWER")))
    events.append(device(f"Local/{local}", "INUSE"))
    target = [("Context", context), ("Exten", exten)]
    events.append(
        originate_response(action_id, "Success", one.channel, target, "4", one.uniqueid, (cid_num, cid_name))
    )
    events.append(device(f"Local/{local}", "NOT_INUSE"))
    one.context, one.exten, one.priority = context, exten, 4
    two.priority = 3
    events.append(cdr(flow, one, last_app="Hangup"))
    events += [soft_hangup(one), event("HangupRequest", one.snapshot(), ("Cause", "16")), hangup(one)]
    events.append(soft_hangup(two))
    events.append(cdr(flow, two, last_app="Hangup"))
    events += [hangup(two), device(f"Local/{local}", "NOT_INUSE"), device(f"Local/{local}", "NOT_INUSE")]
    return events


def click_to_call(
    start: datetime | None = None,
    *,
    action_id: str = "c2c-2",
    channel: str = "PJSIP/101",
    context: str = "from-internal",
    exten: str = "0470123456",
    cid_num: str = "101",
    cid_name: str = "Customer",
    talk_s: int = 3,
    channel_id: str = "",
) -> list[Pairs]:
    """Click-to-call to a registered phone, Async: the phone rings and answers, OriginateResponse Success
    (Reason 4) follows its answer as in the notes' Originates, then the dialplan dials the number."""
    flow = Flow(start or datetime.now())
    uid = channel_id or flow.uniqueid()  # the Originate's ChannelId is the phone channel's Uniqueid
    phone = Leg(f"{channel}-{flow.suffix()}", uid, uid, context, exten, cid_num, cid_name)
    events = [event("Newchannel", phone.snapshot())]
    events.append(event("DialBegin", phone.snapshot("Dest"), ("DialString", channel.partition("/")[2])))
    phone.state = RINGING
    events += [event("Newstate", phone.snapshot()), device(channel, "RINGING")]
    events.append(event("Newstate", phone.up().snapshot()))
    events.append(event("DialEnd", phone.snapshot("Dest"), ("DialStatus", "ANSWER")))
    target = [("Context", context), ("Exten", exten)]
    events.append(
        originate_response(action_id, "Success", phone.channel, target, "4", uid, (cid_num, cid_name))
    )
    phone.priority = 2
    events.append(newexten(phone, "Dial", f"PJSIP/{exten}@trunk,30"))
    far = Leg(
        f"PJSIP/trunk-{flow.suffix()}", flow.uniqueid(), uid, "from-trunk", "s", exten, "", cid_num, cid_name
    )
    events.append(event("Newchannel", far.snapshot()))
    events.append(
        event("DialBegin", phone.snapshot(), far.snapshot("Dest"), ("DialString", f"{exten}@trunk"))
    )
    far.state = RINGING
    events.append(event("Newstate", far.snapshot()))
    events.append(event("Newstate", far.up().snapshot()))
    events.append(event("DialEnd", phone.snapshot(), far.snapshot("Dest"), ("DialStatus", "ANSWER")))
    bridge = [
        ("BridgeUniqueid", f"{flow.suffix()}-c2c-bridge"),
        ("BridgeType", "basic"),
        ("BridgeTechnology", "simple_bridge"),
    ]
    events += [event("BridgeCreate", bridge), event("BridgeEnter", bridge, phone.snapshot())]
    events += [event("BridgeEnter", bridge, far.snapshot()), event("BridgeLeave", bridge, far.snapshot())]
    events += [event("BridgeLeave", bridge, phone.snapshot()), event("BridgeDestroy", bridge)]
    events += [hangup(far), hangup(phone), device(channel, "NOT_INUSE")]
    events.append(
        cdr(
            flow,
            phone,
            last_app="Dial",
            last_data=f"PJSIP/{exten}@trunk,30",
            dest_channel=far.channel,
            talk_s=talk_s,
        )
    )
    return events
