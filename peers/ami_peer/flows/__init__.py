"""Call flows as a real Asterisk 22.10.1 sent them, one call each, selectable by name.

Times in `Cdr` are Asterisk's local time (`start` is a naive local datetime), as cdr_manager writes them.
"""

from __future__ import annotations

from collections.abc import Callable

from .inbound import answered_without_dial, dial_unregistered, queue_call
from .originate import click_to_call, local_chain, originate_failure
from .parts import Pairs

# Scenario names as the peer's CLI and tests select them; each makes one call's events.
FLOWS: dict[str, Callable[[], list[Pairs]]] = {
    "answered-no-dial": lambda: answered_without_dial(),
    "answered-no-dial-cdr-first": lambda: answered_without_dial(cdr_first=True),
    "dial-unregistered": lambda: dial_unregistered(),
    "originate-unregistered": lambda: originate_failure(),
    "local-chain": lambda: local_chain(),
    "click-to-call": lambda: click_to_call(),
    "queue": lambda: queue_call(),
}

__all__ = [
    "FLOWS",
    "answered_without_dial",
    "click_to_call",
    "dial_unregistered",
    "local_chain",
    "originate_failure",
    "queue_call",
]
