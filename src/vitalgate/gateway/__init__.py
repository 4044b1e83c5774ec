"""The edge hub: pairs devices, syncs new records, and forwards them over MQTT without losing any."""
