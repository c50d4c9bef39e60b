"""Test fixtures shared by every test: a real Redis server for the session.

Order of preference: REDIS_URL when set; a testcontainers Redis where a Docker engine answers; otherwise a
`redis-server` started here on a free port (never a fake).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from peers.local_redis import RedisServer, free_port, private_redis, redis_server


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis for the whole run; each test must use its own key prefix (see `bus_settings`)."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if _docker_available():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    with private_redis() as server:
        yield server.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server (with AOF) that a test may stop, kill and restart."""
    if redis_server() is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(port=free_port(), workdir=tmp_path, appendonly=True)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix unique to the test, so tests sharing one Redis never see each other's streams."""
    name = request.node.name.replace("[", "-").replace("]", "")
    return f"t{os.getpid()}-{abs(hash(request.node.nodeid)) % 10**8}-{name}"[:80]
