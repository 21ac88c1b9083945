"""Minimal `dynamixel_sdk` package for tests: OUR OWN code, standing in for the parts of ROBOTIS
DynamixelSDK that are not available here (its robotis_def.py, port_handler.py and package
__init__), so that the vendor's UNMODIFIED protocol2_packet_handler.py, kept outside this repository
(see /tmp/vendor-sdk/PROVENANCE.txt), can be imported and driven. No vendor code is copied here.

The vendor file is loaded from $ARMBRIDGE_DXL_SDK_FILE (the file itself, or the directory holding
it) or else from $ARMBRIDGE_VENDOR_SDK/dynamixel_sdk/protocol2_packet_handler.py, as the submodule
`dynamixel_sdk.protocol2_packet_handler`, so its `from .robotis_def import *` resolves to ours.
"""
import importlib.util
import os
import sys

from .port_handler import PortHandler
from .robotis_def import *  # noqa: F401,F403 (re-exported, as the SDK's package does)

VENDOR_FILE_NAME = "protocol2_packet_handler.py"


def vendor_file():
    explicit = os.environ.get("ARMBRIDGE_DXL_SDK_FILE")
    if explicit:
        return os.path.join(explicit, VENDOR_FILE_NAME) if os.path.isdir(explicit) else explicit
    root = os.environ.get("ARMBRIDGE_VENDOR_SDK")
    if not root:
        raise ImportError(
            "dynamixel_sdk shim: set ARMBRIDGE_DXL_SDK_FILE or ARMBRIDGE_VENDOR_SDK to locate the vendor's "
            + VENDOR_FILE_NAME
        )
    return os.path.join(root, "dynamixel_sdk", VENDOR_FILE_NAME)


def _load_vendor_module():
    path = vendor_file()
    if not os.path.isfile(path):
        raise ImportError("dynamixel_sdk shim: vendor file not found: " + path)
    name = __name__ + ".protocol2_packet_handler"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


protocol2_packet_handler = _load_vendor_module()
Protocol2PacketHandler = protocol2_packet_handler.Protocol2PacketHandler


def PacketHandler(protocol_version):
    """Protocol 2.0 only: the vendor's Protocol 1.0 handler is not available here."""
    if float(protocol_version) != 2.0:
        raise NotImplementedError("only Protocol 2.0 is available in this shim")
    return Protocol2PacketHandler()
