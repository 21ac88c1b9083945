#!/usr/bin/env python3
"""Drives a simulated SO-101 follower bus (six STS3215, ids 1-6) through the unmodified Feetech
Python SDK (`scservo_sdk`, the PyPI feetech-servo-sdk API, found via PYTHONPATH) over a real pty,
the way LeRobot would, and prints one JSON object with everything it saw. It asserts nothing
itself: test/vendor/vendor-sdk.test.ts does.

Usage: feetech_sdk_check.py <link> [--deltas d1,d2,d3,d4,d5,d6]
(default: every joint moves +50 counts).
"""
import json
import sys
import time
import traceback

from scservo_sdk import COMM_RX_CORRUPT, COMM_RX_TIMEOUT, COMM_SUCCESS, GroupSyncRead, GroupSyncWrite, PacketHandler, PortHandler

BAUD = 1_000_000
IDS = [1, 2, 3, 4, 5, 6]
ADDR_TORQUE_ENABLE = 40
ADDR_GOAL_POSITION = 42
ADDR_PRESENT_POSITION = 56
TOLERANCE = 3
SETTLE_TIMEOUT_S = 5.0

# LeRobot's configure_motors (PROTOCOLS.md B7/B8), preceded by its disable_torque's Lock write.
CONFIGURE_WRITES = [
    ("Lock", 55, 0),
    ("Return_Delay_Time", 7, 0),
    ("Maximum_Acceleration", 85, 254),
    ("Acceleration", 41, 254),
]


def lo(w):
    return w & 0xFF


def hi(w):
    return (w >> 8) & 0xFF


class Retrier:
    """Retries an SDK call whose status packet did not arrive (whole, COMM_RX_CORRUPT; or at all,
    COMM_RX_TIMEOUT) within the SDK's own timeout (about 34 ms: 2 x 16 ms latency timer + 2 ms).
    Over a pty on a loaded machine a reply occasionally takes longer than that; a late reply left in
    the input buffer would then be taken as the answer to the next request (PROTOCOLS.md B7), so
    before retrying we wait and drop stale input, as a careful client would (LeRobot retries too).
    Every such retry is recorded and reported; a servo that never answers still fails after the
    last attempt."""

    def __init__(self, port, attempts=3):
        self.port = port
        self.attempts = attempts
        self.timeouts = []

    def __call__(self, what, fn, comm_index):
        for _ in range(self.attempts):
            res = fn()
            comm = res[comm_index] if isinstance(res, tuple) else res
            if comm not in (COMM_RX_TIMEOUT, COMM_RX_CORRUPT):
                return res
            self.timeouts.append([what, comm])
            time.sleep(0.1)
            self.port.ser.reset_input_buffer()
        return res


def sync_read_positions(port, ph):
    reader = GroupSyncRead(port, ph, ADDR_PRESENT_POSITION, 2)
    for i in IDS:
        reader.addParam(i)
    comm = reader.txRxPacket()
    available = {str(i): bool(reader.isAvailable(i, ADDR_PRESENT_POSITION, 2)) for i in IDS}
    values = {str(i): reader.getData(i, ADDR_PRESENT_POSITION, 2) for i in IDS}
    return comm, available, values


