"""Care teams receive alerts too: the on-call roster and staff alerts for urgent tasks (issue 15 item 8)."""
