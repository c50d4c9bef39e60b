"""AMI events as call facts (the few fields of an event that say something about a call), and facts in words.

Plain Python without Odoo imports (like compat.py), so tests/odoo_module loads it by path. An item is a bus
entry as the bridge delivers it (docs/odoo-api.md): AMI headers, `@id`, `@time` (the event's own UTC time)
or `@at`, `@e164` and, for Cdr, `@utc`. A fact is a small JSON-able dict; `t` is its UTC time as a sortable
string.

The facts in words, for people: call_words.py.
"""

import hashlib
import json
import re
from datetime import UTC, datetime

# Q.850 hangup causes (Hangup's Cause) that say why an unanswered call failed.
CAUSES = {
    17: "busy",
    34: "congestion",
    38: "congestion",
    41: "congestion",
    42: "congestion",
    44: "congestion",
    1: "failed",
    3: "failed",
    20: "failed",
    21: "failed",
    27: "failed",
    28: "failed",
    18: "noanswer",
    19: "noanswer",
}

DIAL_STATUSES = {
    "BUSY": "busy",
    "CONGESTION": "congestion",
    "CHANUNAVAIL": "failed",
    "NOANSWER": "noanswer",
    "CANCEL": "noanswer",
}

CALL_EVENTS = frozenset(
    {
        "Newchannel",
        "Newstate",
        "Hangup",
        "DialBegin",
        "DialEnd",
        "BridgeEnter",
        "QueueCallerJoin",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "AgentCalled",
        "AgentConnect",
        "AgentComplete",
        "Cdr",
        "OriginateResponse",
    }
)

# The channel id Odoo gives an Originate it sends (AMI `ChannelId`): that channel's Uniqueid and so the call's
# Linkedid, known before Asterisk says anything.
CHANNEL_ID_PREFIX = "odoo-"
# ... and of a supervisor's ChanSpy call (models/call_supervision.py): never recorded, whatever the policy.
SUPERVISION_PREFIX = "odoo-spy-"

# Asterisk names a channel `<tech>/<resource>-<8 hex digits>`, a Local one with `;1` or `;2` after it.
_SUFFIX = re.compile(r"-[0-9a-f]{8}(;\d)?$")


def now_iso():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def channel_id(request_id):
    return f"{CHANNEL_ID_PREFIX}{request_id}"


def request_of(action_id):
    """The bus request id inside the gateway's ActionID (`<session>-<request id>`), or ''."""
    if not action_id:
        return ""
    return str(action_id).rsplit("-", 1)[-1]


def channel_base(channel):
    """`PJSIP/101-0000000a` -> `PJSIP/101`; `Local/100@demo-00000004;1` -> `Local/100@demo`."""
    return _SUFFIX.sub("", channel or "")


def channel_exten(channel):
    """The extension a channel points at: `PJSIP/101-0000000a` -> `101`, `Local/100@demo-1;2` -> `100`."""
    base = channel_base(channel)
    resource = base.split("/", 1)[-1] if "/" in base else base
    return resource.split("@", 1)[0]


def is_local(channel):
    return (channel or "").startswith("Local/")


def parse_time(value):
    """A bus or Cdr time (UTC) as `YYYY-MM-DD HH:MM:SS.ffffff`; '' when there is none or it is unreadable."""
    if not value:
        return ""
    text = str(value).strip().replace("T", " ")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def seconds_between(start, end):
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _one(value):
    if isinstance(value, list):
        return value[0] if value else ""
    return "" if value is None else str(value)


def _int(value):
    try:
        return int(_one(value))
    except ValueError:
        return None


def _uid(value):
    value = _one(value)
    return "" if value in ("", "<unknown>") else value


def _number(item, e164, header):
    """(number, external): E.164 when the bridge normalised it (an external number), else as sent."""
    if header in e164:
        return e164[header], True
    raw = _one(item.get(header))
    return ("" if raw in ("<unknown>", "") else raw), False


def fact_id(item, fact):
    """The event's bus id; content-addressed when there is none (the same event then has the same id)."""
    if item.get("@id"):
        return str(item["@id"])
    return "h:" + hashlib.sha1(json.dumps(fact, sort_keys=True).encode()).hexdigest()[:20]


