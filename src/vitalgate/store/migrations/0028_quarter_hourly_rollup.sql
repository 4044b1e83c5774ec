-- readings_quarter_hourly on both paths: per patient, kind and 15-minute UTC bucket, the same sums
-- and extremes as readings_daily. Every zone in use is offset from UTC by a multiple of 15
-- minutes, so local hours (and 30-minute, 3- and 6-hour chart buckets) are exact unions of these
-- buckets, and a zone change needs no rebuild. Charts of a week to three months read it
-- (store/timeseries.py) instead of every reading. TimescaleDB already has it (a continuous
-- aggregate, 0011); the native variant adds a table kept by a statement trigger like readings_daily.
SELECT 1;
