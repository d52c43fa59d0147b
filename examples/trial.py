#!/usr/bin/env python3
"""A user trial for archon in plain Python (standard library only).

archon passes the architecture in the file named by ARCHON_PARAMETERS_FILE (NNI
format JSON; small ones also in the ARCHON_PARAMETERS environment variable) and reads
metrics from stdout, one per line: `ARCHON_METRIC {"default": <number>, ...}`. The last
line, or the one with "final": true, is the trial's result.

This one scores a NAS-Bench-201 architecture without training (a stand-in for your
training script): 3x3 convolutions are worth the most, `none` edges cost.
"""
import json
import os
import time

with open(os.environ["ARCHON_PARAMETERS_FILE"]) as f:
    params = json.load(f)
worth = {"none": -0.05, "skip_connect": 0.02, "nor_conv_1x1": 0.05, "nor_conv_3x3": 0.1, "avg_pool_3x3": 0.0}
score = 0.3 + sum(worth.get(choice["_value"], 0.0) for choice in params.values())
for step in range(1, 4):
    time.sleep(float(os.environ.get("TRIAL_SLEEP", "0")))
    print(f"epoch {step}: training...", flush=True)
    print("ARCHON_METRIC " + json.dumps({"default": round(score * step / 3, 4), "step": step}), flush=True)
print("ARCHON_METRIC " + json.dumps({"default": round(score, 4), "final": True}), flush=True)
