"""`python -m peers.odoo_peer --port 8069`: an Odoo stand-in that logs what the bridge delivers."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import IO

from .server import OdooPeer


async def serve(args: argparse.Namespace, record: IO[str] | None) -> None:
    peer = await OdooPeer(
        args.host,
        args.port,
        db=args.db,
        latency=args.latency_ms / 1000,
        verbose=not args.quiet,
        record=record,
        keep_alive=not args.close,
        record_keys=tuple(k for k in args.record_keys.split(",") if k),
        keep_audio=False,
    ).start()
    logging.getLogger("odoo_peer").info("Odoo JSON-RPC peer on %s (db %s, user asterisk1)", peer.url, args.db)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--db", default="demo")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every call, like a real Odoo")
    parser.add_argument("--record", help="append one JSON line per received item to this file")
    parser.add_argument("--record-keys", default="", help="item keys to record, comma-separated")
    parser.add_argument(
        "--close", action="store_true", help="close the connection after every answer, as Odoo's server does"
    )
    parser.add_argument("--quiet", action="store_true", help="no line per call")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Kept open while the server runs.
    record = open(args.record, "a", encoding="utf-8") if args.record else None
    try:
        asyncio.run(serve(args, record))
    except KeyboardInterrupt:
        pass
    finally:
        if record is not None:
            record.close()


if __name__ == "__main__":
    main()
