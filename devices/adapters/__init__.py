"""GattClient implementations (bumble for virtual/HCI radios)."""

from devices.adapters.bumble_client import BumbleGattClient

__all__ = ["BumbleGattClient"]
