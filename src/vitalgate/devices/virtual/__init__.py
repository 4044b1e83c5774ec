"""In-process virtual BLE medical devices on a bumble LocalLink."""

from vitalgate.devices.virtual.bp_cuff import StoredBpReading, VirtualBpCuff
from vitalgate.devices.virtual.glucose_meter import StoredGlucoseRecord, VirtualGlucoseMeter
from vitalgate.devices.virtual.radio import Advertisement, VirtualPeripheral, VirtualRadio

__all__ = [
    "Advertisement",
    "StoredBpReading",
    "StoredGlucoseRecord",
    "VirtualBpCuff",
    "VirtualGlucoseMeter",
    "VirtualPeripheral",
    "VirtualRadio",
]
