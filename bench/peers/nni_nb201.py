"""NNI 3.0's own DARTS on archon's main-job space, as the peer side of
bench/peers/nni-nb201.sh: NAS-Bench-201's cell restricted to skip_connect,
nor_conv_3x3 and avg_pool_3x3 (NNI's hub NasBench201 with three op candidates), width 4,
one cell per stage, the cells sharing their decisions (as archon's); Fashion-MNIST
(1x28x28, /255), a seeded subset of N images split half weights / half architecture,
batch 64, first-order DARTS (NNI's strategy defaults: arch Adam 3e-4 (0.5, 0.999) wd
1e-3, gradient clip 5), weights SGD lr 0.05 momentum 0.9 wd 3e-4 (constant: NNI's
Classification has no schedule; archon's main job anneals to 0.001), E epochs, 2 threads.

Prints one line `PEER_RESULT {json}`: seconds from the start of this script to the end
of each epoch, the architecture derived after each epoch (archon's labels), the search
seconds and the peak resident memory.
"""

import argparse
import json
import resource
import time

START = time.time()

import numpy as np
import torch
from fmnist_idx import read_idx
import torch.nn as nn

OPS = ["skip_connect", "nor_conv_3x3", "avg_pool_3x3"]


class SgdMomentum(torch.optim.SGD):
    """SGD with momentum 0.9 (NNI's Classification takes an optimizer class)."""

    def __init__(self, params, lr, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=0.9, weight_decay=weight_decay)


def to_archon(exported):
    """NNI's `cell/{from}_{to}` labels with op names → archon's NNI-format architecture."""
    arch = {}
    for label, op in exported.items():
        frm, to = label.split("/")[-1].split("_")
        name = {"conv_3x3": "nor_conv_3x3"}.get(op, op)
        arch[f"edge_{to}_{frm}"] = {"_value": name, "_idx": OPS.index(name)}
    return arch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    import nni
    import pytorch_lightning as pl
    from nni.nas.evaluator.pytorch import Classification, DataLoader
    from nni.nas.experiment import NasExperiment
    from nni.nas.hub.pytorch.modules.nasbench201 import NasBench201Cell
    from nni.nas.hub.pytorch.nasbench201 import OPS_WITH_STRIDE, ResNetBasicblock
    from nni.nas.nn.pytorch import ModelSpace
    from nni.nas.strategy import DARTS as DartsStrategy

    class Nb201ThreeOps(ModelSpace):
        """NNI's NasBench201 with archon's main-job options: 1 input channel, width C,
        N cells per stage, three operations."""

        def __init__(self, C=4, N=1, num_labels=10):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
            channels = [C] * N + [C * 2] + [C * 2] * N + [C * 4] + [C * 4] * N
            reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
            prev, cells = C, []
            for c, reduction in zip(channels, reductions):
                if reduction:
                    cells.append(ResNetBasicblock(prev, c, 2))
                else:
                    ops = {
                        "skip_connect": lambda i, o: OPS_WITH_STRIDE["skip_connect"](i, o, 1),
                        "conv_3x3": lambda i, o: OPS_WITH_STRIDE["conv_3x3"](i, o, 1),
                        "avg_pool_3x3": lambda i, o: OPS_WITH_STRIDE["avg_pool_3x3"](i, o, 1),
                    }
                    cells.append(NasBench201Cell(ops, prev, c, label="cell"))
                prev = c
            self.cells = nn.ModuleList(cells)
            self.lastact = nn.Sequential(nn.BatchNorm2d(prev), nn.ReLU(inplace=True))
            self.classifier = nn.Linear(prev, num_labels)

        def forward(self, x):
            x = self.stem(x)
            for cell in self.cells:
                x = cell(x)
            x = self.lastact(x).mean(dim=(2, 3))
            return self.classifier(x)

    images = read_idx(f"{args.data}/train-images-idx3-ubyte.gz")
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte.gz")
    pick = np.random.default_rng(args.seed).permutation(len(images))[: args.images]
    xs = torch.from_numpy(images[pick].astype(np.float32) / 255.0).unsqueeze(1)
    ys = torch.from_numpy(labels[pick].astype(np.int64))
    half = args.images // 2
    train = nni.trace(torch.utils.data.TensorDataset)(xs[:half], ys[:half])
    valid = nni.trace(torch.utils.data.TensorDataset)(xs[half:], ys[half:])

    epochs = []

    class EpochExport(pl.Callback):
        def on_train_epoch_end(self, trainer, module):
            epochs.append({"seconds": time.time() - START, "architecture": to_archon(module.export())})

    evaluator = Classification(
        learning_rate=0.05,
        weight_decay=3e-4,
        optimizer=SgdMomentum,
        train_dataloaders=DataLoader(train, batch_size=64, shuffle=True),
        val_dataloaders=DataLoader(valid, batch_size=64, shuffle=True),
        max_epochs=args.epochs,
        num_classes=10,
        accelerator="cpu",
        callbacks=[nni.trace(EpochExport)()],
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    begin = time.time()
    experiment = NasExperiment(Nb201ThreeOps(), evaluator, DartsStrategy())
    experiment.run()
    search = time.time() - begin
    final = to_archon(experiment.export_top_models(formatter="dict")[0])
    print("PEER_RESULT", json.dumps({
        "side": "nni",
        "seed": args.seed,
        "search_seconds": search,
        "total_seconds": time.time() - START,
        "epochs": epochs,
        "architecture": final,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }), flush=True)


if __name__ == "__main__":
    main()
