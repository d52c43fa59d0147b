"""A tuner written against NNI's interface: it walks x = start, start + step, ...
within the search space and alternates `kind`, learns nothing, and says when it has
walked off the end (nni.NoMoreTrialError). It records what it is told in
`tuner_log.jsonl` beside itself, so that one can see what the tuner heard."""

import json
import os

import nni
from nni.tuner import Tuner


class WalkingTuner(Tuner):
    def __init__(self, optimize_mode='maximize', start=0, step=1):
        self.optimize_mode = optimize_mode
        self.x = start
        self.step = step
        self.count = 0
        self.log = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tuner_log.jsonl')

    def update_search_space(self, search_space):
        low, high = search_space['x']['_value']
        self.high = high
        self.kinds = search_space['kind']['_value']

    def generate_parameters(self, parameter_id, **kwargs):
        if self.x >= self.high:
            raise nni.NoMoreTrialError('walked past the end of x')
        params = {'x': self.x, 'kind': self.kinds[self.count % len(self.kinds)]}
        self.x += self.step
        self.count += 1
        return params

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        with open(self.log, 'a') as f:
            f.write(json.dumps({'id': parameter_id, 'parameters': parameters, 'value': value,
                                'reward': nni.utils.extract_scalar_reward(value)}) + '\n')
