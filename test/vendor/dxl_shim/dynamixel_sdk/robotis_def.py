"""Protocol constants for the vendor's protocol2_packet_handler.py (`from .robotis_def import *`).

Our own code, standing in for the part of ROBOTIS DynamixelSDK that is not available here (see
../__init__.py). Written from the DYNAMIXEL Protocol 2.0 facts in PROTOCOLS.md (A1-A3, A6) and the
names the vendor module references; the COMM_* result codes are the SDK's API values, so results
read the same as with the full SDK.
"""

BROADCAST_ID = 0xFE  # 254: every servo executes; only Ping / Sync Read / Bulk Read are answered
MAX_ID = 0xFC  # 252: highest servo id

# Instructions (A2)
INST_PING = 0x01
INST_READ = 0x02
INST_WRITE = 0x03
INST_REG_WRITE = 0x04
INST_ACTION = 0x05
INST_FACTORY_RESET = 0x06
INST_REBOOT = 0x08
INST_CLEAR = 0x10
INST_STATUS = 0x55
INST_SYNC_READ = 0x82
INST_SYNC_WRITE = 0x83
INST_FAST_SYNC_READ = 0x8A
INST_BULK_READ = 0x92
INST_BULK_WRITE = 0x93
INST_FAST_BULK_READ = 0x9A

# Communication results (SDK API values)
COMM_SUCCESS = 0  # request sent, status received
COMM_PORT_BUSY = -1000  # the port is in use by another request
COMM_TX_FAIL = -1001  # the instruction packet could not be written
COMM_RX_FAIL = -1002  # no status packet could be received
COMM_TX_ERROR = -2000  # the instruction packet is invalid
COMM_RX_WAITING = -3000  # a status packet is still being received
COMM_RX_TIMEOUT = -3001  # no status packet arrived in time
COMM_RX_CORRUPT = -3002  # a status packet arrived damaged or incomplete
COMM_NOT_AVAILABLE = -9000  # the protocol has no such operation

# Status ERROR byte (A3): bits 0-6 carry an error number, bit 7 the hardware Alert
ERRNUM_RESULT_FAIL = 1
ERRNUM_INSTRUCTION = 2
ERRNUM_CRC = 3
ERRNUM_DATA_RANGE = 4
ERRNUM_DATA_LENGTH = 5
ERRNUM_DATA_LIMIT = 6
ERRNUM_ACCESS = 7
ERRBIT_ALERT = 0x80


# Little-endian word helpers (all Protocol 2.0 multi-byte fields are little-endian, A1)
def DXL_MAKEWORD(a, b):
    return (a & 0xFF) | ((b & 0xFF) << 8)


def DXL_MAKEDWORD(a, b):
    return (a & 0xFFFF) | ((b & 0xFFFF) << 16)


def DXL_LOWORD(value):
    return value & 0xFFFF


def DXL_HIWORD(value):
    return (value >> 16) & 0xFFFF


def DXL_LOBYTE(value):
    return value & 0xFF


def DXL_HIBYTE(value):
    return (value >> 8) & 0xFF
