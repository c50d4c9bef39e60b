# server comes before server_bridge and system_account, which extend it.
from . import (
    ban,
    ban_wizard,
    bus,
    call,
    compat17,
    conf,
    console_command,
    event_map,
    res_partner,
    rights,
    server,
    server_bridge,
    system_account,
)
