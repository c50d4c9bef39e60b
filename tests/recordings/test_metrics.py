"""The recordings service as a process serves its metrics (9817 unless METRICS_PORT says otherwise): every
chunk and summary it writes onto `recordings` is counted, so are the verdicts it reads back from Odoo."""

from __future__ import annotations

from pathlib import Path

from peers.local_redis import free_port
from peers.odoo_peer import OdooPeer
from tests.bus.helpers import Samples, eventually, scrape, value
from tests.odoo_bridge.conftest import bridge_settings, start_bridge

from .helpers import ServiceProcess, write_wav


async def test_chunks_summaries_and_verdicts_are_counted(redis_url: str, prefix: str, tmp_path: Path) -> None:
    names = ["rec-1796100010.1.wav", "rec-1796100011.2.wav"]
    for n, name in enumerate(names):
        write_wav(tmp_path / "monitor" / name, 20 + 10 * n, seed=n)
    port = free_port()
    service = ServiceProcess(
        redis_url,
        prefix,
        tmp_path,
        METRICS_PORT=str(port),
        METRICS_HOST="127.0.0.1",
        METRICS_INTERVAL_S="0.2",
    )
    odoo = await OdooPeer().start()
    bridge = await start_bridge(bridge_settings(redis_url, prefix, odoo), odoo)
    service.start()
    page = f"http://127.0.0.1:{port}/metrics"
    try:

        async def in_odoo() -> bool:
            return len(odoo.recordings.recordings) == len(names)

        await eventually(in_odoo, timeout=60)
        receipts = odoo.recordings.chunk_receipts
        chunks = len(receipts)
        # Each chunk and each summary reached Odoo once: what the service wrote is exactly that.
        assert chunks >= 2 * len(names) and set(receipts.values()) == {1}
        assert sorted(odoo.recordings.summary_receipts.values()) == [1] * len(names)
        last: list[Samples] = []

        async def counted() -> bool:
            last[:] = [await scrape(page)]
            verdicts = value(
                last[0], "pbx_entries_in_total", stream="commands:recordings", group="recordings"
            )
            return verdicts == len(names)

        await eventually(counted, timeout=30)
        samples = last[0]
        assert value(samples, "pbx_service_info", service="recordings") == 1
        assert value(samples, "pbx_entries_out_total", stream="recordings") == chunks + len(names)
        assert value(samples, "pbx_redis_up") == 1
        assert service.stop() == 0
    finally:
        service.stop()
        await bridge.halt()
        await odoo.stop()
