"""`rediss://` reaches a Redis that speaks TLS only, verifying its certificate against the CA named in the
URL, and REDIS_PASSWORD is the password sent, for the services (asyncio) and the health check alike."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis

from peers.local_redis import free_port, redis_server
from peers.redis_topology import Process
from services.bus import Bus, BusSettings, Status, close_redis, connect_redis
from services.bus.health import check

pytestmark = pytest.mark.skipif(
    not (redis_server() and shutil.which("openssl")), reason="redis-server or openssl not installed"
)

PASSWORD = "tls-secret"


def make_certificates(folder: Path) -> None:
    """A CA of the test's own, and a certificate for 127.0.0.1 that it signed."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    new_key = ["-newkey", "rsa:2048", "-nodes"]
    openssl("req", "-x509", *new_key, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=pbx test CA")
    openssl("req", *new_key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    sign = ["-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.cnf"]
    openssl("x509", "-req", "-in", "server.csr", *sign, "-out", "server.crt")


@pytest.fixture
def tls_redis(tmp_path: Path) -> Any:
    make_certificates(tmp_path)
    port = free_port()
    args = [redis_server() or "redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"]
    args += ["--tls-cert-file", str(tmp_path / "server.crt"), "--tls-key-file", str(tmp_path / "server.key")]
    args += ["--tls-ca-cert-file", str(tmp_path / "ca.crt"), "--tls-auth-clients", "no"]
    args += ["--requirepass", PASSWORD, "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    server = Process(port, args, tmp_path / "redis.log")
    server.start()
    yield f"rediss://127.0.0.1:{port}/0", tmp_path / "ca.crt"
    server.stop()


async def test_rediss_url_with_its_ca_and_the_password_carries_the_bus(tls_redis: Any, prefix: str) -> None:
    url, ca = tls_redis
    settings = BusSettings(redis_url=f"{url}?ssl_ca_certs={ca}", redis_password=PASSWORD, pbx_prefix=prefix)
    bus = Bus(settings)
    for _ in range(100):  # the server may still be starting
        try:
            await bus.redis.ping()
            break
        except redis.ConnectionError:
            await asyncio.sleep(0.05)
    entry_id = await bus.publish("events", {"Event": "FullyBooted"}, type="event")
    ((read_id, fields),) = await bus.redis.xrange(bus.key("events"))
    assert read_id == entry_id and fields["Event"] == "FullyBooted"
    await Status(bus, "ami_gateway").set(ready=1)
    await bus.close()
    assert await asyncio.to_thread(check, settings, "ami_gateway", 30) == (True, "ready")


async def test_without_the_ca_or_the_password_the_connection_is_refused(tls_redis: Any, prefix: str) -> None:
    url, ca = tls_redis
    for settings, error in (
        (BusSettings(redis_url=url, redis_password=PASSWORD), "certificate verify failed"),
        (BusSettings(redis_url=f"{url}?ssl_ca_certs={ca}"), "authenticat"),
        (BusSettings(redis_url=f"{url}?ssl_ca_certs={ca}", redis_password="wrong"), "invalid"),
    ):
        client = connect_redis(settings)
        with pytest.raises(redis.RedisError) as caught:
            for _ in range(100):
                try:
                    await client.ping()
                except redis.ConnectionError as exc:
                    if "refused" not in str(exc) and "Connect call failed" not in str(exc):
                        raise
                    await asyncio.sleep(0.05)
        assert error in str(caught.value).lower(), caught.value
        await close_redis(client)
