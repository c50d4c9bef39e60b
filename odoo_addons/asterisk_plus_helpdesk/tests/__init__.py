from . import test_helpdesk_calls, test_helpdesk_click_to_call, test_helpdesk_popup
