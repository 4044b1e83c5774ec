"""GattClient implementations: bumble (virtual LocalLink / raw HCI) and bleak (OS Bluetooth stack).

Import the module you need (`adapters.bleak_client`, `adapters.bumble_client`): a hub on real
hardware uses bleak only and should not pay for bumble (~29 MB RSS), and the virtual devices do
not need bleak.
"""
