#!/usr/bin/env python3
"""Drives a simulated Koch follower bus (ids 1-2 XL430-W250, ids 3-6 XL330-M288, Protocol 2.0 at
1 Mbps) over a real pty through ROBOTIS' unmodified Protocol2PacketHandler (the `dynamixel_sdk`
package from PyPI in the interop venv, or a vendor file loaded by our shim in test/vendor/dxl_shim
on PYTHONPATH), and prints one JSON object with
everything it saw. It asserts nothing itself: test/vendor/vendor-sdk.test.ts does.

Usage: dynamixel_sdk_check.py <link> [--deltas d1,d2,d3,d4,d5,d6]
(default: every joint moves +50 counts).
"""
import json
import sys
import time
import traceback

from dynamixel_sdk import COMM_RX_CORRUPT, COMM_RX_TIMEOUT, COMM_SUCCESS, PortHandler, Protocol2PacketHandler

BAUD = 1_000_000
IDS = [1, 2, 3, 4, 5, 6]
ADDR_HOMING_OFFSET = 20  # EEPROM, 4 bytes
ADDR_TORQUE_ENABLE = 64
ADDR_GOAL_POSITION = 116  # 4 bytes
ADDR_PRESENT_POSITION = 132  # 4 bytes, read-only
TOLERANCE = 3
SETTLE_TIMEOUT_S = 5.0


def le32(value):
    return [value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF, (value >> 24) & 0xFF]


def from_le32(data):
    v = data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)
    return v - (1 << 32) if v & 0x80000000 else v


class Retrier:
    """Retries an SDK call whose status packet did not arrive (whole, COMM_RX_CORRUPT; or at all,
    COMM_RX_TIMEOUT) within the SDK's timeout (about 34 ms: 2 x 16 ms latency timer + 2 ms). Over
    a pty on a loaded machine a reply occasionally takes longer than that; a late reply left in the
    input buffer could be taken as the answer to the next request, so before retrying we wait and
    drop stale input. Every such retry is recorded and reported; a servo that never answers still
    fails after the last attempt."""

    def __init__(self, port, attempts=3):
        self.port = port
        self.attempts = attempts
        self.retries = []

    def __call__(self, what, fn, comm_index):
        for _ in range(self.attempts):
            res = fn()
            comm = res[comm_index] if isinstance(res, tuple) else res
            if comm not in (COMM_RX_TIMEOUT, COMM_RX_CORRUPT):
                return res
            self.retries.append([what, comm])
            time.sleep(0.1)
            self.port.ser.reset_input_buffer()
        return res


def sync_read_positions(port, ph):
    """Sync Read (0x82) with the vendor's own functions: syncReadTx, then one readRx per id, in the
    order the ids were listed (what the SDK's GroupSyncRead does)."""
    comm = ph.syncReadTx(port, ADDR_PRESENT_POSITION, 4, IDS, len(IDS), False)
    values, errors, comms = {}, {}, {}
    if comm != COMM_SUCCESS:
        return comm, values, errors, comms
    for i in IDS:
        data, rcomm, err = ph.readRx(port, i, 4)
        comms[str(i)] = rcomm
        errors[str(i)] = err
        if rcomm != COMM_SUCCESS:
            return rcomm, values, errors, comms
        values[str(i)] = from_le32(data)
    return COMM_SUCCESS, values, errors, comms


