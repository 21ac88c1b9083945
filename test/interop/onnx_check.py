#!/usr/bin/env python3
"""The current `onnx` checker (full check: graph, types and shape inference) on armbridge's exported
models, and Python onnxruntime's outputs on given inputs. Prints one JSON object (last line). It
asserts nothing: test/interop/onnx.test.ts compares with onnxruntime-node.

Usage: onnx_check.py <inputs.json>   ({"models": {name: path}, "inputs": {name: {input: [[...], ...]}}})
"""
import json
import sys
from importlib.metadata import version

import numpy as np
import onnx
import onnxruntime as ort

spec = json.load(open(sys.argv[1]))
out = {"versions": {"onnx": version("onnx"), "onnxruntime": version("onnxruntime")}, "models": {}}
for name, path in spec["models"].items():
    model = onnx.load(path)
    report = {"ir_version": model.ir_version, "opsets": {o.domain or "ai.onnx": o.version for o in model.opset_import}}
    try:
        onnx.checker.check_model(model, full_check=True)
        report["checker"] = "ok"
    except onnx.checker.ValidationError as e:
        report["checker"] = f"ValidationError: {e}"
    report["metadata"] = {p.key: p.value for p in model.metadata_props}
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {k: np.asarray(v, dtype=np.float32) for k, v in spec["inputs"][name].items()}
    names = [o.name for o in session.get_outputs()]
    report["inputs"] = [{"name": i.name, "shape": [d if isinstance(d, int) else str(d) for d in i.shape]} for i in session.get_inputs()]
    report["outputs"] = dict(zip(names, (r.tolist() for r in session.run(names, feeds))))
    out["models"][name] = report
print(json.dumps(out))
