#!/usr/bin/env python3
"""LeRobot's own dataset code against armbridge's LeRobotDataset export and import. Prints one JSON
object (last line of stdout). It asserts nothing itself: test/interop/lerobot-dataset.test.ts does.

  load <root>                   LeRobotDataset(root=...) reads an armbridge export: metadata, every
                                frame, the stats file, and the stats LeRobot's compute_stats gives
                                for the same data.
  train <root> <steps>          a few optimisation steps of LeRobot's ACT policy, state-only
                                (observation.state + observation.environment_state), on CPU.
  create <root> <frames.json>   LeRobotDataset.create / add_frame / save_episode / finalize writes a
                                dataset from the frames given (episodes of state, action, reward).
"""
import json
import math
import sys
import time
from importlib.metadata import version

import numpy as np
import torch

REPO_ID = "armbridge/interop"


def tolist(v):
    if isinstance(v, torch.Tensor):
        return v.tolist()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def load(root: str) -> dict:
    from lerobot.datasets.compute_stats import aggregate_stats, compute_episode_stats
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset(REPO_ID, root=root)
    keys = ["observation.state", "action", "observation.environment_state", "next.reward", "timestamp", "frame_index", "episode_index", "index", "task_index"]
    frames = {k: [] for k in keys + ["task"]}
    for i in range(len(ds)):
        item = ds[i]
        for k in keys:
            frames[k].append(tolist(item[k]))
        frames["task"].append(item["task"])

    episodes = [
        {k: tolist(ep[k]) for k in ("episode_index", "dataset_from_index", "dataset_to_index", "length", "tasks")}
        for ep in ds.meta.episodes
    ]
    # LeRobot's own statistics of the same data, per episode then aggregated, as its writer does.
    numeric = ["observation.state", "action", "observation.environment_state", "next.reward"]
    features = {k: ds.meta.features[k] for k in numeric}
    per_episode = []
    for ep in episodes:
        rows = range(ep["dataset_from_index"], ep["dataset_to_index"])
        data = {k: np.asarray([frames[k][r] for r in rows], dtype=np.float32).reshape(len(rows), -1) for k in numeric}
        per_episode.append(compute_episode_stats(data, features))
    recomputed = aggregate_stats(per_episode)
    return {
        "versions": {p: version(p) for p in ("lerobot", "torch", "datasets", "pyarrow", "pandas")},
        "fps": ds.fps,
        "num_episodes": ds.num_episodes,
        "num_frames": ds.num_frames,
        "robot_type": ds.meta.robot_type,
        "features": {k: {"dtype": v["dtype"], "shape": list(v["shape"])} for k, v in ds.meta.features.items()},
        "episodes": episodes,
        "frames": frames,
        "stats": {k: {s: tolist(v) for s, v in st.items()} for k, st in ds.meta.stats.items() if k in numeric},
        "recomputed_stats": {k: {s: tolist(v) for s, v in st.items()} for k, st in recomputed.items()},
    }


def train(root: str, steps: int) -> dict:
    from lerobot.configs.types import FeatureType
    from lerobot.datasets.lerobot_dataset import LeRobotDataset, LeRobotDatasetMetadata
    from lerobot.policies.act.configuration_act import ACTConfig
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors
    from lerobot.utils.feature_utils import dataset_to_policy_features

    torch.manual_seed(0)
    torch.set_num_threads(1)
    meta = LeRobotDatasetMetadata(REPO_ID, root=root)
    features = dataset_to_policy_features(meta.features)
    outputs = {k: f for k, f in features.items() if f.type is FeatureType.ACTION}
    inputs = {k: f for k, f in features.items() if k in ("observation.state", "observation.environment_state")}
    chunk = 5
    cfg = ACTConfig(
        input_features=inputs,
        output_features=outputs,
        chunk_size=chunk,
        n_action_steps=chunk,
        dim_model=64,
        dim_feedforward=128,
        n_heads=4,
        n_encoder_layers=1,
        n_decoder_layers=1,
        latent_dim=8,
        device="cpu",
    )
    policy = ACTPolicy(cfg)
    policy.train()
    preprocessor, _ = make_pre_post_processors(cfg, dataset_stats=meta.stats)
    ds = LeRobotDataset(REPO_ID, root=root, delta_timestamps={"action": [i / meta.fps for i in range(chunk)]})
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=True, num_workers=0, drop_last=True)
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-4)
    losses = []
    start = time.monotonic()
    while len(losses) < steps:
        for batch in loader:
            batch = preprocessor(batch)
            loss, _ = policy.forward(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
            if len(losses) >= steps:
                break
    return {
        "policy": "act",
        "inputs": sorted(inputs),
        "outputs": sorted(outputs),
        "losses": losses,
        "finite": all(math.isfinite(x) for x in losses),
        "seconds": time.monotonic() - start,
        "versions": {p: version(p) for p in ("lerobot", "torch")},
    }


def create(root: str, frames_path: str) -> dict:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    spec = json.load(open(frames_path))
    names = spec["joint_names"]
    features = {
        "observation.state": {"dtype": "float32", "shape": (len(names),), "names": names},
        "action": {"dtype": "float32", "shape": (len(names),), "names": names},
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
    }
    ds = LeRobotDataset.create(REPO_ID, spec["fps"], root=root, robot_type=spec["robot_type"], features=features, use_videos=False)
    for ep in spec["episodes"]:
        for state, action, reward in zip(ep["state"], ep["action"], ep["reward"]):
            ds.add_frame(
                {
                    "observation.state": np.asarray(state, dtype=np.float32),
                    "action": np.asarray(action, dtype=np.float32),
                    "next.reward": np.asarray([reward], dtype=np.float32),
                    "task": ep["task"],
                }
            )
        ds.save_episode()
    ds.finalize()
    return {"episodes": ds.meta.total_episodes, "frames": ds.meta.total_frames, "versions": {"lerobot": version("lerobot")}}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "load":
        out = load(sys.argv[2])
    elif mode == "train":
        out = train(sys.argv[2], int(sys.argv[3]))
    elif mode == "create":
        out = create(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out))
