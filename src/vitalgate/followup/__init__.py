"""Follow-up: every alert becomes a task for the patient's care team."""
