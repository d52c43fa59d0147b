"""A trial as NNI's examples write them: parameters from nni.get_next_parameter(),
intermediate results per step, a final result as a dict with `default`."""

import nni

params = nni.get_next_parameter()
x = params['x']
power = 2 if params['kind'] == 'square' else 3
for step in range(1, 4):
    nni.report_intermediate_result(x * step)
nni.report_final_result({'default': float(x ** power), 'power': power})
