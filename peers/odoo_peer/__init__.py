"""An Odoo JSON-RPC peer for tests, benchmarks and `make run`."""

from .server import DEFAULT_MAP, OdooPeer

__all__ = ["DEFAULT_MAP", "OdooPeer"]
