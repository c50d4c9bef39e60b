"""The web Asterisk CLI: a page and a WebSocket; commands go over the bus to the gateway as AMI `Command`."""
