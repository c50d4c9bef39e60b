"""The pipeline as real processes: AMI peer -> gateway -> Redis (AOF) -> bridge -> Odoo peer; the guard.

The bus is one redis-server of the tests' own, or whatever `bus_env` points the services at (Sentinels)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio as aioredis

from peers.ami_peer import AmiPeer
from peers.local_redis import RedisServer
from peers.odoo_peer import OdooPeer
from services.bus import BusSettings, Keys, connect_redis

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ami_gateway", "odoo_bridge", "guard")


@dataclass
class Pipeline:
    redis: RedisServer | None
    ami: AmiPeer
    odoo: OdooPeer
    logs: Path
    prefix: str = "fire"
    server: str = "asterisk1"
    bus_env: dict[str, str] = field(default_factory=dict)  # REDIS_* instead of the redis-server's URL
    extra_env: dict[str, str] = field(default_factory=dict)
    metrics_ports: dict[str, int] = field(default_factory=dict)  # none by default: runs side by side
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    def env(self, service: str) -> dict[str, str]:
        return {
            **os.environ,
            **({"REDIS_URL": self.redis.url} if self.redis else {}),
            **self.bus_env,
            "PBX_PREFIX": self.prefix,
            "AGENT_SERVER": self.server,
            "AMI_HOST": "127.0.0.1",
            "AMI_PORT": str(self.ami.port),
            "AMI_USER": "admin",
            "AMI_SECRET": "admin",
            "AMI_RECONNECT_MAX_S": "0.5",
            "AMI_PING_INTERVAL_S": "1",
            "ODOO_URL": self.odoo.url,
            "ODOO_DB": self.odoo.db,
            "ODOO_USER": "asterisk1",
            "ODOO_PASSWORD": "asterisk1",
            "ODOO_RETRY_MAX_S": "1",
            "GUARD_BACKEND": "log",
            # As in a container (same hostname, pid 1): a restarted service is the same consumer, so it takes
            # up its own pending entries first and per-call order survives the restart.
            "CONSUMER_NAME": f"{service}-1",
            "BUS_BLOCK_MS": "200",
            "BUS_CLAIM_IDLE_MS": "3000",
            "LOG_LEVEL": "INFO",
            "METRICS_PORT": str(self.metrics_ports.get(service, 0)),
            **self.extra_env,
        }

    def start(self, service: str) -> None:
        n = self.starts.get(service, 0) + 1
        self.starts[service] = n
        out = open(self.logs / f"{service}.{n}.log", "w")  # the process owns it
        self.procs[service] = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            cwd=ROOT,
            env=self.env(service),
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def kill(self, service: str) -> None:
        """kill -9: no chance to finish a batch, ack, or say goodbye."""
        proc = self.procs.pop(service)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> dict[str, int]:
        codes = {}
        for proc in self.procs.values():
            proc.terminate()
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        self.procs.clear()
        return codes

    def alive(self) -> dict[str, int | None]:
        return {name: proc.poll() for name, proc in self.procs.items()}

    def settings(self) -> BusSettings:
        env = {**({"REDIS_URL": self.redis.url} if self.redis else {}), **self.bus_env}
        return BusSettings(
            **{k.lower(): v for k, v in env.items()}, pbx_prefix=self.prefix, agent_server=self.server
        )

    def key(self, name: str) -> str:
        return Keys.of(self.settings()).key(name)

    def client(self) -> aioredis.Redis:
        """A client of the bus as the services reach it (through the Sentinels when they do)."""
        return connect_redis(self.settings())

    async def ready(self, service: str, timeout: float = 60) -> None:
        """The service's status hash says ready (what the health command checks)."""
        client = self.client()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    proc = self.procs.get(service)
                    if proc is not None and proc.poll() is not None:
                        raise AssertionError(f"{service} exited with {proc.returncode}: see {self.logs}")
                    try:
                        fields = await client.hgetall(self.key(f"status:{service}"))
                        if fields.get("ready") == "1" and fields.get("pid") == str(proc.pid if proc else ""):
                            return
                    except (ConnectionError, OSError, aioredis.RedisError):
                        pass
                    await asyncio.sleep(0.1)
        finally:
            await client.aclose()

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)
