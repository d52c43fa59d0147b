"""What NNI trial and tuner code imports from ``nni.utils``, with NNI's behaviour."""

from __future__ import annotations

import copy
from enum import Enum, unique
from pathlib import Path
from typing import Any

from . import parameter_expressions

__all__ = [
    'OptimizeMode', 'NodeType', 'MetricType', 'split_index', 'extract_scalar_reward',
    'extract_scalar_history', 'convert_dict2tuple', 'json2space', 'json2parameter',
    'merge_parameter', 'ClassArgsValidator',
]


@unique
class OptimizeMode(Enum):
    """Whether a tuner minimises or maximises the trials' reward."""
    Minimize = 'minimize'
    Maximize = 'maximize'


class NodeType:
    """Keys of NNI's search-space JSON."""
    ROOT = 'root'
    TYPE = '_type'
    VALUE = '_value'
    INDEX = '_index'
    NAME = '_name'


class MetricType:
    """Types of metric messages."""
    FINAL = 'FINAL'
    PERIODICAL = 'PERIODICAL'
    REQUEST_PARAMETER = 'REQUEST_PARAMETER'


_INCORRECT_RESULT = ('Incorrect final result: the final result should be float/int, '
                     'or a dict which has a key named "default" whose value is float/int.')


def split_index(params: Any) -> Any:
    """Drops the ``_index`` bookkeeping tuners keep in parameters: every
    ``{"_index": i, "_value": v}`` becomes ``v`` (recursively)."""
    if isinstance(params, dict):
        if NodeType.INDEX in params:
            return split_index(params[NodeType.VALUE])
        return {key: split_index(val) for key, val in params.items()}
    return params


def extract_scalar_reward(value: Any, scalar_key: str = 'default') -> Any:
    """The number a tuner optimises: ``value`` itself (int/float), or
    ``value[scalar_key]``; ``RuntimeError`` otherwise."""
    if isinstance(value, (float, int)):
        return value
    if isinstance(value, dict) and scalar_key in value and isinstance(value[scalar_key], (float, int)):
        return value[scalar_key]
    raise RuntimeError(_INCORRECT_RESULT)


def extract_scalar_history(trial_history: list, scalar_key: str = 'default') -> list:
    """:func:`extract_scalar_reward` of each intermediate result."""
    return [extract_scalar_reward(ele, scalar_key) for ele in trial_history]


def convert_dict2tuple(value: Any) -> Any:
    """Dicts (recursively) to sorted tuples of items, to make them hashable.
    Changes the dicts inside ``value`` in place, as NNI's does."""
    if isinstance(value, dict):
        for key in value:
            value[key] = convert_dict2tuple(value[key])
        return tuple(sorted(value.items()))
    return value


def json2space(x: Any, oldy: Any = None, name: str = NodeType.ROOT) -> list:
    """The names of a search space's random variables, hyperopt style
    (``root[lr]-loguniform``); with ``oldy`` (a parameter set with ``_index``), only
    those of the chosen branches."""
    names = []
    if isinstance(x, dict):
        if NodeType.TYPE in x:
            _type = x[NodeType.TYPE]
            name = name + '-' + _type
            if _type == 'choice':
                if oldy is not None:
                    index = oldy[NodeType.INDEX]
                    names += json2space(x[NodeType.VALUE][index], oldy[NodeType.VALUE],
                                        name=name + '[%d]' % index)
                else:
                    names += json2space(x[NodeType.VALUE], None, name=name)
            names.append(name)
        else:
            for key in x:
                names += json2space(x[key], oldy[key] if oldy else None, name + '[%s]' % str(key))
    elif isinstance(x, list):
        for i, item in enumerate(x):
            if isinstance(item, dict) and NodeType.NAME not in item:
                raise RuntimeError('\'_name\' key is not found in this nested search space.')
            names += json2space(item, oldy[i] if oldy else None, name + '[%d]' % i)
    return names


