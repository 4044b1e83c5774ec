"""GattClient implementations: bumble (virtual LocalLink / raw HCI) and bleak (OS Bluetooth stack)."""

from devices.adapters.bleak_client import BleakGattClient, bleak_scan, classify_bleak_error
from devices.adapters.bumble_client import BumbleGattClient

__all__ = ["BleakGattClient", "BumbleGattClient", "bleak_scan", "classify_bleak_error"]
