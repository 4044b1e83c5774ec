"""Helpers shared by tests (no tests here, so no module is named test_*)."""
