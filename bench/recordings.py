"""Recordings through the whole path: 5-minute WAVs (8 kHz mono 16-bit, as Asterisk writes by default) and
their calls' events from the AMI peer -> gateway -> Redis -> recordings (MP3) -> Redis -> bridge -> Odoo peer
(5 ms per call), each a process of its own but the AMI peer. The figure is recordings a minute from the first
Hangup to the last recording Odoo has; and the recordings service's peak resident memory (VmHWM).

All the files are there at once, so the service works through a backlog: the rate is its capacity, not a
PBX's load. The WAV files are written as they are closed by Asterisk, then their calls' events are sent.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from peers.ami_peer import AmiPeer
from peers.ami_peer.flows.recording import RecordedCall, voice_pcm, wav_header

from .common import OdooProcess, private_redis, service

N_RECORDINGS = 30
SECONDS = 300
LATENCY_MS = 5.0


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) / 1024


def recordings(odoo: OdooProcess) -> list[dict[str, Any]]:
    """What Odoo received of `asterisk_plus.recording` (the calls' events come too)."""
    odoo.poll()
    return [r for r in odoo.received if r["model"] == "asterisk_plus.recording"]


async def run() -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-rec-"))
    monitor = work / "monitor"
    monitor.mkdir()
    pcm = voice_pcm(SECONDS)
    try:
        with private_redis() as url:
            ami = await AmiPeer().start()
            odoo = OdooProcess(latency_ms=LATENCY_MS, keys="@id,status,size")
            env = {
                "REDIS_URL": url,
                "PBX_PREFIX": "bench-rec",
                "AMI_HOST": "127.0.0.1",
                "AMI_PORT": str(ami.port),
                "ODOO_URL": odoo.url,
                "ODOO_DB": odoo.db,
                "RECORDINGS_DIR": str(monitor),
                "RECORDINGS_ASTERISK_DIR": str(monitor),
                "RECORDINGS_SPOOL_DIR": str(work / "spool"),
            }
            with service("ami_gateway", env), service("odoo_bridge", env), service("recordings", env) as rec:
                while not any(s.user for s in ami.sessions):
                    await asyncio.sleep(0.02)
                await asyncio.sleep(1.0)
                calls = [RecordedCall(None, str(monitor), seconds=SECONDS) for _ in range(N_RECORDINGS)]
                for call in calls:
                    (monitor / call.file_name).write_bytes(wav_header(8000, len(pcm)) + pcm)
                for call in calls:
                    await ami.replay(call.opening())
                start = time.time()
                for call in calls:
                    await ami.replay(call.closing())
                while len(stored := recordings(odoo)) < N_RECORDINGS:
                    if time.time() - start > 600:
                        raise RuntimeError(f"only {len(stored)} of {N_RECORDINGS} recordings reached Odoo")
                    await asyncio.sleep(0.1)
                end = max(r["wall"] for r in stored)
                peak = peak_rss_mb(rec.pid)
                statuses = {r["item"]["status"] for r in stored}
                mp3 = sum(int(r["item"]["size"]) for r in stored)
            await ami.stop()
            odoo.stop()
        if statuses != {"ok"}:
            raise RuntimeError(f"recordings not stored as ok: {statuses}")
        return {
            "recordings_per_min": N_RECORDINGS / (end - start) * 60,
            "peak_rss_mb": peak,
            "wav_mb": N_RECORDINGS * (len(pcm) + 44) / 1e6,
            "mp3_mb": mp3 / 1e6,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    f = asyncio.run(run())
    print(
        f"recordings n={N_RECORDINGS} seconds={SECONDS} wav_mb={f['wav_mb']:.1f} mp3_mb={f['mp3_mb']:.1f} "
        f"ratio={f['wav_mb'] / f['mp3_mb']:.1f}"
    )
    print(f"recordings_per_min={f['recordings_per_min']:.1f} peak_rss_mb={f['peak_rss_mb']:.1f}")


if __name__ == "__main__":
    main()
