"""Base of tuners and assessors that resume an experiment (NNI's ``Recoverable``)."""

from __future__ import annotations

import json
import os
from typing import Any, Optional

__all__ = ['Recoverable']


class Recoverable:
    """Checkpoint hooks and the bookkeeping of parameter sets from a resumed experiment."""

    def __init__(self):
        self.recovered_max_param_id = -1
        self.recovered_trial_params = {}

    def load_checkpoint(self) -> None:
        """Restores state from :meth:`get_checkpoint_path` (nothing by default)."""

    def save_checkpoint(self) -> None:
        """Saves state to :meth:`get_checkpoint_path` (nothing by default)."""

    def get_checkpoint_path(self) -> Optional[str]:
        """``NNI_CHECKPOINT_DIRECTORY`` if it names an existing folder, else ``None``."""
        path = os.getenv('NNI_CHECKPOINT_DIRECTORY')
        if path is not None and os.path.isdir(path):
            return path
        return None

    def recover_parameter_id(self, data: Any) -> int:
        """Records earlier parameter sets (``{"parameter_id": 0, "parameters": {...}}``,
        or their JSON text; a list or one) and returns the largest ID among them
        (0 if none). Records whose ID is not an int (user-added trials) are skipped."""
        if not isinstance(data, list):
            data = [data]
        max_id = 0
        for trial in data:
            if isinstance(trial, str):
                trial = json.loads(trial)
            param_id = trial['parameter_id']
            if not isinstance(param_id, int):
                continue
            self.recovered_trial_params[param_id] = trial['parameters']
            max_id = max(max_id, param_id)
        self.recovered_max_param_id = max_id
        return max_id

    def is_created_in_previous_exp(self, param_id: Optional[int]) -> bool:
        """Whether ``param_id`` comes from the experiment being resumed."""
        if param_id is None:
            return False
        return param_id <= self.recovered_max_param_id

    def get_previous_param(self, param_id: int) -> dict:
        """The parameters of a recovered parameter set."""
        return self.recovered_trial_params[param_id]
