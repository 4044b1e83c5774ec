"""Clinical rules over stored readings: thresholds (and, later, trends and gaps) -> alert episodes."""
