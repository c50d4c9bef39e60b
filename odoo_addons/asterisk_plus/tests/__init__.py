from . import test_asterisk_plus, test_bus_messages, test_console_ban_call
