"""The environment variables NNI's trial and dispatcher processes read.

Same names and shape as NNI's ``nni.runtime.env_vars``: two named tuples, read once
at import, each field ``None`` when the variable is unset.
"""

import os
from collections import namedtuple

__all__ = ['trial_env_vars', 'dispatcher_env_vars']

_TRIAL_NAMES = (
    'NNI_PLATFORM',
    'NNI_EXP_ID',
    'NNI_TRIAL_JOB_ID',
    'NNI_SYS_DIR',
    'NNI_OUTPUT_DIR',
    'NNI_TRIAL_COMMAND_CHANNEL',
    'NNI_TRIAL_SEQ_ID',
    'MULTI_PHASE',
    'REUSE_MODE',
)

_DISPATCHER_NAMES = (
    'SDK_PROCESS',
    'NNI_MODE',
    'NNI_CHECKPOINT_DIRECTORY',
    'NNI_LOG_DIRECTORY',
    'NNI_LOG_LEVEL',
    'NNI_INCLUDE_INTERMEDIATE_RESULTS',
    'NNI_TUNER_COMMAND_CHANNEL',
)


def _load(names, environ=None):
    env = os.environ if environ is None else environ
    return namedtuple('EnvVars', names)(**{name: env.get(name) for name in names})


trial_env_vars = _load(_TRIAL_NAMES)
dispatcher_env_vars = _load(_DISPATCHER_NAMES)
