"""Call facts (call_events.py) in words, for the call's timeline and for why a call failed.

Words go through `_`, a translator passed in (Odoo passes compat.translator(env), in the reader's language);
without one they are English. Every text is the first argument of a call spelled `_("...")`: Odoo's term
export finds those in the module's .py files, so the words are in i18n/asterisk_plus.pot. Plain Python without
Odoo imports, like call_events.py.
"""


def plain(source, *args):
    """The translator when none is given: English, formatted as Odoo's `_` does (`%` only when given args)."""
    return source % args if args else source


_ = plain  # marks the texts of the table below for the term export; they are translated where shown


# Asterisk's AST_CONTROL_* codes in OriginateResponse's Reason (include/asterisk/frame.h, main/channel.c).
ORIGINATE_REASONS = {
    0: ("failed", _("could not be called: not registered, unknown or unavailable")),
    1: ("noanswer", _("hung up without answering")),
    3: ("noanswer", _("did not answer in time")),
    5: ("busy", _("is busy")),
    8: ("congestion", _("could not be reached: congestion (no free line or route)")),
}


def describe(f, _=plain):
    """A fact in words, for the call's timeline. `_`: the translator (see the module's docstring)."""
    e, ch, dch = f["e"], f.get("ch", ""), f.get("dch", "")
    if e == "Newchannel":
        return _("%s: new channel (%s -> %s)", ch, f.get("num") or "?", f.get("exten") or "?")
    if e == "Newstate":
        return f"{ch}: {_state(f.get('st'), _)}"
    if e == "Hangup":
        return _("%s: hung up (%s)", ch, f.get("cause_txt") or f.get("cause"))
    if e == "DialBegin":
        return _("%s dials %s", ch or _("Originate"), dch or f.get("dstr", ""))
    if e == "DialEnd":
        return f"{dch}: {f.get('ds', '')}"  # Asterisk's DialStatus, as it says it
    if e == "BridgeEnter":
        return _("%s joins a bridge (%s in it)", ch, f.get("n"))
    if e.startswith("Queue"):
        return _queue(e, ch, f.get("queue", ""), _)
    if e in ("AgentCalled", "AgentConnect", "AgentComplete"):
        return _agent(e, f.get("queue", ""), f.get("member") or dch, _)
    if e == "Cdr":
        return _("CDR %s: %s, %s s billed", ch, f.get("disp", ""), f.get("bill", 0))
    if e == "OriginateResponse":
        words = ORIGINATE_REASONS.get(f.get("reason"), ("", ""))[1]
        line = _("Originate %s: %s", ch, f.get("resp", ""))
        return line + (f" ({_(words) if words else ''})" if f.get("resp") != "Success" else "")
    if e == "@originate":
        phones = ", ".join(r["ch"] for r in f["reqs"])
        return _("Click-to-call by %s: %s -> %s", f.get("login") or "?", phones, f["number"])
    if e == "@reply":
        if f.get("ok"):
            return _("Asterisk accepted the call: %s", f.get("msg", ""))
        return _("Asterisk refused the call: %s", f.get("msg", ""))
    if e == "@siblings":
        return _("Answered on %s: the other phones stop ringing", f.get("on"))
    return e


def _state(state, _):
    if state == "6":
        return _("answered")
    if state == "5":
        return _("ringing")
    if state == "4":
        return _("ring")
    return _("state %s", state)


def _queue(e, ch, queue, _):
    if e == "QueueCallerJoin":
        return _("%s waits in queue %s", ch, queue)
    if e == "QueueCallerLeave":
        return _("%s leaves queue %s", ch, queue)
    if e == "QueueCallerAbandon":
        return _("%s gives up in queue %s", ch, queue)
    return _("%s %s queue %s", ch, e, queue)


def _agent(e, queue, who, _):
    if e == "AgentCalled":
        return _("Queue %s rings %s", queue, who)
    if e == "AgentConnect":
        return _("Queue %s is answered by %s", queue, who)
    return _("Queue %s is done with %s", queue, who)
