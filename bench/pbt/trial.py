"""One PBT step (or, with --epochs N, a whole run from scratch): a one-hidden-layer
network on scikit-learn's digits, trained by SGD with momentum in numpy, its weights
loaded from `load_checkpoint_dir` and saved to `save_checkpoint_dir` as NNI's PBT trials
do. Reports the validation accuracy."""

import argparse
import os

import numpy as np
from sklearn.datasets import load_digits

import nni

parser = argparse.ArgumentParser()
parser.add_argument('--epochs', type=int, default=1)
args = parser.parse_args()
params = nni.get_next_parameter()

x, y = load_digits(return_X_y=True)
x = x / 16.0
order = np.random.RandomState(0).permutation(len(x))
x, y = x[order], y[order]
x_train, y_train, x_valid, y_valid = x[:1200], y[:1200], x[1200:], y[1200:]

load = params.get('load_checkpoint_dir')
checkpoint = os.path.join(load, 'weights.npz') if load else None
if checkpoint and os.path.isfile(checkpoint):
    state = dict(np.load(checkpoint))
else:
    init = np.random.RandomState(1)
    state = {'w1': init.normal(0, 0.1, (64, 32)), 'b1': np.zeros(32),
             'w2': init.normal(0, 0.1, (32, 10)), 'b2': np.zeros(10),
             'step': np.zeros(1)}
    for k in ('w1', 'b1', 'w2', 'b2'):
        state['v' + k] = np.zeros_like(state[k])

lr, momentum = params['lr'], params['momentum']
batches = np.random.RandomState(int(state['step'][0]))
for _ in range(args.epochs):
    for batch in np.array_split(batches.permutation(len(x_train)), len(x_train) // 32):
        xb, yb = x_train[batch], y_train[batch]
        h = np.maximum(xb @ state['w1'] + state['b1'], 0)
        logits = h @ state['w2'] + state['b2']
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(yb)), yb] -= 1
        g = {'w2': h.T @ p / len(yb), 'b2': p.mean(0)}
        dh = (p @ state['w2'].T) * (h > 0)
        g['w1'], g['b1'] = xb.T @ dh / len(yb), dh.mean(0)
        for k in g:
            state['v' + k] = momentum * state['v' + k] - lr * g[k]
            state[k] = state[k] + state['v' + k]
    state['step'] += 1

h = np.maximum(x_valid @ state['w1'] + state['b1'], 0)
accuracy = float(((h @ state['w2'] + state['b2']).argmax(1) == y_valid).mean())
save = params.get('save_checkpoint_dir')
if save:
    os.makedirs(save, exist_ok=True)
    np.savez(os.path.join(save, 'weights.npz'), **state)
nni.report_final_result(accuracy)
