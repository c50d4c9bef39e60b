"""`python -m peers.odoo_peer --port 8069`: an Odoo stand-in that logs what the bridge delivers."""

from __future__ import annotations

import argparse
import asyncio
import logging

from .server import OdooPeer


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--db", default="demo")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    peer = await OdooPeer(args.host, args.port, db=args.db, verbose=True).start()
    logging.getLogger("odoo_peer").info("Odoo JSON-RPC peer on %s (db %s, user asterisk1)", peer.url, args.db)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
