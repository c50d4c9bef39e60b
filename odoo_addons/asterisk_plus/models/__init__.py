from . import ban, ban_wizard, bus, call, compat17, conf, console_command, event_map, res_partner, server
