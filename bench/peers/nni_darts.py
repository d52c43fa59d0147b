"""NNI 3.0's own DARTS on archon's yardstick configuration, timed as the peer side of
bench/peers/nni-darts.sh: hub DARTS space (width 8, 5 cells, 'cifar' stem), first
order strategy, Classification evaluator, Fashion-MNIST replicated to 3x28x28, batch 64,
N images split half weights / half architecture, one epoch, 2 threads.

Prints one line `PEER_RESULT {json}`: epoch seconds (Lightning's on_train_epoch_start to
on_train_epoch_end: no start-up, no validation), per-step seconds after the first
WARMUP steps, steps, and the peak resident memory.
"""

import argparse
import json
import resource
import time

import numpy as np
import torch
from fmnist_idx import read_idx

WARMUP = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    import nni
    import pytorch_lightning as pl
    from nni.nas.evaluator.pytorch import Classification, DataLoader
    from nni.nas.experiment import NasExperiment
    from nni.nas.hub.pytorch import DARTS as DartsSpace
    from nni.nas.strategy import DARTS as DartsStrategy

    images = read_idx(f"{args.data}/train-images-idx3-ubyte.gz")[: args.images]
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte.gz")[: args.images]
    xs = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1).repeat(1, 3, 1, 1)
    ys = torch.from_numpy(labels.astype(np.int64))
    half = args.images // 2
    # Traced, as NNI's evaluators need their arguments to be (it warns about the
    # positional tensors; harmless).
    train = nni.trace(torch.utils.data.TensorDataset)(xs[:half], ys[:half])
    valid = nni.trace(torch.utils.data.TensorDataset)(xs[half:], ys[half:])

    timing = {"steps": []}

    class Timer(pl.Callback):
        def on_train_epoch_start(self, trainer, module):
            timing["start"] = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            timing["steps"].append(time.perf_counter())

        def on_train_epoch_end(self, trainer, module):
            timing["end"] = time.perf_counter()

    evaluator = Classification(
        learning_rate=0.025,
        weight_decay=3e-4,
        train_dataloaders=DataLoader(train, batch_size=64, shuffle=True),
        val_dataloaders=DataLoader(valid, batch_size=64, shuffle=True),
        max_epochs=1,
        num_classes=10,
        accelerator="cpu",
        callbacks=[nni.trace(Timer)()],
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    space = DartsSpace(width=8, num_cells=5, dataset="cifar")
    experiment = NasExperiment(space, evaluator, DartsStrategy())
    experiment.run()

    steps = timing["steps"]
    after = np.diff(steps[WARMUP - 1:]) if len(steps) > WARMUP else np.array([])
    print("PEER_RESULT", json.dumps({
        "side": "nni",
        "images": args.images,
        "epoch_seconds": timing["end"] - timing["start"],
        "steps": len(steps),
        "step_seconds_after_warmup": float(np.median(after)) if after.size else None,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }), flush=True)


if __name__ == "__main__":
    main()