def run(link, deltas):
    out = {"sdk": "dynamixel_sdk (vendor protocol2_packet_handler.py + our shim)", "link": link, "baud": BAUD,
           "comm_success": COMM_SUCCESS}
    port = PortHandler(link)
    ph = Protocol2PacketHandler()
    out["open"] = bool(port.openPort())
    out["set_baud"] = bool(port.setBaudRate(BAUD))
    if not out["set_baud"]:
        return out
    call = Retrier(port)
    out["retries"] = call.retries
    try:
        # 1. Ping each id: the model number comes from the Ping status itself.
        out["ping"] = {}
        for i in IDS:
            model, comm, err = call(f"ping {i}", lambda: ph.ping(port, i), 1)
            out["ping"][str(i)] = {"model": model, "comm": comm, "error": err}

        # 2. Individual read of Present_Position (132, 4 bytes).
        out["read_present"] = {}
        for i in IDS:
            value, comm, err = call(f"read {i}", lambda: ph.read4ByteTxRx(port, i, ADDR_PRESENT_POSITION), 1)
            out["read_present"][str(i)] = {"value": value, "comm": comm, "error": err}

        # 3. Torque on.
        out["torque_enable"] = {}
        for i in IDS:
            comm, err = call(f"torque on {i}", lambda: ph.write1ByteTxRx(port, i, ADDR_TORQUE_ENABLE, 1), 0)
            out["torque_enable"][str(i)] = {"comm": comm, "error": err}

        # 4. Sync read of Present_Position, ids 1-6.
        comm, values, errors, comms = call("sync read", lambda: sync_read_positions(port, ph), 0)
        out["sync_read"] = {"comm": comm, "values": values, "errors": errors, "rx_comm": comms}
        start = {i: values[str(i)] for i in IDS}

        # 5. Sync write of Goal_Position (start + delta), no reply expected; then poll until reached.
        goals = {i: start[i] + deltas[n] for n, i in enumerate(IDS)}
        param = []
        for i in IDS:
            param += [i] + le32(goals[i])
        comm = ph.syncWriteTxOnly(port, ADDR_GOAL_POSITION, 4, param, len(param))
        out["sync_write"] = {"comm": comm, "goals": {str(i): goals[i] for i in IDS}}

        t0 = time.monotonic()
        polls = 0
        failed_polls = 0
        last = {}
        reached = False
        while time.monotonic() - t0 < SETTLE_TIMEOUT_S:
            comm, values, errors, _ = sync_read_positions(port, ph)
            polls += 1
            if comm == COMM_SUCCESS and len(values) == len(IDS):
                last = values
                if all(abs(values[str(i)] - goals[i]) <= TOLERANCE for i in IDS):
                    reached = True
                    break
            else:
                failed_polls += 1
                time.sleep(0.1)
                port.ser.reset_input_buffer()
            time.sleep(0.01)
        out["settle"] = {
            "reached": reached,
            "ms": round((time.monotonic() - t0) * 1000),
            "polls": polls,
            "failed_polls": failed_polls,
            "final": last,
            "tolerance": TOLERANCE,
        }

        # 6. Broadcast ping: every servo answers in turn within the SDK's fixed window.
        data_list, comm = call("broadcast ping", lambda: ph.broadcastPing(port), 1)
        out["broadcast_ping"] = {
            "comm": comm,
            "found": {str(k): {"model": v[0], "firmware": v[1]} for k, v in sorted(data_list.items())},
        }

        # 7. Write to a read-only address (Present_Position, 132): Access Error (7).
        before, _, _ = call("read before read-only write", lambda: ph.read4ByteTxRx(port, 1, ADDR_PRESENT_POSITION), 1)
        bogus = (before + 1000) % 4096
        comm, err = call("read-only write", lambda: ph.write4ByteTxRx(port, 1, ADDR_PRESENT_POSITION, bogus), 0)
        time.sleep(0.02)
        after, _, _ = call("read after read-only write", lambda: ph.read4ByteTxRx(port, 1, ADDR_PRESENT_POSITION), 1)
        out["read_only_write"] = {"id": 1, "address": ADDR_PRESENT_POSITION, "value_written": bogus, "comm": comm,
                                  "error": err, "before": before, "after": after}

        # 8. Write to EEPROM (Homing_Offset, 20) while torque is on: Access Error (7), value unchanged.
        torque, tcomm, _ = call("read torque", lambda: ph.read1ByteTxRx(port, 1, ADDR_TORQUE_ENABLE), 1)
        home_before, _, _ = call("read homing offset", lambda: ph.read4ByteTxRx(port, 1, ADDR_HOMING_OFFSET), 1)
        comm, err = call("eeprom write", lambda: ph.write4ByteTxRx(port, 1, ADDR_HOMING_OFFSET, 100), 0)
        home_after, _, _ = call("read homing offset again", lambda: ph.read4ByteTxRx(port, 1, ADDR_HOMING_OFFSET), 1)
        out["eeprom_write_torque_on"] = {"id": 1, "address": ADDR_HOMING_OFFSET, "value_written": 100,
                                         "torque_enable": torque, "torque_read_comm": tcomm, "comm": comm,
                                         "error": err, "before": home_before, "after": home_after}
    finally:
        port.closePort()
    return out


def main():
    if len(sys.argv) < 2:
        print("usage: dynamixel_sdk_check.py <link> [--deltas d1,...,d6]", file=sys.stderr)
        return 2
    link = sys.argv[1]
    deltas = [50] * len(IDS)
    if "--deltas" in sys.argv:
        deltas = [int(x) for x in sys.argv[sys.argv.index("--deltas") + 1].split(",")]
    try:
        out = run(link, deltas)
    except Exception as e:  # report, do not hide: the test prints this
        print(json.dumps({"sdk": "dynamixel_sdk", "exception": repr(e), "traceback": traceback.format_exc()}))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
