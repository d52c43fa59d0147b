"""NNI's trial API (``nni.get_next_parameter``, ``nni.report_final_result`` ...) on top
of archon's trial protocol.

Two modes, chosen once at import from the environment:

* **archon trial** (``ARCHON_PARAMETERS_FILE`` or ``ARCHON_PARAMETERS`` set):
  ``get_next_parameter()`` returns the parameters archon gave, in NNI's HPO shape; the
  ``report_*`` functions print ``ARCHON_METRIC {...}`` lines to stdout and flush them.
* **standalone** (anything else), as NNI's standalone mode: ``get_next_parameter()``
  warns and returns ``{}``; the ``report_*`` functions only log; the experiment and
  trial IDs are ``'STANDALONE'`` and the sequence ID ``0`` unless NNI's variables say
  otherwise.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from typing import Any, Mapping, Optional

from .runtime import archon
from .typehint import ParameterRecord, Parameters, TrialMetric

__all__ = [
    'get_next_parameter',
    'get_next_parameters',
    'get_current_parameter',
    'report_intermediate_result',
    'report_final_result',
    'get_experiment_id',
    'get_trial_id',
    'get_sequence_id',
]

_logger = logging.getLogger('nni')

_STANDALONE_WARNING = ('Running trial code without runtime. '
                       'Please check the tutorial if you are new to NNI: '
                       'https://nni.readthedocs.io/en/stable/tutorials/hpo_quickstart_pytorch/main.html')


def _int_or_none(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


class _TrialRuntime:
    """The state behind the module's functions (one per process; tests make their own)."""

    def __init__(self, environ: Optional[Mapping[str, str]] = None, stream: Any = None):
        env = dict(os.environ if environ is None else environ)
        self._env = env
        self._stream = stream  # None: the process's stdout
        self.archon = archon.in_archon(env)
        self.experiment_id = env.get('NNI_EXP_ID') or env.get('ARCHON_EXPERIMENT_ID') or 'STANDALONE'
        self.trial_id = env.get('NNI_TRIAL_JOB_ID') or env.get('ARCHON_TRIAL_ID') or 'STANDALONE'
        seq = _int_or_none(env.get('NNI_TRIAL_SEQ_ID'))
        if seq is None:
            seq = _int_or_none(env.get('ARCHON_TRIAL_ID'))
        self.sequence_id = seq if seq is not None else 0
        self.params: Optional[ParameterRecord] = None
        self.intermediate_seq = 0
        self._param_index = 0
        self._lock = threading.Lock()
        self._dirs_made = False

    def _make_dirs(self) -> None:
        # NNI's local platform creates these on first use; trial code may rely on it.
        if self._dirs_made:
            return
        self._dirs_made = True
        for name in ('NNI_SYS_DIR', 'NNI_OUTPUT_DIR'):
            path = self._env.get(name)
            if path:
                try:
                    os.makedirs(path, exist_ok=True)
                except OSError as e:
                    _logger.warning('cannot create %s=%s: %s', name, path, e)

    # parameters

    def get_next_parameter(self) -> Optional[Parameters]:
        if not self.archon:
            warnings.warn(_STANDALONE_WARNING, RuntimeWarning, stacklevel=3)
            self.params = {'parameter_id': None, 'parameters': {}}
            return self.params['parameters']
        if self._param_index > 0:
            # As NNI's local platform (no multi-phase): one parameter set per trial.
            _logger.warning('nni.get_next_parameter() called again: a trial gets one '
                            'parameter set, so this returns None')
            self.params = None
            return None
        self._make_dirs()
        raw = archon.read_raw_parameters(self._env)
        space = archon.read_search_space(self._env)
        parameters = archon.to_hpo_parameters(raw, space)
        if self._env.get('ARCHON_NNI_BATCH') == '1':
            parameters = archon.batch_parameters(parameters)
        save_dir = self._env.get('ARCHON_SAVE_CHECKPOINT_DIR')
        if save_dir and isinstance(parameters, dict):
            # As NNI's PBTTuner: where this step starts from and where it saves.
            parameters['load_checkpoint_dir'] = self._env.get('ARCHON_LOAD_CHECKPOINT_DIR', save_dir)
            parameters['save_checkpoint_dir'] = save_dir
        budget = self._env.get('ARCHON_BUDGET')
        if budget and isinstance(parameters, dict):
            # As NNI's Hyperband and BOHB advisors: the trial's budget is a parameter.
            value = float(budget)
            parameters['TRIAL_BUDGET'] = int(value) if value.is_integer() else value
        self.params = {
            'parameter_id': _int_or_none(self._env.get('ARCHON_TRIAL_ID')),
            'parameter_source': 'algorithm',
            'parameters': parameters,
            'parameter_index': 0,
        }
        self._param_index = 1
        return self.params['parameters']

    def get_current_parameter(self, tag: Optional[str] = None) -> Any:
        if self.params is None:
            return None
        if tag is None:
            return self.params['parameters']
        return self.params['parameters'][tag]

    # metrics

    def report_intermediate_result(self, metric: Any) -> None:
        if not self.archon:
            self._check_standalone(metric)
            with self._lock:
                seq = self.intermediate_seq
                self.intermediate_seq += 1
            _logger.info('Intermediate result: %s  (Index %s)', metric, seq)
            return
        self._make_dirs()
        payload = archon.metric_payload(metric)
        # Only report_final_result may mark a line final.
        payload.pop('final', None)
        with self._lock:
            seq = self.intermediate_seq
            self.intermediate_seq += 1
            payload['step'] = seq + 1
            archon.emit_line(archon.metric_line(payload), self._stream)

    def report_final_result(self, metric: Any) -> None:
        if not self.archon:
            self._check_standalone(metric)
            _logger.info('Final result: %s', metric)
            return
        self._make_dirs()
        payload = archon.metric_payload(metric)
        payload['final'] = True
        archon.emit_line(archon.metric_line(payload), self._stream)

    @staticmethod
    def _check_standalone(metric: Any) -> None:
        # NNI's standalone mode accepts anything; say so when archon (and NNI's
        # tuners) would not.
        try:
            archon.metric_payload(metric)
        except RuntimeError as e:
            _logger.warning('%s Got %r.', e, metric)


