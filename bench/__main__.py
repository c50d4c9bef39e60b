"""`make bench`: every benchmark in turn; each prints its own figures line. With `ODOO_URL` set, also the
real-Odoo benchmark (bench/odoo_real.py)."""

from __future__ import annotations

import importlib
import os
import sys

from peers.redis_topology import sentinel_available

BENCHES = ["bench.ingest", "bench.guard", "bench.e2e", "bench.phonebook", "bench.recordings"]
if sentinel_available():  # a master, a replica and three Sentinels of the bench's own
    BENCHES.append("bench.failover")
if os.environ.get("ODOO_URL"):
    BENCHES.append("bench.odoo_real")


def main() -> int:
    for name in BENCHES:
        print(f"== {name}", flush=True)
        importlib.import_module(name).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
