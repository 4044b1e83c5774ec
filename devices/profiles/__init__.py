"""Device profiles (DIS, Glucose, Blood Pressure, Current Time) written against the GattClient protocol."""

from devices.profiles.bp import BpSyncResult, sync_blood_pressure
from devices.profiles.cts import read_current_time, write_current_time
from devices.profiles.dis import DeviceInformation, read_device_information
from devices.profiles.glucose import GlucoseRecord, GlucoseSyncResult, sync_glucose

__all__ = [
    "BpSyncResult",
    "DeviceInformation",
    "GlucoseRecord",
    "GlucoseSyncResult",
    "read_current_time",
    "read_device_information",
    "sync_blood_pressure",
    "sync_glucose",
    "write_current_time",
]
