"""Prometheus metrics of a service: the registry and every family the services fill.

The shared bus code counts entries in and out, retries, claims and dead letters, so every service has them
without a line of its own; a service adds its own figures (AMI connected, bans, console sessions) with a
counter or a `Watched` gauge read when Prometheus scrapes. services/bus/exporter.py serves them on
`METRICS_PORT` (each service its own default port, 0 = off) and reads the lag and pending of the groups
this process consumes (XINFO GROUPS) every `METRICS_INTERVAL_S`.

Every sample carries `server` (AGENT_SERVER), so one Prometheus can watch many PBXes. Stream labels name the
family of a reply stream (`replies`, not `replies:<requester>`): labels must stay few.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Each service its own port, so that services sharing a network namespace (the guard and conf_sync on the
# host network, in compose and in the Kubernetes DaemonSet) never collide.
DEFAULT_PORTS = {
    "ami_gateway": 9811,
    "odoo_bridge": 9812,
    "conf_sync": 9813,
    "guard": 9814,
    "console": 9815,
    "phonebook": 9816,
    "recordings": 9817,
}

# A `_created` series beside every counter doubles the page for nothing. (The function has no annotations.)
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_GROUP = ["server", "stream", "group"]
ENTRIES_IN = Counter(
    "pbx_entries_in", "Entries a consumer group handled and acked", _GROUP, registry=REGISTRY
)
ENTRIES_OUT = Counter(
    "pbx_entries_out", "Entries this service wrote onto a stream", ["server", "stream"], registry=REGISTRY
)
ENTRIES_RETRIED = Counter(
    "pbx_entries_retried", "Entries a handler failed on; they are delivered again", _GROUP, registry=REGISTRY
)
ENTRIES_DEAD = Counter(
    "pbx_entries_dead_lettered", "Entries moved to the dead letters", _GROUP, registry=REGISTRY
)
ENTRIES_CLAIMED = Counter(
    "pbx_entries_claimed", "Pending entries taken over from a dead consumer", _GROUP, registry=REGISTRY
)
GROUP_LAG = Gauge(
    "pbx_group_lag",
    "Entries of the stream not yet delivered to the group (XINFO GROUPS lag)",
    _GROUP,
    registry=REGISTRY,
)
GROUP_PENDING = Gauge(
    "pbx_group_pending", "Entries delivered to the group and not acked yet", _GROUP, registry=REGISTRY
)
STREAM_LENGTH = Gauge(
    "pbx_stream_length", "Entries in a stream (XLEN)", ["server", "stream"], registry=REGISTRY
)
REDIS_UP = Gauge(
    "pbx_redis_up", "1 when the last read of the groups reached Redis", ["server"], registry=REGISTRY
)
SERVICE_INFO = Gauge(
    "pbx_service_info", "Always 1: which service this is", ["server", "service"], registry=REGISTRY
)
ODOO_RPC = Histogram(
    "pbx_odoo_rpc_seconds",
    "One JSON-RPC call to Odoo; outcome ok, or the error's class (OdooDown: retried, OdooRefused)",
    ["server", "model", "method", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
GUARD_BANS = Counter(
    "pbx_guard_bans",
    "Bans made; source rules, or odoo for a manual ban",
    ["server", "source"],
    registry=REGISTRY,
)
GUARD_FIREWALL_ERRORS = Counter(
    "pbx_guard_firewall_errors",
    "Firewall updates that failed (retried)",
    ["server", "backend"],
    registry=REGISTRY,
)
CONSOLE_SESSIONS = Gauge(
    "pbx_console_sessions", "Console pages connected (WebSockets)", ["server"], registry=REGISTRY
)
CONSOLE_COMMANDS = Counter(
    "pbx_console_commands",
    "Commands run from the console; outcome ok or error",
    ["server", "outcome"],
    registry=REGISTRY,
)


class Watched(Collector):
    """A figure an object already keeps, read when Prometheus scrapes: nothing to do on the hot path.

    `watch(owner, read, **labels)` reads `read(owner)`; the owner is held weakly (a test may make many), and a
    newer owner with the same labels takes the older one's place."""

    def __init__(self, name: str, documentation: str, labels: list[str], kind: str = "gauge") -> None:
        self.name, self.documentation, self.labels, self.kind = name, documentation, labels, kind
        self._sources: dict[tuple[str, ...], tuple[weakref.ref[Any], Callable[[Any], float]]] = {}
        REGISTRY.register(self)

    def watch(self, owner: object, read: Callable[[Any], float], **labels: str) -> None:
        self._sources[tuple(labels[name] for name in self.labels)] = (weakref.ref(owner), read)

    def describe(self) -> list[Metric]:
        return [self._family()]

    def _family(self) -> Any:
        family = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        return family(self.name, self.documentation, labels=self.labels)

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for values, (ref, read) in list(self._sources.items()):
            owner = ref()
            if owner is None:
                del self._sources[values]
                continue
            family.add_metric(list(values), float(read(owner)))
        yield family


AMI_CONNECTED = Watched("pbx_ami_connected", "1 while the gateway is logged in to Asterisk's AMI", ["server"])
GATEWAY_BUFFERED = Watched(
    "pbx_gateway_buffered_events", "Events received from AMI and not yet on the bus", ["server"]
)
GATEWAY_DROPPED = Watched(
    "pbx_gateway_dropped_events",
    "Events dropped because the buffer was full while Redis was away",
    ["server"],
    kind="counter",
)
GUARD_ACTIVE_BANS = Watched("pbx_guard_active_bans", "Bans in force", ["server"])
GUARD_FIREWALL_PENDING = Watched(
    "pbx_guard_firewall_pending", "Bans and unbans the firewall has not taken yet", ["server"]
)


def stream_label(stream: str) -> str:
    """`replies:<requester>` -> `replies`: one label per stream family, whoever asked."""
    return "replies" if stream.startswith("replies:") else stream


class _RpcTimer:
    """`async with odoo_rpc(...)`: the call's time into the histogram, labelled with how it ended."""

    def __init__(self, server: str, model: str, method: str) -> None:
        self.labels = (server, model, method)
        self.started = 0.0

    async def __aenter__(self) -> _RpcTimer:
        self.started = time.perf_counter()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None and issubclass(kind, asyncio.CancelledError):
            return
        outcome = "ok" if kind is None else kind.__name__
        ODOO_RPC.labels(*self.labels, outcome).observe(time.perf_counter() - self.started)


def odoo_rpc(server: str, model: str, method: str) -> _RpcTimer:
    return _RpcTimer(server, model, method)


# Every consumer group this process runs: (server, stream key, group) -> stream label, for exporter.py.
groups: dict[tuple[str, str, str], str] = {}


def track_group(server: str, key: str, stream: str, group: str) -> None:
    groups[(server, key, group)] = stream_label(stream)
