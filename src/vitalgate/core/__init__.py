"""The kernel every VitalGate process shares: settings, logging, MQTT client, clock, backoff."""
