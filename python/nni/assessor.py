"""Base class of assessors (early stopping), with NNI's interface.

archon runs a subclass through `nni.runtime.assessor_bridge` (NNI's `className` +
`codeDirectory` + `classArgs` for an assessor).
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any, List

from .recoverable import Recoverable

__all__ = ['AssessResult', 'Assessor']

_logger = logging.getLogger(__name__)


class AssessResult(Enum):
    """What :meth:`Assessor.assess_trial` returns."""

    Good = True
    """The trial works well."""

    Bad = False
    """The trial works poorly and should be stopped early."""


class Assessor(Recoverable):
    """Decides from a trial's intermediate results whether to stop it early.

    Subclasses override :meth:`assess_trial`, and :meth:`trial_end` to hear when a
    trial ends.
    """

    def assess_trial(self, trial_job_id: str, trial_history: List[Any]) -> AssessResult:
        """:obj:`AssessResult.Good` or :obj:`AssessResult.Bad` for a trial, given its
        intermediate results so far (never empty; longer on each call). Must override."""
        raise NotImplementedError('Assessor: assess_trial not implemented')

    def trial_end(self, trial_job_id: str, success: bool) -> None:
        """Called when a trial completes (``success``) or fails or is stopped. Does nothing by default."""

    def load_checkpoint(self) -> None:
        """Logs that loading is ignored (NNI's default)."""
        _logger.info('Load checkpoint ignored by assessor, checkpoint path: %s', self.get_checkpoint_path())

    def save_checkpoint(self) -> None:
        """Logs that saving is ignored (NNI's default)."""
        _logger.info('Save checkpoint ignored by assessor, checkpoint path: %s', self.get_checkpoint_path())

    def _on_exit(self) -> None:
        pass

    def _on_error(self) -> None:
        pass
