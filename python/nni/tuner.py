"""Base class of tuners, with NNI's interface.

archon runs a subclass through its ``python`` tuner plugin (NNI's ``className`` +
``codeDirectory`` + ``classArgs``), hosted by :mod:`nni.runtime.tuner_bridge`.
"""

from __future__ import annotations

import logging
from typing import List

import nni

from .recoverable import Recoverable
from .typehint import Parameters, SearchSpace, TrialMetric, TrialRecord

__all__ = ['Tuner']

_logger = logging.getLogger(__name__)


class Tuner(Recoverable):
    """Generates the parameters of new trials and learns from their results.

    The framework first calls :meth:`update_search_space`, then
    :meth:`generate_parameters` (or :meth:`generate_multiple_parameters`) for each new
    trial, identified by a unique integer *parameter ID*, then
    :meth:`receive_trial_result` when a trial reports its final result and
    :meth:`trial_end` when it ends. Subclasses override :meth:`update_search_space`,
    :meth:`receive_trial_result` and one of the two generate methods.
    """

    def generate_parameters(self, parameter_id: int, **kwargs) -> Parameters:
        """The parameters of a new trial (any JSON value; a dict for HPO). May raise
        :class:`nni.NoMoreTrialError` when the space is exhausted. Must override this
        or :meth:`generate_multiple_parameters`."""
        raise NotImplementedError('Tuner: generate_parameters not implemented')

    def generate_multiple_parameters(self, parameter_id_list: List[int], **kwargs) -> List[Parameters]:
        """Parameters for each ID; by default :meth:`generate_parameters` on each ID,
        stopping early (with what it has) at :class:`nni.NoMoreTrialError`. An empty
        list means no more trials."""
        result = []
        for parameter_id in parameter_id_list:
            try:
                _logger.debug('generating param for %s', parameter_id)
                res = self.generate_parameters(parameter_id, **kwargs)
            except nni.NoMoreTrialError:
                return result
            result.append(res)
        return result

    def receive_trial_result(self, parameter_id: int, parameters: Parameters, value: TrialMetric,
                             **kwargs) -> None:
        """A trial's final result (what it passed to ``nni.report_final_result``). Must override."""
        raise NotImplementedError('Tuner: receive_trial_result not implemented')

    def _accept_customized_trials(self, accept=True):
        # pylint: disable=attribute-defined-outside-init
        self._accept_customized = accept

    def trial_end(self, parameter_id: int, success: bool, **kwargs) -> None:
        """Called when a trial completes (``success``) or fails or is stopped. Does nothing by default."""

    def update_search_space(self, search_space: SearchSpace) -> None:
        """The search space (NNI JSON), before the first parameters and on changes. Must override."""
        raise NotImplementedError('Tuner: update_search_space not implemented')

    def load_checkpoint(self) -> None:
        """Logs that loading is ignored (NNI's default)."""
        _logger.info('Load checkpoint ignored by tuner, checkpoint path: %s', self.get_checkpoint_path())

    def save_checkpoint(self) -> None:
        """Logs that saving is ignored (NNI's default)."""
        _logger.info('Save checkpoint ignored by tuner, checkpoint path: %s', self.get_checkpoint_path())

    def import_data(self, data: List[TrialRecord]) -> None:
        """Earlier results to learn from: ``[{"parameter": {...}, "value": ...}, ...]``.
        Ignored by default."""

    def _on_exit(self) -> None:
        pass

    def _on_error(self) -> None:
        pass
