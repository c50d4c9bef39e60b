"""Event sequences as a real Asterisk 22 sends them (see shared notes ami-observed.md): calls and attacks."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .flows.parts import uniqueid

Pairs = list[tuple[str, str]]
_ids = itertools.count(1)


def _channel_headers(
    channel: str,
    state: int,
    desc: str,
    cid: str,
    cname: str,
    exten: str,
    uid: str,
    linked: str,
    context: str,
    connected: str = "<unknown>",
) -> Pairs:
    return [
        ("Channel", channel),
        ("ChannelState", str(state)),
        ("ChannelStateDesc", desc),
        ("CallerIDNum", cid),
        ("CallerIDName", cname),
        ("ConnectedLineNum", connected),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "en"),
        ("AccountCode", ""),
        ("Context", context),
        ("Exten", exten),
        ("Priority", "1"),
        ("Uniqueid", uid),
        ("Linkedid", linked),
    ]


def _dest(pairs: Pairs) -> Pairs:
    return [("Dest" + k, v) for k, v in pairs]


@dataclass
class Call:
    """One call between a caller channel and a callee channel, with the outcome Asterisk would report."""

    caller_channel: str
    caller_num: str
    caller_name: str
    callee_channel: str
    callee_exten: str
    context: str = "from-internal"
    status: str = "ANSWER"  # ANSWER | NOANSWER | BUSY
    talk_s: int = 42
    start: datetime = field(default_factory=datetime.now)

    def events(self) -> list[Pairs]:
        base = self.start.timestamp()
        a_uid, b_uid = uniqueid(base), uniqueid(base)
        a = _channel_headers(
            self.caller_channel,
            4,
            "Ring",
            self.caller_num,
            self.caller_name,
            self.callee_exten,
            a_uid,
            a_uid,
            self.context,
        )
        b_down = _channel_headers(
            self.callee_channel,
            0,
            "Down",
            self.callee_exten,
            "",
            "s",
            b_uid,
            a_uid,
            "from-internal",
            self.caller_num,
        )
        call = [("Privilege", "call,all")]
        events: list[Pairs] = [
            [("Event", "Newchannel"), *call, *_set(a, ChannelState="0", ChannelStateDesc="Down")],
            [("Event", "Newstate"), *call, *a],
            [("Event", "Newchannel"), *call, *b_down],
            [("Event", "DialBegin"), *call, *a, *_dest(b_down), ("DialString", self.callee_exten)],
            [("Event", "Newstate"), *call, *_set(b_down, ChannelState="5", ChannelStateDesc="Ringing")],
        ]
        answered = self.status == "ANSWER"
        events.append([("Event", "DialEnd"), *call, *a, *_dest(b_down), ("DialStatus", self.status)])
        end = self.start + timedelta(seconds=self.talk_s if answered else 20)
        if answered:
            up_a = _set(a, ChannelState="6", ChannelStateDesc="Up")
            up_b = _set(b_down, ChannelState="6", ChannelStateDesc="Up")
            bridge = f"{next(_ids):08x}-bridge"
            events += [
                [("Event", "Newstate"), *call, *up_b],
                [("Event", "Newstate"), *call, *up_a],
                [
                    ("Event", "BridgeCreate"),
                    *call,
                    ("BridgeUniqueid", bridge),
                    ("BridgeType", "basic"),
                    ("BridgeTechnology", "simple_bridge"),
                ],
                [("Event", "BridgeEnter"), *call, ("BridgeUniqueid", bridge), *up_a],
                [("Event", "BridgeEnter"), *call, ("BridgeUniqueid", bridge), *up_b],
                [("Event", "BridgeLeave"), *call, ("BridgeUniqueid", bridge), *up_b],
                [("Event", "BridgeLeave"), *call, ("BridgeUniqueid", bridge), *up_a],
                [("Event", "BridgeDestroy"), *call, ("BridgeUniqueid", bridge)],
            ]
            last_a, last_b = up_a, up_b
        else:
            last_a, last_b = a, b_down
        cause = {
            "ANSWER": ("16", "Normal Clearing"),
            "BUSY": ("17", "User busy"),
            "NOANSWER": ("19", "No user response"),
        }[self.status]
        events += [
            [("Event", "Hangup"), *call, *last_b, ("Cause", cause[0]), ("Cause-txt", cause[1])],
            [("Event", "Hangup"), *call, *last_a, ("Cause", cause[0]), ("Cause-txt", cause[1])],
            [
                ("Event", "Cdr"),
                ("Privilege", "cdr,all"),
                ("AccountCode", ""),
                ("Source", self.caller_num),
                ("Destination", self.callee_exten),
                ("DestinationContext", self.context),
                ("CallerID", f'"{self.caller_name}" <{self.caller_num}>'),
                ("Channel", self.caller_channel),
                ("DestinationChannel", self.callee_channel),
                ("LastApplication", "Dial"),
                ("LastData", f"{self.callee_channel.rsplit('-', 1)[0]},30"),
                ("StartTime", self.start.strftime("%Y-%m-%d %H:%M:%S")),
                ("AnswerTime", self.start.strftime("%Y-%m-%d %H:%M:%S") if answered else ""),
                ("EndTime", end.strftime("%Y-%m-%d %H:%M:%S")),
                ("Duration", str(int((end - self.start).total_seconds()))),
                ("BillableSeconds", str(self.talk_s if answered else 0)),
                ("Disposition", {"ANSWER": "ANSWERED", "BUSY": "BUSY", "NOANSWER": "NO ANSWER"}[self.status]),
                ("AMAFlags", "DOCUMENTATION"),
                ("UniqueID", a_uid),
                ("UserField", ""),
            ],
        ]
        return events


def _set(pairs: Pairs, **changes: str) -> Pairs:
    return [(k, changes.get(k, v)) for k, v in pairs]


def demo_calls(rng: random.Random | None = None) -> list[Call]:
    """A morning at a small office: inbound, outbound, internal, unanswered and busy calls."""
    rng = rng or random.Random()
    n = f"{rng.randint(0, 0xFFFFFF):08x}"
    return [
        Call(f"PJSIP/trunk-{n}", "0470123456", "Customer", f"PJSIP/101-{n}", "101", context="from-trunk"),
        Call(f"PJSIP/102-{n}", "102", "Bob", f"PJSIP/trunk-{n}b", "025551234"),
        Call(f"PJSIP/101-{n}c", "101", "Alice", f"PJSIP/102-{n}c", "102", talk_s=15),
        Call(
            f"PJSIP/trunk-{n}d",
            "+3222345678",
            "Supplier",
            f"PJSIP/103-{n}d",
            "103",
            context="from-trunk",
            status="NOANSWER",
        ),
        Call(
            f"PJSIP/trunk-{n}e",
            "0033123456789",
            "",
            f"PJSIP/101-{n}e",
            "101",
            context="from-trunk",
            status="BUSY",
        ),
    ]


def security_event(
    event: str,
    address: str,
    port: int = 5060,
    account: str = "100",
    service: str = "PJSIP",
    transport: str = "UDP",
    when: datetime | None = None,
) -> Pairs:
    """A security-class event with RemoteAddress as Asterisk prints it (IPV6 addresses in brackets)."""
    family = "IPV6" if ":" in address else "IPV4"
    shown = f"[{address}]" if family == "IPV6" else address
    stamp = (when or datetime.now()).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    pairs: Pairs = [
        ("Event", event),
        ("Privilege", "security,all"),
        ("EventTV", stamp),
        ("Severity", "Informational" if event in ("SuccessfulAuth", "ChallengeSent") else "Error"),
        ("Service", service),
        ("EventVersion", "1"),
        ("AccountID", account),
        ("SessionID", f"0x{random.getrandbits(40):x}"),
        ("LocalAddress", f"{family}/{transport}/{'::1' if family == 'IPV6' else '192.0.2.10'}/5060"),
        ("RemoteAddress", f"{family}/{transport}/{shown}/{port}"),
    ]
    if event == "ChallengeSent":
        pairs.append(("Challenge", f"{random.getrandbits(32):08x}"))
    if event == "SuccessfulAuth":
        pairs.append(("UsingPassword", "1"))
    if event == "ChallengeResponseFailed":
        pairs += [("Challenge", "1a2b3c4d"), ("Response", "deadbeef"), ("ExpectedResponse", "")]
    return pairs


def attack(addresses: list[str], attempts: int = 6) -> Iterator[Pairs]:
    """Failed registrations: each address fails `attempts` times, interleaved as a real scan is."""
    kinds = ["InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword"]
    for n in range(attempts):
        for i, address in enumerate(addresses):
            kind = kinds[(n + i) % len(kinds)]
            port = 5060 + i % 100
            if kind == "ChallengeResponseFailed":
                yield security_event("ChallengeSent", address, port, account=str(100 + n))
            yield security_event(kind, address, port, account=str(100 + n))


def good_client(address: str, times: int = 3) -> Iterator[Pairs]:
    for _ in range(times):
        yield security_event("ChallengeSent", address)
        yield security_event("SuccessfulAuth", address)
