"""Clinical rules over stored readings (threshold, consecutive, trend, forecast, missing data) -> alert episodes."""
