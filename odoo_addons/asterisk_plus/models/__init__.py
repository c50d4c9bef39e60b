from . import ban, bus, call, conf, event_map, res_partner, server
