from . import (
    test_asterisk_plus,
    test_bus_messages,
    test_calls,
    test_click_to_call,
    test_console_ban_call,
    test_lookup,
    test_phonebook,
    test_popup,
    test_security,
)