def run(link, deltas):
    out = {"sdk": "scservo_sdk", "link": link, "baud": BAUD, "comm_success": COMM_SUCCESS}
    port = PortHandler(link)
    ph = PacketHandler(0)  # 0 = STS/SMS little-endian
    out["open"] = bool(port.openPort())
    out["set_baud"] = bool(port.setBaudRate(BAUD))
    if not out["open"]:
        return out
    call = Retrier(port)
    out["retries"] = call.timeouts
    try:
        # 1. Ping: the SDK sends Ping, then reads Model_Number (addr 3, 2 bytes).
        out["ping"] = {}
        for i in IDS:
            model, comm, err = call(f"ping {i}", lambda: ph.ping(port, i), 1)
            out["ping"][str(i)] = {"model": model, "comm": comm, "error": err}

        # 2. Individual read of Present_Position.
        out["read_present"] = {}
        for i in IDS:
            value, comm, err = call(f"read {i}", lambda: ph.read2ByteTxRx(port, i, ADDR_PRESENT_POSITION), 1)
            out["read_present"][str(i)] = {"value": value, "comm": comm, "error": err}

        # 3. Sync read of Present_Position, ids 1-6.
        comm, available, values = call("sync read", lambda: sync_read_positions(port, ph), 0)
        out["sync_read"] = {"comm": comm, "available": available, "values": values}
        start = {i: values[str(i)] for i in IDS}

        # 4. Torque on, then one sync write of Goal_Position (start + delta), then poll.
        out["torque_enable"] = {}
        for i in IDS:
            comm, err = call(f"torque on {i}", lambda: ph.write1ByteTxRx(port, i, ADDR_TORQUE_ENABLE, 1), 0)
            out["torque_enable"][str(i)] = {"comm": comm, "error": err}
        goals = {i: (start[i] + deltas[n]) % 4096 for n, i in enumerate(IDS)}
        writer = GroupSyncWrite(port, ph, ADDR_GOAL_POSITION, 2)
        add_ok = all(writer.addParam(i, [lo(goals[i]), hi(goals[i])]) for i in IDS)
        comm = writer.txPacket()
        out["sync_write"] = {"comm": comm, "add_param_ok": add_ok, "goals": {str(i): goals[i] for i in IDS}}

        t0 = time.monotonic()
        polls = 0
        failed_polls = 0
        last = {}
        reached = False
        while time.monotonic() - t0 < SETTLE_TIMEOUT_S:
            comm, available, values = sync_read_positions(port, ph)
            polls += 1
            if comm == COMM_SUCCESS and all(available.values()):
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

        # 5. Write to a read-only address (Present_Position, 56). Feetech documents no error code
        #    for this; the simulator acknowledges with ERROR 0 and ignores the write.
        before, comm_b, err_b = call("read before read-only write", lambda: ph.read2ByteTxRx(port, 1, ADDR_PRESENT_POSITION), 1)
        bogus = (before + 1000) % 4096
        comm, err = call("read-only write", lambda: ph.write2ByteTxRx(port, 1, ADDR_PRESENT_POSITION, bogus), 0)
        time.sleep(0.02)
        after, comm_a, err_a = call("read after read-only write", lambda: ph.read2ByteTxRx(port, 1, ADDR_PRESENT_POSITION), 1)
        out["read_only_write"] = {
            "id": 1,
            "address": ADDR_PRESENT_POSITION,
            "value_written": bogus,
            "comm": comm,
            "error": err,
            "before": before,
            "after": after,
            "read_comm": [comm_b, comm_a],
            "read_error": [err_b, err_a],
        }

        # 6. LeRobot's configure writes (inside torque_disabled(): Torque_Enable = 0 first), each
        #    read back.
        out["torque_disable"] = {}
        for i in IDS:
            comm, err = call(f"torque off {i}", lambda: ph.write1ByteTxRx(port, i, ADDR_TORQUE_ENABLE, 0), 0)
            out["torque_disable"][str(i)] = {"comm": comm, "error": err}
        out["configure"] = []
        for i in IDS:
            for name, addr, value in CONFIGURE_WRITES:
                comm, err = call(f"write {name} {i}", lambda: ph.write1ByteTxRx(port, i, addr, value), 0)
                readback, rcomm, rerr = call(f"read {name} {i}", lambda: ph.read1ByteTxRx(port, i, addr), 1)
                out["configure"].append({
                    "id": i, "name": name, "address": addr, "value": value, "comm": comm, "error": err,
                    "readback": readback, "readback_comm": rcomm, "readback_error": rerr,
                })
    finally:
        port.closePort()
    return out


def main():
    if len(sys.argv) < 2:
        print("usage: feetech_sdk_check.py <link> [--deltas d1,...,d6]", file=sys.stderr)
        return 2
    link = sys.argv[1]
    deltas = [50] * len(IDS)
    if "--deltas" in sys.argv:
        deltas = [int(x) for x in sys.argv[sys.argv.index("--deltas") + 1].split(",")]
    try:
        out = run(link, deltas)
    except Exception as e:  # report, do not hide: the test prints this
        print(json.dumps({"sdk": "scservo_sdk", "exception": repr(e), "traceback": traceback.format_exc()}))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
