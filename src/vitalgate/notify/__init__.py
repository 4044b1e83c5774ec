"""Reaching patients, caregivers and staff, and hearing back (issue 15). See README.md."""
