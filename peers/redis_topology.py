"""Local Redis topologies as real processes, for tests and benches: a master with a replica watched by three
Sentinels, and a Redis Cluster of three masters. Loopback only, no persistence, each in its own directory."""

from __future__ import annotations

import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import redis

from .local_redis import free_port, redis_server, server_args, wait_until


def sentinel_available() -> bool:
    """Sentinel is a mode of redis-server itself (Debian's redis-sentinel package is the same binary)."""
    return redis_server() is not None


def cluster_available() -> bool:
    return redis_server() is not None and shutil.which("redis-cli") is not None


@dataclass
class Process:
    port: int
    args: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """kill -9: no shutdown, no last replication, no goodbye to the Sentinels."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _server_args(port: int, workdir: Path, password: str) -> list[str]:
    args = server_args(port, workdir)
    # A replica syncs at once rather than after the 5 s Redis waits for more replicas to join a sync.
    args += ["--repl-diskless-sync-delay", "0"]
    if password:
        args += ["--requirepass", password, "--masterauth", password]
    return args


@dataclass
class SentinelTopology:
    """A master, one replica and three Sentinels (quorum 2) that fail over one second after losing the master.

    `password` protects the master and the replica, `sentinel_password` the Sentinels."""

    workdir: Path
    name: str = "pbxha"
    password: str = "bus-secret"
    sentinel_password: str = "sentinel-secret"
    down_after_ms: int = 1000
    servers: list[Process] = field(default_factory=list)
    sentinels: list[Process] = field(default_factory=list)

    def start(self) -> SentinelTopology:
        master_port, replica_port = free_port(), free_port()
        replica_of = ["--replicaof", "127.0.0.1", str(master_port)]
        for port, extra in ((master_port, []), (replica_port, replica_of)):
            data = self.workdir / f"redis-{port}"
            data.mkdir(parents=True)
            server = Process(port, _server_args(port, data, self.password) + extra, data / "log")
            server.start()
            self.servers.append(server)
        # The replica in sync first: a new Sentinel then learns of it from its first INFO, not ten seconds on.
        wait_until(
            lambda: self.client(replica_port).info("replication").get("master_link_status") == "up",
            "the replica in sync",
        )
        for _ in range(3):
            port = free_port()
            data = self.workdir / f"sentinel-{port}"
            data.mkdir(parents=True)
            conf = data / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {data}\n"
                f"sentinel monitor {self.name} 127.0.0.1 {master_port} 2\n"
                f"sentinel auth-pass {self.name} {self.password}\n"
                f"sentinel down-after-milliseconds {self.name} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.name} 10000\n"
                f"sentinel parallel-syncs {self.name} 1\n"
                f"requirepass {self.sentinel_password}\nsentinel sentinel-pass {self.sentinel_password}\n"
            )
            args = [redis_server() or "redis-server", str(conf), "--sentinel"]
            sentinel = Process(port, args, data / "log")
            sentinel.start()
            self.sentinels.append(sentinel)
        self.wait_ready()
        return self

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, password=self.password, socket_timeout=2, decode_responses=True)

    def sentinel_client(self, port: int) -> redis.Redis:
        password = self.sentinel_password
        return redis.Redis(port=port, password=password, socket_timeout=2, decode_responses=True)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """The replica in sync, and every Sentinel knowing the master, the replica and the other two."""
        master = self.master_port()

        def ready() -> bool:
            if self.client(self.replica_port()).info("replication").get("master_link_status") != "up":
                return False
            for sentinel in self.sentinels:
                client = self.sentinel_client(sentinel.port)
                state = cast(dict[str, Any], client.sentinel_master(self.name))
                if state["port"] != master or state["num-other-sentinels"] < 2 or state["num-slaves"] < 1:
                    return False
            return True

        wait_until(ready, "the replica and the Sentinels", timeout)

    @property
    def sentinel_list(self) -> str:
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def env(self) -> dict[str, str]:
        """What a service is given to reach the bus through the Sentinels."""
        return {
            "REDIS_URL": "redis://127.0.0.1/0",
            "REDIS_SENTINELS": self.sentinel_list,
            "REDIS_MASTER_NAME": self.name,
            "REDIS_PASSWORD": self.password,
            "REDIS_SENTINEL_PASSWORD": self.sentinel_password,
        }

    def master_port(self) -> int:
        """The master as the Sentinels say now."""
        for sentinel in self.sentinels:
            try:
                address = self.sentinel_client(sentinel.port).sentinel_get_master_addr_by_name(self.name)
            except redis.RedisError:
                continue
            if isinstance(address, tuple):  # None while this Sentinel knows no master
                return int(address[1])
        raise RuntimeError("no Sentinel answers")

    def replica_port(self) -> int:
        master = self.master_port()
        return next(s.port for s in self.servers if s.port != master)

    def server(self, port: int) -> Process:
        return next(s for s in self.servers if s.port == port)

    def kill_master(self) -> int:
        port = self.master_port()
        self.server(port).kill()
        return port

    def wait_promoted(self, old_master: int, timeout: float = 30.0) -> int:
        """Until the Sentinels name another master and it accepts writes; its port."""

        def promoted() -> bool:
            port = self.master_port()
            return port != old_master and self.client(port).info("replication")["role"] == "master"

        wait_until(promoted, "a replica promoted to master", timeout)
        return self.master_port()

    def stop(self) -> None:
        for process in self.sentinels + self.servers:
            process.stop()


@dataclass
class ClusterTopology:
    """A Redis Cluster of `masters` masters and no replicas, slots spread evenly by redis-cli."""

    workdir: Path
    masters: int = 3
    nodes: list[Process] = field(default_factory=list)

    def start(self) -> ClusterTopology:
        for _ in range(self.masters):
            port = free_port(cluster_bus=True)
            data = self.workdir / f"node-{port}"
            data.mkdir(parents=True)
            args = [*_server_args(port, data, ""), "--cluster-enabled", "yes"]
            args += ["--cluster-config-file", str(data / "nodes.conf"), "--cluster-node-timeout", "5000"]
            node = Process(port, args, data / "log")
            node.start()
            self.nodes.append(node)
        for node in self.nodes:
            wait_until(redis.Redis(port=node.port).ping, f"cluster node {node.port}")
        create = [shutil.which("redis-cli") or "redis-cli", "--cluster", "create"]
        create += [f"127.0.0.1:{n.port}" for n in self.nodes] + ["--cluster-replicas", "0", "--cluster-yes"]
        done = subprocess.run(create, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {done.stdout}{done.stderr}")

        def ok() -> bool:
            return all(
                redis.Redis(port=n.port, decode_responses=True).cluster("info").get("cluster_state") == "ok"
                for n in self.nodes
            )

        wait_until(ok, "cluster_state:ok on every node")
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def env(self) -> dict[str, str]:
        return {"REDIS_URL": self.url, "REDIS_CLUSTER": "yes"}

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
