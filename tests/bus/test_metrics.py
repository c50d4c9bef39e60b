"""The shared bus code counts for every service: entries in and out, retries, dead letters, the groups' lag
and pending from XINFO GROUPS, all served over HTTP by the exporter (services/bus/metrics.py, exporter.py)."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from services.bus import Bus, BusSettings, Consumer, Entry, Outcome, encode, metrics
from services.bus.exporter import Exporter, Metrics, read_groups
from services.bus.log import Log
from tests.bus.helpers import eventually, scrape, value
from tests.conftest import free_port

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def own_bus(redis_url: str, prefix: str, **overrides: object) -> Bus:
    """A bus with a server name of its own: the counters live in the process, other tests count too."""
    server = f"m{uuid.uuid4().hex[:10]}"
    return Bus(BusSettings(redis_url=redis_url, pbx_prefix=prefix, agent_server=server, **overrides))


@pytest.fixture
async def exporter() -> Exporter:
    served = Exporter("127.0.0.1", free_port(), Log("test"))
    assert await served.start()
    yield served
    await served.close()


def url(exporter: Exporter) -> str:
    return f"http://127.0.0.1:{exporter.port}/metrics"


async def test_the_exporter_answers_prometheus_over_http_and_only_at_metrics(exporter: Exporter) -> None:
    samples = await scrape(url(exporter))
    assert value(samples, "process_cpu_seconds_total") is not None
    async with httpx.AsyncClient() as client:
        base = f"http://127.0.0.1:{exporter.port}"
        assert (await client.get(base + "/")).status_code == 404
        assert (await client.post(base + "/metrics")).status_code == 405
        head = await client.head(base + "/metrics")
        assert head.status_code == 200 and head.content == b""


async def test_publishing_counts_entries_out_per_stream(
    redis_url: str, prefix: str, exporter: Exporter
) -> None:
    bus = own_bus(redis_url, prefix)
    await bus.publish("to_odoo", {"A": "1"}, type="x")
    await bus.publish_many(
        [("events", encode({"Event": "E"}, type="event"))] * 3 + [("security", {"a": "b"})]
    )
    await bus.reply(Entry.from_fields("actions", "1-1", {"@type": "action", "@reply_to": "replies:me"}))
    samples = await scrape(url(exporter))
    server = bus.server
    assert value(samples, "pbx_entries_out_total", server=server, stream="to_odoo") == 1
    assert value(samples, "pbx_entries_out_total", server=server, stream="events") == 3
    assert value(samples, "pbx_entries_out_total", server=server, stream="security") == 1
    # One label for every reply stream, whoever asked: labels stay few.
    assert value(samples, "pbx_entries_out_total", server=server, stream="replies") == 1
    await bus.close()


async def test_a_consumer_counts_entries_handled_retried_and_dead_lettered(
    redis_url: str, prefix: str, exporter: Exporter
) -> None:
    bus = own_bus(redis_url, prefix, bus_retry_max_s=0.05)
    await bus.publish_fields("jobs", [encode({"N": i}, type="job") for i in range(6)])

    async def handle(batch: list[Entry]) -> Outcome:
        # N=0 fails every time (retried, then dead-lettered), N=1 is rejected at once, the others pass.
        return Outcome(
            retry={e.id: "busy" for e in batch if e.get("N") == "0"},
            reject={e.id: "bad" for e in batch if e.get("N") == "1"},
        )

    consumer = Consumer(bus, "workers", {"jobs": handle}, block_ms=50, max_deliveries=3)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    labels = {"server": bus.server, "stream": "jobs", "group": "workers"}

    async def settled() -> bool:
        samples = await scrape(url(exporter))
        return value(samples, "pbx_entries_dead_lettered_total", **labels) == 2

    await eventually(settled)
    stop.set()
    await task
    samples = await scrape(url(exporter))
    assert value(samples, "pbx_entries_in_total", **labels) == 4
    assert value(samples, "pbx_entries_retried_total", **labels) == 2  # deliveries 1 and 2 of N=0
    assert value(samples, "pbx_entries_out_total", server=bus.server, stream="dead") == 2
    assert value(samples, "pbx_entries_claimed_total", **labels) == 0
    await bus.close()


async def test_lag_pending_and_lengths_come_from_xinfo_groups(
    redis_url: str, prefix: str, exporter: Exporter
) -> None:
    bus = own_bus(redis_url, prefix)
    consumer = Consumer(bus, "readers", {"jobs": lambda batch: asyncio.sleep(0)})
    await consumer.ensure_groups()
    await bus.publish_fields("jobs", [encode({"N": i}, type="job") for i in range(10)])
    await bus.publish("dead", {"A": "1"}, type="x")
    labels = {"server": bus.server, "stream": "jobs", "group": "readers"}

    await read_groups(bus)
    samples = await scrape(url(exporter))
    assert value(samples, "pbx_group_lag", **labels) == 10
    assert value(samples, "pbx_group_pending", **labels) == 0
    assert value(samples, "pbx_stream_length", server=bus.server, stream="jobs") == 10
    assert value(samples, "pbx_stream_length", server=bus.server, stream="dead") == 1

    # Four read and not acked: pending 4, lag 6.
    await bus.redis.xreadgroup("readers", "someone", {bus.key("jobs"): ">"}, count=4)
    await read_groups(bus)
    samples = await scrape(url(exporter))
    assert value(samples, "pbx_group_lag", **labels) == 6
    assert value(samples, "pbx_group_pending", **labels) == 4
    await bus.close()


async def test_the_runner_serves_metrics_reads_the_groups_and_stops_with_the_service(
    redis_url: str, prefix: str
) -> None:
    port = free_port()
    bus = own_bus(redis_url, prefix, metrics_port=port, metrics_host="127.0.0.1", metrics_interval_s=0.05)
    Consumer(bus, "readers", {"jobs": lambda batch: asyncio.sleep(0)})
    await bus.redis.xgroup_create(bus.key("jobs"), "readers", id="0", mkstream=True)
    await bus.publish("jobs", {"A": "1"}, type="x")
    running = await Metrics.start("odoo_bridge", bus.settings, bus)
    page = f"http://127.0.0.1:{port}/metrics"
    labels = {"server": bus.server, "stream": "jobs", "group": "readers"}

    async def lag_read() -> bool:
        return value(await scrape(page), "pbx_group_lag", **labels) == 1

    await eventually(lag_read)
    samples = await scrape(page)
    assert value(samples, "pbx_service_info", server=bus.server, service="odoo_bridge") == 1
    assert value(samples, "pbx_redis_up", server=bus.server) == 1
    await running.close()
    assert running.poller is not None and running.poller.done()
    with pytest.raises(httpx.ConnectError):
        await scrape(page)
    await bus.close()


async def test_the_default_port_is_the_services_own_and_zero_turns_metrics_off(redis_url: str) -> None:
    assert BusSettings(metrics_port="").metrics_port is None  # METRICS_PORT= in an env file
    bus = own_bus(redis_url, "p", metrics_port=0)
    off = await Metrics.start("guard", bus.settings, bus)
    assert off.exporter is None and off.poller is None
    await off.close()
    # Every service (a package whose `__main__` runs it with `serve()`; `pbx` has one too) has a port of its
    # own, none shared.
    mains = [p / "__main__.py" for p in SERVICES_DIR.iterdir() if (p / "__main__.py").exists()]
    services = {m.parent.name for m in mains if f'serve("{m.parent.name}"' in m.read_text()}
    assert "ami_gateway" in services and "cli" not in services
    assert set(metrics.DEFAULT_PORTS) == services
    assert len(set(metrics.DEFAULT_PORTS.values())) == len(metrics.DEFAULT_PORTS)
    await bus.close()


async def test_a_port_already_taken_is_logged_and_the_service_runs_on(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bus = own_bus(redis_url, "p", metrics_port=port, metrics_host="127.0.0.1")
        with caplog.at_level(logging.ERROR):
            running = await Metrics.start("guard", bus.settings, bus)
        assert running.exporter is None
        record = next(r for r in caplog.records if r.getMessage() == "metrics not served: cannot listen")
        assert record.fields["port"] == port  # type: ignore[attr-defined]
        await running.close()
    await bus.close()
