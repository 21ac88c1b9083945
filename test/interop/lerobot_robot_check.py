#!/usr/bin/env python3
"""Drives a simulated arm served by `armbridge sim` on a pty with LeRobot's own robot class
(SO101Follower on FeetechMotorsBus, or KochFollower on DynamixelMotorsBus), unmodified, the way
`lerobot-teleoperate` would, and writes one JSON report. It asserts nothing itself:
test/interop/lerobot-robots.test.ts does.

Usage: lerobot_robot_check.py so101|koch <port> <calibration_dir> <report.json> [--hold-ends]

<calibration_dir>/interop.json is the robot's calibration file (LeRobot's format). When the servos
do not hold it, LeRobot asks on stdin whether to write it (the test answers ENTER). With
--hold-ends every joint is also driven to both ends of its calibrated range and held there.
"""
import json
import sys
import time
import traceback
from importlib.metadata import version
from pathlib import Path

CONVERGE_TIMEOUT_S = 8.0
# LeRobot's own retry argument on the reads this script makes itself (LeRobot's robot code passes
# its own, e.g. num_read_retries for observations); its internal handshake and calibration reads
# have none, as on real hardware.
RETRIES = 2
TOLERANCE = 1.0  # LeRobot units: degrees (so101) or -100..100 (koch); 0..100 for the gripper


def main() -> dict:
    kind, port, cal_dir, _out = sys.argv[1:5]
    hold_ends = "--hold-ends" in sys.argv
    if kind == "so101":
        from lerobot.motors.feetech import FeetechMotorsBus as Bus
        from lerobot.robots.so_follower import SO101Follower as Robot, SO101FollowerConfig as Config
    else:
        from lerobot.motors.dynamixel import DynamixelMotorsBus as Bus
        from lerobot.robots.koch_follower import KochFollower as Robot, KochFollowerConfig as Config

    report: dict = {"versions": {p: version(p) for p in ("lerobot", "feetech-servo-sdk", "dynamixel-sdk", "pyserial")}}
    robot = Robot(Config(port=port, id="interop", calibration_dir=Path(cal_dir)))
    report["calibration_file"] = {m: vars(c) for m, c in robot.calibration.items()}

    t0 = time.monotonic()
    robot.connect(calibrate=True)  # handshake, calibration (prompt if the servos lack it), configure, torque on
    report["connect_s"] = time.monotonic() - t0
    try:
        bus = robot.bus
        report["is_calibrated"] = bus.is_calibrated
        report["calibration_read"] = {m: vars(c) for m, c in bus.read_calibration().items()}
        report["torque_enable"] = bus.sync_read("Torque_Enable", normalize=False, num_retry=RETRIES)
        report["operating_mode"] = {m: bus.read("Operating_Mode", m, normalize=False, num_retry=RETRIES) for m in bus.motors}
        report["return_delay"] = {m: bus.read("Return_Delay_Time", m, normalize=False, num_retry=RETRIES) for m in bus.motors}
        if kind == "so101":
            report["gripper_overload_torque"] = bus.read("Overload_Torque", "gripper", normalize=False, num_retry=RETRIES)

        # Sync read (the observation), sync write (the action), converge.
        obs0 = robot.get_observation()
        report["obs0"] = obs0
        goal = {}
        for key, value in obs0.items():
            center = 50.0 if key.startswith("gripper") else 0.0
            goal[key] = value + (10.0 if value < center else -10.0)
        sent = robot.send_action(goal)
        report["goal"] = sent
        report["converge"] = converge(robot, sent)
        # Then to the count: the units above are 10-20 encoder counts wide.
        report["goal_raw"] = bus.sync_read("Goal_Position", normalize=False, num_retry=RETRIES)
        report["present_raw"] = settle_raw(bus, report["goal_raw"])

        if hold_ends:
            report["ends"] = []
            for end in ("range_min", "range_max"):
                goal_raw = {m: getattr(c, end) for m, c in robot.calibration.items()}
                bus.sync_write("Goal_Position", goal_raw, normalize=False)
                time.sleep(3.0)  # longer than the 2 s overload protection time, at the end of the range
                present = settle_raw(bus, goal_raw)
                drain(bus)
                pings = {m: bus.ping(m, num_retry=RETRIES) for m in bus.motors}  # None when the status carries an error bit
                report["ends"].append({"end": end, "goal": goal_raw, "present": present, "ping_model": pings})
    finally:
        robot.disconnect()  # torque off first, as LeRobot does
    report["disconnected"] = True

    # A second session on the same port: the handshake must find every motor, torque off.
    check = Bus(port=port, motors=robot.bus.motors)
    check.connect()  # handshake: pings every motor and compares model numbers
    try:
        report["reconnect_handshake"] = True
        report["torque_after_disconnect"] = check.sync_read("Torque_Enable", normalize=False, num_retry=RETRIES)
    finally:
        check.disconnect(disable_torque=False)
    return report


def drain(bus) -> None:
    """Drops any late status packet left in the input buffer before this script's own next
    transaction, as a careful client does after a retried read (a late reply from a timed-out first
    attempt would otherwise be taken as the answer to the next request)."""
    time.sleep(0.05)
    bus.port_handler.ser.reset_input_buffer()


def settle_raw(bus, goal_raw: dict, tolerance: int = 3, timeout_s: float = 3.0) -> dict:
    """Present_Position (encoder counts) once every motor is within `tolerance` of its goal, or at
    the timeout (the test then sees how far off it is)."""
    start = time.monotonic()
    drain(bus)
    while True:
        present = bus.sync_read("Present_Position", normalize=False, num_retry=RETRIES)
        if all(abs(present[m] - goal_raw[m]) <= tolerance for m in goal_raw) or time.monotonic() - start > timeout_s:
            return present
        time.sleep(0.02)


def converge(robot, goal: dict) -> dict:
    start = time.monotonic()
    polls = 0
    while True:
        obs = robot.get_observation()
        polls += 1
        err = {k: abs(obs[k] - goal[k]) for k in goal}
        if max(err.values()) <= TOLERANCE:
            return {"reached": True, "s": time.monotonic() - start, "polls": polls, "final": obs, "tolerance": TOLERANCE}
        if time.monotonic() - start > CONVERGE_TIMEOUT_S:
            return {"reached": False, "s": time.monotonic() - start, "polls": polls, "final": obs, "tolerance": TOLERANCE}
        time.sleep(0.02)


if __name__ == "__main__":
    out = sys.argv[4]
    try:
        result = main()
    except BaseException as e:  # noqa: BLE001 - reported to the test, which fails on it
        result = {"exception": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    Path(out).write_text(json.dumps(result, default=str))
