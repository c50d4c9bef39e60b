from . import (
    test_crm_calls,
    test_crm_click_to_call,
    test_crm_lookup,
    test_crm_popup,
    test_missed_call_lead,
    test_popup_browser,
)