_runtime = _TrialRuntime()

# NNI's module-level names, kept for code that peeks at them.
_params: Optional[ParameterRecord] = None
_experiment_id: str = _runtime.experiment_id
_trial_id: str = _runtime.trial_id
_sequence_id: int = _runtime.sequence_id


def _set_runtime(runtime: _TrialRuntime) -> _TrialRuntime:
    """Swaps the state behind this module (for tests); returns the previous one."""
    global _runtime, _params, _experiment_id, _trial_id, _sequence_id
    previous = _runtime
    _runtime = runtime
    _params = runtime.params
    _experiment_id, _trial_id, _sequence_id = runtime.experiment_id, runtime.trial_id, runtime.sequence_id
    return previous


def get_next_parameter() -> Parameters:
    """The hyper-parameters of this trial.

    Under archon: the trial's parameters in NNI's HPO shape (``{"lr": 0.01, "layer":
    {"_name": "conv", "kernel": 5}}``). Call it once: as on NNI's local platform, a
    second call returns ``None``. Standalone: warns and returns ``{}``.
    """
    global _params
    try:
        return _runtime.get_next_parameter()
    finally:
        _params = _runtime.params


def get_next_parameters() -> Parameters:
    """Alias of :func:`get_next_parameter`."""
    global _params
    try:
        return _runtime.get_next_parameter()
    finally:
        _params = _runtime.params


def get_current_parameter(tag: Optional[str] = None) -> Any:
    """The parameters the last :func:`get_next_parameter` returned (``None`` before
    it), or the one named ``tag`` (``KeyError`` if there is none)."""
    return _runtime.get_current_parameter(tag)


def get_experiment_id() -> str:
    """The experiment's ID: ``NNI_EXP_ID``, else ``ARCHON_EXPERIMENT_ID``, else ``'STANDALONE'``."""
    return _runtime.experiment_id


def get_trial_id() -> str:
    """The trial's ID: ``NNI_TRIAL_JOB_ID``, else ``ARCHON_TRIAL_ID``, else ``'STANDALONE'``."""
    return _runtime.trial_id


def get_sequence_id() -> int:
    """The trial's number: ``NNI_TRIAL_SEQ_ID``, else ``ARCHON_TRIAL_ID``, else ``0``."""
    return _runtime.sequence_id


def overwrite_intermediate_seq(value: int) -> None:
    """Sets the index of the next intermediate result (its ``step`` is ``value + 1``)."""
    assert isinstance(value, int)
    _runtime.intermediate_seq = value


def report_intermediate_result(metric: TrialMetric | dict) -> None:
    """Reports an intermediate result: a number, or a dict whose ``default`` is one
    (other keys are kept). Under archon it prints
    ``ARCHON_METRIC {"default": ..., "step": n}`` (n = 1, 2, ...), flushed; any other
    shape raises NNI's ``RuntimeError('Incorrect final result: ...')``."""
    _runtime.report_intermediate_result(metric)


def report_final_result(metric: TrialMetric | dict) -> None:
    """Reports the final result: a number, or a dict whose ``default`` is one (other
    keys are kept). Under archon it prints ``ARCHON_METRIC {"default": ..., "final":
    true}``, flushed; any other shape raises NNI's ``RuntimeError``."""
    _runtime.report_final_result(metric)