def fact(item):
    """The fact of one AMI item, or None when its event says nothing about a call."""
    event = _one(item.get("Event"))
    if event not in CALL_EVENTS:
        return None
    out = {"e": event}
    when = parse_time(item.get("@time") or item.get("@at"))
    if when:
        out["t"] = when
    e164 = item.get("@e164") or {}
    for key, header in (("u", "Uniqueid"), ("l", "Linkedid"), ("du", "DestUniqueid")):
        if _uid(item.get(header)):
            out[key] = _uid(item.get(header))
    if "l" not in out and _uid(item.get("DestLinkedid")):
        out["l"] = _uid(item.get("DestLinkedid"))
    for key, header in (
        ("ch", "Channel"),
        ("dch", "DestChannel"),
        ("queue", "Queue"),
        ("member", "MemberName"),
    ):
        if _one(item.get(header)):
            out[key] = _one(item.get(header))
    if event in ("Newchannel", "Newstate", "Hangup"):
        out["st"] = _one(item.get("ChannelState"))
        out["num"], out["num_ext"] = _number(item, e164, "CallerIDNum")
        out["exten"], out["exten_ext"] = _number(item, e164, "Exten")
        if event == "Hangup":
            out["cause"] = _int(item.get("Cause"))
            out["cause_txt"] = _one(item.get("Cause-txt"))
    elif event in ("DialBegin", "DialEnd"):
        out["ds"] = _one(item.get("DialStatus"))
        out["dstr"] = _one(item.get("DialString"))
    elif event == "BridgeEnter":
        out["bridge"] = _one(item.get("BridgeUniqueid"))
        out["n"] = _int(item.get("BridgeNumChannels")) or 0
    elif event == "Cdr":
        _cdr(item, e164, out)
    elif event == "OriginateResponse":
        out["resp"] = _one(item.get("Response"))
        out["reason"] = _int(item.get("Reason"))
        out["req"] = request_of(item.get("ActionID"))
        if _one(item.get("Application")):
            out["app"] = _one(item.get("Application"))
    return out


def _cdr(item, e164, out):
    out["u"] = _uid(item.get("UniqueID")) or out.get("u", "")
    out["dch"] = _one(item.get("DestinationChannel"))
    out["disp"] = _one(item.get("Disposition"))
    out["bill"] = _int(item.get("BillableSeconds")) or 0
    out["num"], out["num_ext"] = _number(item, e164, "Source")
    out["exten"], out["exten_ext"] = _number(item, e164, "Destination")
    utc = item.get("@utc") or {}
    for key, header in (("start", "StartTime"), ("answer", "AnswerTime"), ("end", "EndTime")):
        if parse_time(utc.get(header)):
            out[key] = parse_time(utc[header])
    if parse_time(item.get("@at")):
        out["arr"] = parse_time(item.get("@at"))


def cdr_skew(fact_):
    """Seconds between a Cdr's EndTime (read in the server's timezone) and its arrival, or None."""
    if fact_.get("e") != "Cdr" or not fact_.get("end") or not fact_.get("arr"):
        return None
    return seconds_between(fact_["end"], fact_["arr"])


def originate_fact(at, number, external, requests, user_login="", extension=""):
    """Odoo's own click-to-call, the first fact of its call. `requests`: [{"req", "channel"}], one a phone."""
    return {
        "e": "@originate",
        "t": parse_time(at),
        "number": number,
        "dir": "out" if external else "internal",
        "ext": extension,
        "login": user_login,
        "reqs": [{"req": r["req"], "cid": channel_id(r["req"]), "ch": r["channel"]} for r in requests],
    }


def reply_fact(item):
    """Asterisk's immediate answer to one of Odoo's Originates (through the bridge's bridge_on_replies)."""
    return {
        "e": "@reply",
        "t": parse_time(item.get("@at")),
        "req": str(item.get("@id") or ""),
        "ok": item.get("@status") == "ok",
        "msg": _one(item.get("@error") or item.get("Message") or item.get("Response")),
    }


def siblings_fact(at, answered_on, stopped):
    """Odoo hung up the other phones of a ring-all click-to-call once one of them answered."""
    return {"e": "@siblings", "t": parse_time(at), "on": answered_on, "stopped": sorted(stopped)}


def keys(fact_):
    """(linkedid, uniqueids) that tie a fact to its call."""
    uniqueids = [fact_[k] for k in ("u", "du") if fact_.get(k)]
    return fact_.get("l", ""), uniqueids
