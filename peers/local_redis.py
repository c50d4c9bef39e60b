"""Free loopback ports, waiting for one to open, and a private redis-server: for the tests, the benchmarks and
`make run`.

A private server listens on loopback only, in a directory of its own, without RDB snapshots; AOF when asked
(a test that kills and restarts Redis must find its entries again).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis


def free_port(cluster_bus: bool = False) -> int:
    """A free loopback port; for a cluster node, port + 10000 (its cluster bus) must be free as well."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if not cluster_bus:
            return port
        if port + 10000 < 65536:
            try:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                continue


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for_port(port: int, what: str, host: str = "127.0.0.1", timeout: float = 20.0) -> None:
    """Until something listens on host:port (a process just started), or fail naming `what`."""
    wait_until(lambda: port_open(port, host), f"{what} to listen on {host}:{port}", timeout)


def redis_server() -> str | None:
    """The redis-server binary, if installed (`make test` and `make run` install it with apt)."""
    return shutil.which("redis-server")


def server_args(port: int, workdir: Path, *, appendonly: bool = False) -> list[str]:
    """A redis-server command line: loopback, no RDB snapshots, its files in `workdir`."""
    args = [redis_server() or "redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--dir", str(workdir), "--appendonly", "yes" if appendonly else "no"]
    if appendonly:
        args += ["--appendfsync", "always"]  # a kill -9 loses nothing a client was told is written
    return args


def wait_until(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll `check` (Redis and socket errors count as not yet) until it is truthy, or fail naming `what`."""
    end = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < end:
        try:
            if check():
                return
        except (redis.RedisError, OSError) as exc:
            last = exc
        time.sleep(0.025)
    raise RuntimeError(f"timed out waiting for {what}" + (f": {last}" if last else ""))


@dataclass
class RedisServer:
    """A redis-server process of our own, restartable on the same port and data directory."""

    port: int
    workdir: Path
    appendonly: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if redis_server() is None:
            raise RuntimeError("redis-server is not installed (make test installs it with apt)")
        args = server_args(self.port, self.workdir, appendonly=self.appendonly)
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        try:
            wait_until(client.ping, f"redis-server on port {self.port}", timeout=5)
        finally:
            client.close()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def private_redis(appendonly: bool = False) -> Iterator[RedisServer]:
    """A redis-server on a free port in a temporary directory, removed with it at the end."""
    with tempfile.TemporaryDirectory(prefix="pbx-redis-") as workdir:
        server = RedisServer(free_port(), Path(workdir), appendonly).start()
        try:
            yield server
        finally:
            server.stop()
