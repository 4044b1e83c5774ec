"""In-process virtual BLE medical devices on a bumble LocalLink."""

from devices.virtual.bp_cuff import StoredBpReading, VirtualBpCuff
from devices.virtual.glucose_meter import StoredGlucoseRecord, VirtualGlucoseMeter
from devices.virtual.radio import Advertisement, VirtualPeripheral, VirtualRadio

__all__ = [
    "Advertisement",
    "StoredBpReading",
    "StoredGlucoseRecord",
    "VirtualBpCuff",
    "VirtualGlucoseMeter",
    "VirtualPeripheral",
    "VirtualRadio",
]
