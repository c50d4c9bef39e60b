"""`python -m services.ami_gateway`: AMI <-> bus."""

from services.bus import serve

from .config import GatewaySettings
from .gateway import Gateway

if __name__ == "__main__":
    serve("ami_gateway", GatewaySettings, Gateway)
