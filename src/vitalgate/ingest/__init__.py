"""MQTT consumer: validate, dead-letter bad input, batch-write readings idempotently, ack after commit."""