def json2parameter(x: Any, is_rand: dict, random_state: Any, oldy: Any = None,
                   Rand: bool = False, name: str = NodeType.ROOT) -> Any:  # pylint: disable=invalid-name
    """Samples a parameter set from search space ``x`` (choices as
    ``{"_index": i, "_value": v}``), re-drawing the variables ``is_rand`` marks and
    keeping the rest from ``oldy``. ``random_state`` is a ``numpy.random.RandomState``
    (or anything with its ``randint``/``uniform``/``normal``/``choice``)."""
    if isinstance(x, dict):
        if NodeType.TYPE in x:
            _type = x[NodeType.TYPE]
            _value = x[NodeType.VALUE]
            name = name + '-' + _type
            Rand |= is_rand[name]
            if Rand is True:
                if _type == 'choice':
                    index = random_state.randint(len(_value))
                    return {
                        NodeType.INDEX: index,
                        NodeType.VALUE: json2parameter(x[NodeType.VALUE][index], is_rand, random_state,
                                                       None, Rand, name=name + '[%d]' % index),
                    }
                return getattr(parameter_expressions, _type)(*(list(_value) + [random_state]))
            return copy.deepcopy(oldy)
        return {key: json2parameter(x[key], is_rand, random_state, oldy[key] if oldy else None,
                                    Rand, name + '[%s]' % str(key))
                for key in x}
    if isinstance(x, list):
        result = []
        for i, item in enumerate(x):
            if isinstance(item, dict) and NodeType.NAME not in item:
                raise RuntimeError('\'_name\' key is not found in this nested search space.')
            result.append(json2parameter(item, is_rand, random_state, oldy[i] if oldy else None,
                                         Rand, name + '[%d]' % i))
        return result
    return copy.deepcopy(x)


def merge_parameter(base_params: Any, override_params: Any) -> Any:
    """Overrides entries of ``base_params`` (an ``argparse.Namespace``, any object with
    attributes, or a dict) with ``override_params`` (a dict, usually
    ``nni.get_next_parameter()``), in place; returns ``base_params``.

    ``None`` overrides nothing. A key missing from ``base_params`` raises
    ``ValueError("Key 'x' not found in base parameters.")``. A value must have the base
    value's type (an int is turned into a float where the base is a float; anything
    goes where the base is ``None``), else ``ValueError``.
    """
    if override_params is None:
        return base_params
    is_dict = isinstance(base_params, dict)
    for key, value in override_params.items():
        if is_dict:
            if key not in base_params:
                raise ValueError('Key \'%s\' not found in base parameters.' % key)
            base_params[key] = _ensure_compatible_type(key, base_params[key], value)
        else:
            if not hasattr(base_params, key):
                raise ValueError('Key \'%s\' not found in base parameters.' % key)
            setattr(base_params, key, _ensure_compatible_type(key, getattr(base_params, key), value))
    return base_params


def _ensure_compatible_type(key: str, base: Any, override: Any) -> Any:
    if base is None:
        return override
    if isinstance(override, type(base)):
        return override
    if isinstance(base, float) and isinstance(override, int):
        return float(override)
    raise ValueError('Expected "%s" in override parameters to have type %s, but found %s'
                     % (key, type(base).__name__, type(override).__name__))


class _Checks:
    """A stand-in for ``schema.And`` when the ``schema`` package is missing:
    ``validate(value)`` returns ``value`` or raises ``ValueError`` with the first
    failing check's message."""

    def __init__(self, *checks):
        self._checks = checks  # (type or predicate, error message)

    def validate(self, value):
        for check, error in self._checks:
            ok = isinstance(value, check) if isinstance(check, type) else check(value)
            if not ok:
                raise ValueError(error)
        return value


def _and(*checks):
    """``schema.And`` of the checks when ``schema`` is installed (as NNI), else :class:`_Checks`."""
    try:
        import schema  # pylint: disable=import-outside-toplevel
    except ImportError:
        return _Checks(*checks)
    return schema.And(*(schema.And(check, error=error) for check, error in checks))


class ClassArgsValidator:
    """Base of tuner/assessor ``classArgs`` validators (NNI's interface). The helper
    methods return ``schema`` objects when the ``schema`` package is installed, as in
    NNI, and small stand-ins with ``validate()`` otherwise."""

    def validate_class_args(self, **kwargs):
        """Raises if ``kwargs`` (the tuner's constructor arguments) are invalid."""

    def choices(self, key, *args):
        """Checks that ``key``'s value is one of ``args``."""
        return _and((lambda n: n in args, '%s should be in [%s]!' % (key, str(args))))

    def range(self, key, keyType, start, end):  # pylint: disable=invalid-name
        """Checks that ``key``'s value is a ``keyType`` in ``[start, end]``."""
        return _and((keyType, '%s should be %s type!' % (key, keyType.__name__)),
                    (lambda n: start <= n <= end, '%s should be in range of (%s, %s)!' % (key, start, end)))

    def path(self, key):
        """Checks that ``key``'s value is a path that exists."""
        return _and((str, '%s should be a string!' % key),
                    (lambda p: Path(p).exists(), '%s path does not exist!' % key))
