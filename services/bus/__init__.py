"""The shared bus library: stream names, entry schema, publishing, the consumer-group loop, request/reply.

Every service uses this and nothing else to talk to the others (docs/bus-contract.md).
"""

from . import keys, metrics
from .bus import REDIS_DOWN, Bus, wait_for_redis
from .config import BusSettings
from .connect import close_redis, connect_redis, connect_redis_sync
from .consumer import Consumer, Handler, Outcome
from .entry import Entry, decode, encode, encode_pairs, now_iso, parse_iso
from .keys import Keys
from .log import Log, StateLog
from .rpc import Requester, RequestTimeout, deadline_after, expired, new_request_id
from .service import run, serve
from .status import Status

__all__ = [
    "REDIS_DOWN",
    "Bus",
    "BusSettings",
    "Consumer",
    "Entry",
    "Handler",
    "Keys",
    "Log",
    "Outcome",
    "RequestTimeout",
    "Requester",
    "StateLog",
    "Status",
    "close_redis",
    "connect_redis",
    "connect_redis_sync",
    "deadline_after",
    "decode",
    "encode",
    "encode_pairs",
    "expired",
    "keys",
    "metrics",
    "new_request_id",
    "now_iso",
    "parse_iso",
    "run",
    "serve",
    "wait_for_redis",
]
