"""Device profiles (DIS, Glucose, Blood Pressure, Current Time) written against the GattClient protocol."""

from vitalgate.devices.profiles.bp import BpSyncResult, sync_blood_pressure
from vitalgate.devices.profiles.cts import read_current_time, write_current_time
from vitalgate.devices.profiles.dis import DeviceInformation, read_device_information
from vitalgate.devices.profiles.glucose import GlucoseRecord, GlucoseSyncResult, sync_glucose

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
