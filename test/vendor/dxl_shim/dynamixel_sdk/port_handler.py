"""A serial port for the vendor's Protocol2PacketHandler, over pyserial.

Our own code, standing in for the part of ROBOTIS DynamixelSDK that is not available here (see
../__init__.py). It implements what protocol2_packet_handler.py calls on a port (clearPort,
getBaudRate, is_using, readPort, writePort, setPacketTimeout, setPacketTimeoutMillis,
isPacketTimeout) plus openPort/closePort/setBaudRate, with the SDK's timing model (PROTOCOLS.md
A6): a request waits `byte time x bytes + 2 x latency timer + 2 ms` for its status packet.
"""
import select
import time

import serial

LATENCY_TIMER_MS = 16  # USB-serial adapter latency timer the SDK's timeouts assume
DEFAULT_BAUDRATE = 57600

# Rates the SDK's PortHandler accepts (PROTOCOLS.md A6); anything else fails to open.
SUPPORTED_BAUDRATES = (
    9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
    1000000, 1152000, 2000000, 2500000, 3000000, 3500000, 4000000,
)


class PortHandler(object):
    def __init__(self, port_name):
        self.port_name = port_name
        self.baudrate = DEFAULT_BAUDRATE
        self.is_open = False
        self.is_using = False
        self.ser = None
        self.tx_time_per_byte = 0.0  # ms
        self.packet_start_time = 0.0  # ms
        self.packet_timeout = 0.0  # ms

    # -- opening ---------------------------------------------------------------------------------
    def openPort(self):
        return self.setBaudRate(self.baudrate)

    def closePort(self):
        if self.ser is not None:
            self.ser.close()
        self.is_open = False

    def setBaudRate(self, baudrate):
        if baudrate not in SUPPORTED_BAUDRATES:
            return False
        self.baudrate = baudrate
        if self.is_open:
            self.closePort()
        self.ser = serial.Serial(port=self.port_name, baudrate=baudrate, bytesize=serial.EIGHTBITS, timeout=0)
        self.ser.reset_input_buffer()
        self.is_open = True
        self.tx_time_per_byte = 10.0 * 1000.0 / baudrate  # 10 bits per byte, in ms
        return True

    def getBaudRate(self):
        return self.baudrate

    def getPortName(self):
        return self.port_name

    # -- I/O -------------------------------------------------------------------------------------
    def clearPort(self):
        # As the SDK: flushes output only; stale input is not discarded.
        self.ser.flush()

    def writePort(self, packet):
        return self.ser.write(bytes(packet))

    def readPort(self, length):
        """Whatever is available, up to `length` bytes, as a list of ints. Never blocks for long:
        the packet handler polls and applies its own timeout. When nothing is there yet, waits up
        to 0.5 ms for input instead of spinning, so the simulator on the other end keeps a CPU."""
        if length <= 0:
            return []
        if self.ser.in_waiting == 0:
            select.select([self.ser.fileno()], [], [], 0.0005)
        return list(self.ser.read(length))

    def getBytesAvailable(self):
        return self.ser.in_waiting

    # -- timeouts (ms) ---------------------------------------------------------------------------
    @staticmethod
    def getCurrentTime():
        return time.monotonic() * 1000.0

    def setPacketTimeout(self, packet_length):
        self.packet_start_time = self.getCurrentTime()
        self.packet_timeout = self.tx_time_per_byte * packet_length + 2.0 * LATENCY_TIMER_MS + 2.0

    def setPacketTimeoutMillis(self, msec):
        self.packet_start_time = self.getCurrentTime()
        self.packet_timeout = msec

    def getTimeSinceStart(self):
        return self.getCurrentTime() - self.packet_start_time

    def isPacketTimeout(self):
        if self.getTimeSinceStart() > self.packet_timeout:
            self.packet_timeout = 0
            return True
        return False
