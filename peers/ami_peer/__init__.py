"""An AMI peer that speaks the protocol as Asterisk 22 does: for tests, benchmarks and `make run`."""

from .scenarios import Call, attack, demo_calls, good_client, security_event
from .server import AmiPeer

__all__ = ["AmiPeer", "Call", "attack", "demo_calls", "good_client", "security_event"]
