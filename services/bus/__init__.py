"""The shared bus library: stream names, entry schema, publishing, the consumer-group loop, request/reply.

Every service uses this and nothing else to talk to the others (docs/bus-contract.md).
"""

from . import keys, metrics
from .backoff import Backoff, sleep
from .bus import REDIS_DOWN, Bus, wait_for_redis
from .client import AsyncRedis, Fields, Pipeline, StreamBatch, StreamEntry, SyncRedis
from .config import BusSettings
from .connect import close_redis, connect_redis, connect_redis_sync
from .consumer import Consumer, Handler, Outcome
from .entry import (
    ISO_UTC,
    Entry,
    HeaderInput,
    Headers,
    decode,
    encode,
    encode_pairs,
    iso_utc,
    now_iso,
    parse_iso,
)
from .http import http_server
from .keys import Keys
from .log import Log, StateLog
from .rpc import Requester, RequestTimeout, deadline_after, expired, new_request_id
from .service import run, serve, tune_gc
from .status import Status, seconds_since_update
from .tasks import Tasks

__all__ = [
    "ISO_UTC",
    "REDIS_DOWN",
    "AsyncRedis",
    "Backoff",
    "Bus",
    "BusSettings",
    "Consumer",
    "Entry",
    "Fields",
    "Handler",
    "HeaderInput",
    "Headers",
    "Keys",
    "Log",
    "Outcome",
    "Pipeline",
    "RequestTimeout",
    "Requester",
    "StateLog",
    "Status",
    "StreamBatch",
    "StreamEntry",
    "SyncRedis",
    "Tasks",
    "close_redis",
    "connect_redis",
    "connect_redis_sync",
    "deadline_after",
    "decode",
    "encode",
    "encode_pairs",
    "expired",
    "http_server",
    "iso_utc",
    "keys",
    "metrics",
    "new_request_id",
    "now_iso",
    "parse_iso",
    "run",
    "seconds_since_update",
    "serve",
    "sleep",
    "tune_gc",
    "wait_for_redis",
]
