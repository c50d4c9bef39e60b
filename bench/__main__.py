"""`make bench`: every benchmark in turn; each prints its own figures line."""

from __future__ import annotations

import importlib
import sys

BENCHES = ["bench.ingest", "bench.guard", "bench.e2e", "bench.recordings"]


def main() -> int:
    for name in BENCHES:
        print(f"== {name}", flush=True)
        importlib.import_module(name).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
