"""VitalGate: home glucose and blood-pressure monitoring for out-of-hospital care teams."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vitalgate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
