"""The pieces of a call flow: channel legs with their snapshot headers, numbering, and the common events."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Pairs = list[tuple[str, str]]
CALL = ("Privilege", "call,all")
DIALPLAN = ("Privilege", "dialplan,all")
_channel_numbers = itertools.count(2)
# One sequence for every channel the peer makes (flows and demo calls), as Asterisk's own: no two share one.
_uniqueid_numbers = itertools.count(1)


def uniqueid(epoch: float) -> str:
    return f"{int(epoch)}.{next(_uniqueid_numbers)}"


@dataclass
class Leg:
    """One channel as Asterisk's snapshot headers describe it; `state` changes as the call goes on."""

    channel: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    cid_num: str = "<unknown>"
    cid_name: str = "<unknown>"
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    state: tuple[str, str] = ("0", "Down")
    priority: int = 1

    def snapshot(self, prefix: str = "") -> Pairs:
        pairs = [
            ("Channel", self.channel),
            ("ChannelState", self.state[0]),
            ("ChannelStateDesc", self.state[1]),
            ("CallerIDNum", self.cid_num),
            ("CallerIDName", self.cid_name),
            ("ConnectedLineNum", self.connected_num),
            ("ConnectedLineName", self.connected_name),
            ("Language", "en"),
            ("AccountCode", ""),
            ("Context", self.context),
            ("Exten", self.exten),
            ("Priority", str(self.priority)),
            ("Uniqueid", self.uniqueid),
            ("Linkedid", self.linkedid),
        ]
        return [(prefix + k, v) for k, v in pairs]

    def up(self) -> Leg:
        self.state = ("6", "Up")
        return self


RING, RINGING, UP = ("4", "Ring"), ("5", "Ringing"), ("6", "Up")


@dataclass
class Flow:
    """Numbers one flow's channels and uniqueids the way Asterisk does (`<epoch>.<n>`, `-%08x`)."""

    start: datetime = field(default_factory=datetime.now)

    def uniqueid(self) -> str:
        return uniqueid(self.start.timestamp())

    @staticmethod
    def suffix() -> str:
        return f"{next(_channel_numbers):08x}"

    def stamp(self, seconds: float = 0) -> str:
        return (self.start + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def event(name: str, *parts: Pairs | tuple[str, str], privilege: tuple[str, str] = CALL) -> Pairs:
    pairs: Pairs = [("Event", name), privilege]
    for part in parts:
        pairs += part if isinstance(part, list) else [part]
    return pairs


def device(name: str, state: str) -> Pairs:
    return event("DeviceStateChange", ("Device", name), ("State", state))


def hangup(leg: Leg, cause: str = "16", text: str = "Normal Clearing") -> Pairs:
    return event("Hangup", leg.snapshot(), ("Cause", cause), ("Cause-txt", text))


def soft_hangup(leg: Leg, cause: str = "16") -> Pairs:
    return event("SoftHangupRequest", leg.snapshot(), ("Cause", cause))


def newexten(leg: Leg, app: str, data: str = "") -> Pairs:
    return event(
        "Newexten",
        leg.snapshot(),
        ("Extension", leg.exten),
        ("Application", app),
        ("AppData", data),
        privilege=("Privilege", "dialplan,all"),
    )


def varset(leg: Leg, variable: str, value: str) -> Pairs:
    return event(
        "VarSet",
        leg.snapshot(),
        ("Variable", variable),
        ("Value", value),
        privilege=DIALPLAN,
    )


def cdr(
    flow: Flow,
    leg: Leg,
    *,
    last_app: str,
    last_data: str = "",
    dest_channel: str = "",
    talk_s: int = 3,
    ring_s: int = 0,
    disposition: str = "ANSWERED",
) -> Pairs:
    """A Cdr as cdr_manager writes it: times in Asterisk's local time, only `UniqueID`, no Linkedid. Its
    source, destination (and context) and CallerID are the leg's own caller and extension."""
    answered = disposition == "ANSWERED"
    return event(
        "Cdr",
        [
            ("AccountCode", ""),
            ("Source", leg.cid_num),
            ("Destination", leg.exten),
            ("DestinationContext", leg.context),
            ("CallerID", f'"{leg.cid_name}" <{leg.cid_num}>'),
            ("Channel", leg.channel),
            ("DestinationChannel", dest_channel),
            ("LastApplication", last_app),
            ("LastData", last_data),
            ("StartTime", flow.stamp()),
            ("AnswerTime", flow.stamp(ring_s) if answered else ""),
            ("EndTime", flow.stamp(ring_s + talk_s)),
            ("Duration", str(ring_s + talk_s)),
            ("BillableSeconds", str(talk_s if answered else 0)),
            ("Disposition", disposition),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", leg.uniqueid),
            ("UserField", ""),
        ],
        privilege=("Privilege", "cdr,all"),
    )


def with_fields(pairs: Pairs, **changes: str) -> Pairs:
    return [(k, changes.get(k, v)) for k, v in pairs]


def trunk_leg(flow: Flow, exten: str, caller: str, name: str) -> Leg:
    """An inbound channel from the trunk, as PJSIP creates it (state Ring); its Uniqueid is the Linkedid."""
    uid = flow.uniqueid()
    return Leg(f"PJSIP/trunk-{flow.suffix()}", uid, uid, "from-trunk", exten, caller, name, state=RING)


def trunk_answered(leg: Leg, variable: str) -> list[Pairs]:
    """A call in from the trunk that the dialplan marks (`Set(<variable>=1)`) and answers: Newchannel, VarSet,
    Newexten Answer, Newstate Up, the trunk in use. The leg is left Up."""
    events = [event("Newchannel", leg.snapshot()), varset(leg, variable, "1"), newexten(leg, "Answer")]
    return [*events, event("Newstate", leg.up().snapshot()), device("PJSIP/trunk", "INUSE")]


def originate_response(
    action_id: str,
    response: str,
    channel: str,
    target: Pairs,
    reason: str,
    uniqueid: str,
    cid: tuple[str, str],
) -> Pairs:
    """An Originate's OriginateResponse: `target` is the Context and Exten dialled, or the Application and
    Data run; `cid` the CallerID's number and name."""
    return event(
        "OriginateResponse",
        ("ActionID", action_id),
        ("Response", response),
        ("Channel", channel),
        *target,
        ("Reason", reason),
        ("Uniqueid", uniqueid),
        ("CallerIDNum", cid[0]),
        ("CallerIDName", cid[1]),
    )
