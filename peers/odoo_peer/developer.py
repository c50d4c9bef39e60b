"""The module's developer API as the bridge meets it (docs/odoo-api.md, "The developer API"): answers to the
AMI actions Odoo code sent (`asterisk_plus.ami_request.on_ami_replies`) and the dialplan's
`UserEvent(OdooExecute, ...)` (`asterisk_plus.execute_rule.on_execute_events`), with the module's checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

REQUESTS = "asterisk_plus.ami_request"
RULES = "asterisk_plus.execute_rule"
# The module's own method marked @dialplan (models/callback_request.py).
EXAMPLE = ("asterisk_plus.callback_request", "request_callback")
# The row the module's default events map has for it (data/event_map.xml).
EXECUTE_MAP_ROW = {
    "event": "UserEvent",
    "model": RULES,
    "method": "on_execute_events",
    "conditions": [{"header": "UserEvent", "op": "equals", "value": "OdooExecute"}],
}


@dataclass
class Developer:
    # Methods marked @dialplan in Odoo's code, and the (model, method) pairs an admin allowed (active rules).
    dialplan: set[tuple[str, str]] = field(default_factory=lambda: {EXAMPLE})
    rules: set[tuple[str, str]] = field(default_factory=set)
    # AMI requests Odoo made: request id -> the reply its callback got (None while it waits).
    requests: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    executed: list[tuple[str, str, Any, dict[str, Any]]] = field(
        default_factory=list
    )  # model, method, args, item
    refused: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    _done: set[str] = field(default_factory=set)

    def on_ami_replies(self, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        results = []
        for item in items:
            request = str(item.get("@id") or "")
            if item.get("@type") != "reply":
                results.append(_error("not a reply"))
            elif request not in self.requests:
                results.append(_error(f"no AMI request {request}"))
            elif self.requests[request] is not None:
                results.append({"status": "duplicate"})  # its callback was called already
            else:
                self.requests[request] = item
                results.append({"status": "ok"})
        return results

    def on_execute_events(self, items: list[dict[str, Any]]) -> list[dict[str, str]]:
        results = []
        for item in items:
            # Asterisk keeps the space after each comma of UserEvent's arguments: the module strips it.
            headers = {str(k).strip(): v.strip() for k, v in item.items() if isinstance(v, str)}
            target = (headers.get("Model", ""), headers.get("Method", ""))
            key = str(item.get("@id") or "")
            if key and key in self._done:
                results.append({"status": "duplicate"})
                continue
            if target not in self.dialplan or target not in self.rules:
                error = f"{target[0]}.{target[1]} may not be called from the dialplan"
                self.refused.append((item, error))
                results.append(_error(error))
                continue
            try:
                args = json.loads(headers.get("Args") or "{}")
            except ValueError as exc:
                results.append(_error(f"Args is not JSON: {exc}"))
                continue
            self._done.add(key)
            self.executed.append((*target, args, item))
            results.append({"status": "ok"})
        return results


def _error(text: str) -> dict[str, str]:
    return {"status": "error", "error": text}
