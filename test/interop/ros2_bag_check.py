#!/usr/bin/env python3
"""Reads armbridge MCAP files as ROS 2 bags with rosbags (its own MCAP storage reader, message
definitions parsed from the file, its CDR deserializer) and with mcap-ros2-support's decoder, and
prints every message of every file, decoded, as one JSON object (last line). It asserts nothing:
test/interop/ros2-bags.test.ts compares with armbridge's own reading.

Usage: ros2_bag_check.py <file.mcap> [...]
"""
import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np


def plain(v):
    """A decoded ROS message (rosbags dataclass or mcap_ros2 dynamic class) as JSON-able data."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return list(v)
    if hasattr(v, "__dataclass_fields__"):
        return {k: plain(getattr(v, k)) for k in v.__dataclass_fields__ if not k.startswith("__")}
    if hasattr(v, "__slots__"):
        return {k: plain(getattr(v, k)) for k in v.__slots__}
    return v


def with_rosbags(path: Path) -> dict:
    from rosbags.highlevel import AnyReader
    from rosbags.rosbag2 import Reader

    with Reader(path) as bag:  # rosbag2's reader on the bare MCAP file
        storage = {
            "message_count": bag.message_count,
            "topics": {c.topic: {"msgtype": c.msgtype, "count": c.msgcount, "serialization": c.ext.serialization_format} for c in bag.connections},
        }
    topics: dict = {}
    with AnyReader([path]) as reader:  # types registered from the definitions stored in the file
        for conn, timestamp, raw in reader.messages():
            t = topics.setdefault(conn.topic, {"msgtype": conn.msgtype, "messages": [], "log_times": []})
            t["messages"].append(plain(reader.deserialize(raw, conn.msgtype)))
            t["log_times"].append(timestamp)
    return {"storage": storage, "topics": topics}


def with_mcap_ros2(path: Path) -> dict:
    from mcap_ros2.reader import read_ros2_messages

    topics: dict = {}
    for m in read_ros2_messages(str(path)):
        t = topics.setdefault(m.channel.topic, {"schema": m.schema.name, "messages": []})
        t["messages"].append(plain(m.ros_msg))
    return {"topics": topics}


if __name__ == "__main__":
    out = {"versions": {p: version(p) for p in ("rosbags", "mcap", "mcap-ros2-support")}, "files": {}}
    for arg in sys.argv[1:]:
        p = Path(arg)
        out["files"][arg] = {"rosbags": with_rosbags(p), "mcap_ros2": with_mcap_ros2(p)}
    print(json.dumps(out))
