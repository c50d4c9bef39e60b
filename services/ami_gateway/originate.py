"""What an asynchronous Originate's answer means: Asterisk queues it at once and says later, in an
OriginateResponse event, whether the call started. The requester hears the latter, in words."""

from __future__ import annotations

from typing import Any

# `Reason` of OriginateResponse is Asterisk's AST_CONTROL_* code of the originating channel's last state.
REASONS = {
    "0": "the phone could not be called (not registered, unreachable or no such channel)",
    "1": "the phone hung up",
    "3": "no answer",
    "5": "busy",
    "8": "congestion (no route, or all lines busy)",
}
# How long Asterisk rings the first leg when the Originate names no Timeout (milliseconds).
DEFAULT_RING_MS = 30_000
# What the response may take beyond the ring time.
MARGIN_S = 5.0


def is_async(headers: dict[str, Any]) -> bool:
    value = next((v for k, v in headers.items() if k.lower() == "async"), "")
    return str(value).lower() in ("true", "yes", "1")


def wait_s(headers: dict[str, Any], default: float) -> float:
    """An async Originate is answered when the phone answers or gives up: wait for its ring time."""
    if not is_async(headers):
        return default
    raw = next((v for k, v in headers.items() if k.lower() == "timeout"), "")
    try:
        ring_ms = float(raw) if raw else DEFAULT_RING_MS
    except (TypeError, ValueError):
        ring_ms = DEFAULT_RING_MS
    return max(default, ring_ms / 1000 + MARGIN_S)


def failure(events: list[dict[str, Any]] | None) -> tuple[str, dict[str, str]] | None:
    """(error text, headers for the reply) when the OriginateResponse says the call did not start."""
    for event in events or ():
        if event.get("Event") != "OriginateResponse" or event.get("Response") == "Success":
            continue
        reason = str(event.get("Reason", ""))
        channel = f"{event['Channel']}: " if event.get("Channel") else ""
        text = f"{channel}{REASONS.get(reason, 'the call did not start')} (Asterisk reason {reason or '?'})"
        return text, {"Response": str(event.get("Response") or "Failure"), "Reason": reason, "Message": text}
    return None
