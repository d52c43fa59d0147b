"""archon's stand-in for NNI's ``nni`` package, so that NNI trial code runs under
archon unchanged: ``nni.get_next_parameter()`` returns the parameters archon chose
and ``nni.report_*_result()`` report metrics to archon (``ARCHON_METRIC`` lines).

It covers the trial API of NNI 3.0 (2.x trial code too), ``nni.utils``, and the base
classes ``nni.tuner.Tuner`` / ``nni.assessor.Assessor``. Standard library only.
"""

__version__ = '3.0+archon-nni-shim'
"""NNI's API version mimicked (3.0), with ``archon-nni-shim`` as PEP 440 local label."""

NNI_API_VERSION = '3.0'

from .runtime.log import init_logger as _init_logger

_init_logger()

from .runtime.log import enable_global_logging, silence_stdout
from .trial import (
    get_current_parameter,
    get_experiment_id,
    get_next_parameter,
    get_next_parameters,
    get_sequence_id,
    get_trial_id,
    report_final_result,
    report_intermediate_result,
)
from .utils import ClassArgsValidator


class NoMoreTrialError(Exception):
    """A tuner raises it when its search space is fully explored."""

    def __init__(self, ErrorInfo='Search space fully explored'):  # pylint: disable=invalid-name
        super().__init__(ErrorInfo)
        self.errorinfo = ErrorInfo

    def __str__(self):
        return self.errorinfo


from . import trial as _trial

__all__ = _trial.__all__ + [
    'enable_global_logging',
    'silence_stdout',
    'ClassArgsValidator',
    'NoMoreTrialError',
    '__version__',
]
