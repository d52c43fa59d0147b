"""Types for static checking, with NNI's names (``nni.typehint``)."""

from typing import Any, Dict, Optional, TypedDict

__all__ = ['Parameters', 'SearchSpace', 'TrialMetric', 'TrialRecord', 'ParameterRecord']

Parameters = Dict[str, Any]
"""What ``nni.get_next_parameter()`` returns: for hyper-parameter search spaces, a
dict from parameter name to value (``{"_name": ..., ...}`` for a nested choice)."""

SearchSpace = Dict[str, Any]
"""An NNI search space: ``{name: {"_type": ..., "_value": [...]}}``."""

TrialMetric = float
"""A metric: a number (int, float, numpy scalar), or a dict whose ``default`` is one."""


class TrialRecord(TypedDict):
    parameter: Parameters
    value: TrialMetric


class _ParameterRecordBase(TypedDict):
    parameter_id: Optional[int]
    parameters: Parameters


class ParameterRecord(_ParameterRecordBase, total=False):
    """A parameter set as NNI's manager records it; ``nni.trial`` keeps the current
    one (``parameter_id``, ``parameters``, ``parameter_source``)."""
    parameter_source: str
    parameter_index: int
    trial_job_id: str
    version_info: dict

