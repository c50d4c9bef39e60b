"""What the developer API reads of the bridge's items (docs/odoo-api.md, "The developer API"): whether an
item is exactly a bus entry, the result an AMI reply gives its callback, and the call a
`UserEvent(OdooExecute, ...)` asks for.

Plain Python without Odoo imports (like call_state.py): tests/odoo_module loads it by path.
"""

import json

# What the bridge adds to an item (services/odoo_bridge/normalize.py, Entry.as_item): not on the bus.
BRIDGE_ADDED = ("@entry", "@e164", "@utc", "@time")
REPEAT = "#"


def decode(fields):
    """A stream entry's flat fields as the agent decodes them: `Name`, `Name#2`... back to one list."""
    out = {}
    for name, value in fields.items():
        base, sep, n = name.rpartition(REPEAT)
        if not name.startswith("@") and sep and n.isdigit() and base in out:
            current = out[base]
            out[base] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            out[name] = value
    return out


def exact(item, fields):
    """Whether the item holds exactly the entry's fields (nothing more, nothing less, nothing changed), the
    bridge's own additions aside. `fields`: the entry as Redis returned it, or None when there is none."""
    if not fields:
        return False
    own = {k: v for k, v in item.items() if k not in BRIDGE_ADDED}
    return own == decode(fields)


def reply_result(item, request_id):
    """What a callback gets for a reply of the gateway (services/ami_gateway/actions.py)."""
    items = None
    if item.get("@json"):
        try:
            items = json.loads(item["@json"])
        except ValueError:
            items = None
    return {
        "request_id": request_id,
        "ok": item.get("@status") == "ok",
        "timeout": False,
        "error": item.get("@error") or "",
        "headers": {k: v for k, v in item.items() if not k.startswith("@")},
        "items": items,
    }


def timeout_result(request_id, seconds):
    return {
        "request_id": request_id,
        "ok": False,
        "timeout": True,
        "error": f"no answer from the agent within {seconds:g} s",
        "headers": {},
        "items": None,
    }


class NotACall(ValueError):
    """The UserEvent does not name a well-formed call: refused, with why."""


def execute_call(item):
    """(model, method, args) of a `UserEvent(OdooExecute, Model: ..., Method: ..., Args: <JSON>)`.

    Asterisk keeps the space after each comma of UserEvent's arguments, so names and values are stripped.
    `Args` is a JSON object; none means `{}`."""
    headers = {str(k).strip(): v.strip() for k, v in item.items() if isinstance(v, str)}
    if headers.get("Event") != "UserEvent" or headers.get("UserEvent") != "OdooExecute":
        raise NotACall("not a UserEvent OdooExecute")
    model, method = headers.get("Model", ""), headers.get("Method", "")
    if not model or not method:
        raise NotACall("OdooExecute needs Model and Method")
    raw = headers.get("Args") or "{}"
    try:
        args = json.loads(raw)
    except ValueError as exc:
        raise NotACall(f"Args is not JSON ({exc}): {raw[:200]}") from exc
    if not isinstance(args, dict):
        raise NotACall("Args must be a JSON object")
    return model, method, args
