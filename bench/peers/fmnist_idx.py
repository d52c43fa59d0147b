"""Fashion-MNIST's IDX files (gzipped, as Debian's dataset-fashion-mnist ships them) as
numpy arrays, for the NNI peer harnesses."""

import gzip
import struct

import numpy as np


def read_idx(path):
    """Images `[N, rows, cols]` or labels `[N]`, uint8."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)
