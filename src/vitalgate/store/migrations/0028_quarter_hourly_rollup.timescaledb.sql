-- Nothing to do: readings_quarter_hourly is the real-time continuous aggregate of 0011.
SELECT 1;
