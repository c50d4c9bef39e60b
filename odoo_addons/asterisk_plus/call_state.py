"""The state of one call from its facts (call_events.py), whatever order they came in.

A call's facts are a dict {fact id: fact}. Adding facts is a union, so any order of the same events gives the
same facts, and summarize() reads only the set: the result cannot depend on order. The status moves through
ranks that only grow as facts are added (dialing < ringing < up < ended), so it never goes backwards; which
ended status (answered, missed, busy...) may still be corrected by a late fact. Its words (why a call failed,
the timeline) are in the language of the translator `_` given to summarize() (call_words.py).

Plain Python without Odoo imports: tests/odoo_module loads it by path and checks it with hypothesis.
"""

import importlib.util
import os


def _by_path(name):
    spec = importlib.util.spec_from_file_location(
        f"asterisk_plus_{name}", os.path.join(os.path.dirname(__file__), f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


try:
    from . import call_events as ev
    from . import call_words as words
except ImportError:  # loaded by path, outside the package
    ev = _by_path("call_events")
    words = _by_path("call_words")

SKEW_S = 300  # a Cdr whose EndTime is further than this from its arrival was read in the wrong timezone

RANKS = {"dialing": 0, "ringing": 1, "up": 2}  # every ended status ranks 3
ENDED = ("answered", "missed", "noanswer", "busy", "congestion", "failed")
SEVERITY = ("busy", "congestion", "failed", "noanswer")  # the first one present names a failed call


def fold(facts, items):
    """The facts with those of `items` added (AMI items as the bridge delivers them)."""
    out = dict(facts)
    for item in items:
        found = ev.fact(item)
        if found is not None:
            add(out, ev.fact_id(item, found), found)
    return out


def add(facts, fid, fact):
    """Add one fact in place. Should two facts share an id, the larger wins, so any order gives the same."""
    old = facts.get(fid)
    if old is None or _order(fact) > _order(old):
        facts[fid] = fact


def merge(a, b):
    out = dict(a)
    for fid, fact in b.items():
        add(out, fid, fact)
    return out


def rank(status):
    return RANKS.get(status, 3)


def _order(fact):
    return repr(sorted(fact.items()))


def trusted(cdr):
    skew = ev.cdr_skew(cdr)
    return skew is not None and abs(skew) <= SKEW_S


class _Call:
    """What the facts of one call say, gathered in one pass over them in a fixed order."""

    def __init__(self, facts, key, translate=words.plain):
        self.translate = translate
        self.facts = [f for _fid, f in sorted(facts.items(), key=lambda kv: (kv[1].get("t", ""), kv[0]))]
        self.key = key
        self.roots = {key}
        self.req_root = {}
        for f in self.facts:
            if f["e"] == "@originate":
                for r in f["reqs"]:
                    self.roots.add(r["cid"])
                    self.req_root[r["req"]] = r["cid"]
        self.originate = next((f for f in self.facts if f["e"] == "@originate"), None)
        self.legs = {}
        self.bridges = {}
        self.ended_roots = set()
        self.end_times = []  # hangups, and Originates that never started
        # The called side answered: (kind: 0 a dial, queue or bridge, 1 a Newstate, 2 a Cdr; time or "";
        # uniqueid; channel; queue member).
        self.callee = []
        self.root_up = []  # times the calling leg itself was answered, from its events
        # ... and from its Cdrs: whole seconds (AnswerTime), so only used when no event gave the time.
        self.root_up_cdr = []
        self.failures = []  # (status, words, time)
        self.rung = []  # (time, channel or dial string)
        self.dial_attempt = False
        self.anyone_up = False  # whichever side: only grows with facts, so the status cannot fall back
        self.abandoned = ""
        self.app_originate = False
        self.originated = self.originate is not None
        for f in self.facts:
            self._originated(f)
        for f in self.facts:
            self._read(f)
        self._bridged()

    def _originated(self, f):
        e = f["e"]
        if e in ("DialBegin", "DialEnd") and not f.get("ch") and f.get("du") in self.roots:
            self.originated = True
        if e == "OriginateResponse" and (f.get("u") in self.roots or f.get("req") in self.req_root):
            self.originated = True
            if f.get("app"):
                self.app_originate = True

    def _leg(self, uniqueid, channel, t):
        if not uniqueid:
            return None
        leg = self.legs.setdefault(
            uniqueid, {"uniqueid": uniqueid, "channel": "", "first": t, "up": "", "hangup": "", "cause": ""}
        )
        if channel and not leg["channel"]:
            leg["channel"] = channel
        if t and (not leg["first"] or t < leg["first"]):
            leg["first"] = t
        return leg

    def _calls_side(self, f):
        """Does this dial or queue event act for the call as a whole (not for the phones of an originate)?"""
        return not self.originated or f.get("u") in self.roots

    def _read(self, f):
        e, t, u = f["e"], f.get("t", ""), f.get("u", "")
        if (
            f.get("st") == "6"
            or f.get("ds") == "ANSWER"
            or f.get("disp") == "ANSWERED"
            or e == "AgentConnect"
            or f.get("n", 0) >= 2
        ):
            self.anyone_up = True
        leg = self._leg(u, f.get("ch", ""), t)
        self._leg(f.get("du", ""), f.get("dch", ""), t)
        if e in ("Newstate", "Newchannel") and f.get("st") == "6":
            if leg and t and (not leg["up"] or t < leg["up"]):
                leg["up"] = t
            if u in self.roots:
                self.root_up.append(t)
            elif not self.originated:
                self.callee.append((1, t, u, f.get("ch", ""), ""))
        elif e == "Hangup":
            self.end_times.append(t)
            if leg:
                leg["hangup"] = max(leg["hangup"], t)
                leg["cause"] = f.get("cause_txt") or str(f.get("cause") or "")
            if u in self.roots:
                self.ended_roots.add(u)
                status = ev.CAUSES.get(f.get("cause"))
                if status:  # Asterisk's own words for the cause
                    self.failures.append((status, f"{f.get('ch', '')}: {f.get('cause_txt') or status}", t))
        elif e == "DialBegin":
            if f.get("ch") and self._calls_side(f):
                self.dial_attempt = True
                self.rung.append((t, f.get("dch") or f.get("dstr", "")))
        elif e == "DialEnd":
            self._dial_end(f, t)
        elif e in ("QueueCallerJoin", "AgentCalled"):
            self.dial_attempt = self.dial_attempt or self._calls_side(f)
            if e == "AgentCalled" and self._calls_side(f):
                self.rung.append((t, f.get("dch", "")))
        elif e == "QueueCallerAbandon":
            self.abandoned = f.get("queue") or "?"
        elif e == "AgentConnect" and self._calls_side(f):
            self.callee.append((0, t, f.get("du", ""), f.get("dch", ""), f.get("member", "")))
        elif e == "BridgeEnter" and f.get("bridge"):
            bridge = self.bridges.setdefault(f["bridge"], {"members": [], "full": ""})
            bridge["members"].append((t, u, f.get("ch", "")))
            if f.get("n", 0) >= 2 and (not bridge["full"] or t < bridge["full"]):
                bridge["full"] = t or bridge["full"]
        elif e == "Cdr":
            self._cdr(f, u)
        elif e == "OriginateResponse":
            self._originate_response(f, t)
        elif e == "@reply" and not f.get("ok"):
            root = self.req_root.get(f.get("req"))
            if root:
                self.ended_roots.add(root)
                self.end_times.append(t)
                self.failures.append(("failed", self._refusal(f.get("msg") or "error"), t))

    def _refusal(self, message):
        _ = self.translate
        said = _("Asterisk refused the call: %s", message)
        if "does not exist" in message.lower() and self.originate and self.originate.get("ctx"):
            number, context = self.originate["number"], self.originate["ctx"]
            hint = _("(no %s in context %s: check the PBX user's or the server's context)", number, context)
            said += f" {hint}"
        return said

    def _dial_end(self, f, t):
        status = f.get("ds", "")
        if not f.get("ch"):  # the Originate's own dial: the originated phone answered or not
            if status == "ANSWER" and f.get("du") in self.roots:
                self.root_up.append(t)
            return
        if not self._calls_side(f):
            return
        if status == "ANSWER":
            self.callee.append((0, t, f.get("du", ""), f.get("dch", ""), ""))
        elif status in ev.DIAL_STATUSES:
            self.failures.append((ev.DIAL_STATUSES[status], f"{f.get('dch', '')}: {status}", t))

    def _cdr(self, f, u):
        good = trusted(f)
        if u in self.roots:
            self.ended_roots.add(u)
        if f.get("disp") != "ANSWERED":
            return
        when = f.get("answer", "") if good else ""
        if f.get("dch") and (not self.originated or u in self.roots):
            self.callee.append((2, when, "", f["dch"], ""))
        elif not f.get("dch") and u in self.roots:
            self.root_up_cdr.append(when)
        elif not f.get("dch") and u and not self.originated:
            self.callee.append((2, when, u, f.get("ch", ""), ""))

    def _originate_response(self, f, t):
        root = f.get("u") if f.get("u") in self.roots else self.req_root.get(f.get("req"))
        if f.get("resp") == "Success" or not root:
            return
        self.ended_roots.add(root)
        self.end_times.append(t)
        _ = self.translate
        known = words.ORIGINATE_REASONS.get(f.get("reason"))
        if known:
            status, said = known[0], _(known[1])
        else:
            status, said = "failed", _("failed (reason %s)", f.get("reason"))
        phone = f.get("ch") or _("The phone")
        self.failures.append((status, f"{phone} {said}", t))

    def _bridged(self):
        """A bridge that a calling leg is in and that held two channels: the other side answered."""
        for bridge in self.bridges.values():
            if not bridge["full"] or not any(u in self.roots for _t, u, _ch in bridge["members"]):
                continue
            others = [(t, u, ch) for t, u, ch in bridge["members"] if u not in self.roots]
            if not others:
                self.callee.append((0, bridge["full"], "", "", ""))
            for _t, u, ch in others:
                self.callee.append((0, bridge["full"], u, ch, ""))

    # -- conclusions --------------------------------------------------------------------------------------

    def direction(self):
        """(direction, caller, called) from the click-to-call, else the calling leg's first word on it."""
        if self.originate:
            return self.originate["dir"], self.originate.get("ext", ""), self.originate["number"]
        best = None
        for kinds in (("Newchannel",), ("Cdr",), ("Newstate", "Hangup")):
            best = next((f for f in self.facts if f["e"] in kinds and f.get("u") in self.roots), None)
            if best:
                break
        if best is None:
            return "internal", "", ""
        direction = "in" if best.get("num_ext") else "out" if best.get("exten_ext") else "internal"
        return direction, best.get("num", ""), best.get("exten", "")

    def answered_by(self):
        """The answering leg: a phone before a Local channel, then the earliest."""
        if not self.callee:
            return None
        named = [
            (kind, t, u, ch or self.legs.get(u, {}).get("channel", ""), member)
            for kind, t, u, ch, member in self.callee
        ]
        ranked = sorted(named, key=lambda c: (ev.is_local(c[3]) or not c[3], c[0], c[1] or "~", c[3], c[2]))
        _kind, _t, uniqueid, channel, member = ranked[0]
        same = [c for c in ranked if c[3] == channel or (uniqueid and c[2] == uniqueid)]
        uniqueid = uniqueid or next((c[2] for c in same if c[2]), "")
        member = member or next((c[4] for c in same if c[4]), "")
        return {
            "uniqueid": uniqueid,
            "channel": channel,
            "exten": ev.channel_exten(channel),
            "member": member,
        }

    def started(self):
        own = [f["t"] for f in self.facts if f.get("t") and not f["e"].startswith("@") and f["e"] != "Cdr"]
        own += [f["t"] for f in self.facts if f.get("t") and f["e"] == "@originate"]
        if own:
            return min(own)
        starts = [f["start"] for f in self.facts if f["e"] == "Cdr" and f.get("start") and trusted(f)]
        times = starts or [f["t"] for f in self.facts if f.get("t")]
        return min(times) if times else ""

    def ended(self):
        return self.roots <= self.ended_roots

    def ended_at(self):
        ends = [t for t in self.end_times if t]
        if ends:
            return max(ends)
        cdr = [f["end"] for f in self.facts if f["e"] == "Cdr" and f.get("end") and trusted(f)]
        cdr = cdr or [f["t"] for f in self.facts if f["e"] == "Cdr" and f.get("t")]
        return max(cdr) if cdr else ""


def summarize(facts, key, _=words.plain):
    """Everything Odoo shows of a call, from its facts and its key (the Linkedid it is stored under); its
    words (reason, timeline) through the translator `_` (English without one)."""
    call = _Call(facts, key, _)
    direction, caller, called = call.direction()
    by = call.answered_by()
    # Answered by the dialplan (an IVR, a voicemail, a test call): the calling leg was answered, nothing was
    # dialled; for an Originate, its phone answered and then talked to the dialplan.
    root_up = bool(call.root_up or call.root_up_cdr)
    by_dialplan = not by and root_up and not call.dial_attempt and not call.app_originate
    if not by and call.app_originate and root_up:
        by = {
            "uniqueid": key,
            "channel": call.legs.get(key, {}).get("channel", ""),
            "exten": "",
            "member": "",
        }
        by["exten"] = ev.channel_exten(by["channel"])
    answered = bool(by) or by_dialplan
    ended = call.ended()
    status, reason = _status(call, direction, answered, ended, _)
    started = call.started()
    answer_times = [c[1] for c in call.callee if c[1] and c[0] < 2] if by else []
    answer_times = answer_times or ([c[1] for c in call.callee if c[1]] if by else [])
    if by_dialplan or (call.app_originate and not answer_times):
        answer_times = [t for t in call.root_up if t] or [t for t in call.root_up_cdr if t]
    answered_at = min(answer_times) if answer_times else ""
    ended_at = call.ended_at() if ended else ""
    return {
        "status": status,
        "rank": rank(status),
        "reason": reason,
        "direction": direction,
        "caller": caller,
        "called": called,
        "answered": answered,
        "answered_by": by,
        "answered_by_dialplan": by_dialplan,
        "abandoned": call.abandoned,
        "queue": next((f["queue"] for f in call.facts if f.get("queue")), ""),
        "started_at": started,
        "answered_at": answered_at if answered else "",
        "ended_at": ended_at,
        "duration": _span(started, ended_at),
        "talk_time": _span(answered_at, ended_at) if answered else 0,
        "ring_time": _span(started, answered_at if answered and answered_at else ended_at),
        "rung": list(dict.fromkeys(target for _t, target in sorted(call.rung) if target)),
        "roots": sorted(call.roots),
        "roots_ended": sorted(call.ended_roots),
        "root_answered": [
            leg for leg, value in sorted(call.legs.items()) if leg in call.roots and value["up"]
        ],
        "legs": _legs(call, by),
        "timeline": [(f.get("t", ""), words.describe(f, _)) for f in call.facts],
        "skews": [ev.cdr_skew(f) for f in call.facts if ev.cdr_skew(f) is not None],
    }


def _status(call, direction, answered, ended, _):
    if not ended:
        if call.anyone_up:
            return "up", ""
        if any(not f["e"].startswith("@") for f in call.facts):
            return "ringing", ""
        return "dialing", ""
    if answered:
        return "answered", ""
    if direction == "in":
        if call.abandoned:
            return "missed", _("The caller gave up waiting in queue %s", call.abandoned)
        failures = sorted(call.failures, key=lambda x: (SEVERITY.index(x[0]), x[2], x[1]))
        return "missed", (failures[0][1] if failures else _("Nobody answered"))
    for status in SEVERITY:
        found = sorted((t, said) for s, said, t in call.failures if s == status)
        if found:
            return status, found[0][1]
    return "noanswer", _("Nobody answered")


def _span(start, end):
    if not start or not end:
        return 0
    return max(0, round(ev.seconds_between(start, end)))


def _legs(call, by):
    out = []
    for uniqueid, leg in sorted(call.legs.items(), key=lambda kv: (kv[1]["first"] or "~", kv[0])):
        role = "caller" if uniqueid in call.roots else "answered" if by and by["uniqueid"] == uniqueid else ""
        out.append(dict(leg, exten=ev.channel_exten(leg["channel"]), role=role))
    return out
