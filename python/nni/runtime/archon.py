"""archon's trial protocol, seen from a trial.

Parameters come in as JSON, in the file ``ARCHON_PARAMETERS_FILE`` names (small ones
also in ``ARCHON_PARAMETERS``), in archon's NNI-NAS-like form: every parameter is an
object, ``{"_value": v, "_idx": i}`` for a choice, ``{"_value": x}`` for a number, and
a nested choice (NNI's ``_name`` candidates) carries its active branch's
sub-parameters inside its own entry::

    {"layer": {"_value": "conv", "_idx": 1,
               "kernel": {"_value": 5, "_idx": 1}, "lr": {"_value": 0.01}}}

:func:`to_hpo_parameters` turns that into what NNI's ``get_next_parameter()`` returns
for a hyper-parameter search space::

    {"layer": {"_name": "conv", "kernel": 5, "lr": 0.01}}

Metrics go out as stdout lines ``ARCHON_METRIC <JSON>`` (:func:`metric_line`).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, Mapping, Optional

__all__ = [
    'PARAMETERS_FILE_ENV', 'PARAMETERS_ENV', 'SEARCH_SPACE_FILE_ENV', 'METRIC_PREFIX',
    'BAD_METRIC_MESSAGE', 'in_archon', 'read_raw_parameters', 'read_search_space',
    'to_hpo_parameters', 'from_hpo_parameters', 'json_fallback', 'scalar', 'metric_payload', 'metric_line', 'emit_line',
]

PARAMETERS_FILE_ENV = 'ARCHON_PARAMETERS_FILE'
PARAMETERS_ENV = 'ARCHON_PARAMETERS'
# Optional: the experiment's NNI search space. Only needed to tell a `_name` candidate
# without sub-parameters ({"_name": "empty"}) from a plain string choice, which the
# parameters alone cannot (both arrive as {"_value": "empty", "_idx": 0}).
SEARCH_SPACE_FILE_ENV = 'ARCHON_SEARCH_SPACE_FILE'
METRIC_PREFIX = 'ARCHON_METRIC'

# NNI's own wording (nni.utils.extract_scalar_reward), kept because users search for it.
BAD_METRIC_MESSAGE = ('Incorrect final result: the final result should be float/int, '
                      'or a dict which has a key named "default" whose value is float/int.')

_ENTRY_KEYS = ('_value', '_idx')


def in_archon(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this process is an archon trial (archon gave it parameters)."""
    env = os.environ if environ is None else environ
    return bool(env.get(PARAMETERS_FILE_ENV) or env.get(PARAMETERS_ENV))


def read_raw_parameters(environ: Optional[Mapping[str, str]] = None) -> Any:
    """The trial's parameters as archon gave them (parsed JSON, archon's form).

    The file is read first (it always holds them all); ``ARCHON_PARAMETERS`` is the
    fallback when the file cannot be read.
    """
    env = os.environ if environ is None else environ
    path = env.get(PARAMETERS_FILE_ENV)
    text = None
    source = PARAMETERS_ENV
    file_error = None
    if path:
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read()
            source = '%s (%s)' % (PARAMETERS_FILE_ENV, path)
        except OSError as e:
            file_error = e
    if text is None:
        text = env.get(PARAMETERS_ENV) or None
    if text is None:
        if file_error is not None:
            raise RuntimeError('archon: cannot read the trial parameters from %s=%s: %s'
                               % (PARAMETERS_FILE_ENV, path, file_error))
        raise RuntimeError('archon: no trial parameters: neither %s nor %s is set'
                           % (PARAMETERS_FILE_ENV, PARAMETERS_ENV))
    try:
        return json.loads(text)
    except ValueError as e:
        raise RuntimeError('archon: the trial parameters in %s are not JSON: %s' % (source, e)) from None


def read_search_space(environ: Optional[Mapping[str, str]] = None) -> Optional[dict]:
    """The search space named by ``ARCHON_SEARCH_SPACE_FILE``, or ``None`` (unset or
    unreadable: the conversion then works from the parameters alone)."""
    env = os.environ if environ is None else environ
    path = env.get(SEARCH_SPACE_FILE_ENV)
    if not path:
        return None
    try:
        with open(path, encoding='utf-8') as f:
            space = json.load(f)
    except (OSError, ValueError) as e:
        import logging
        logging.getLogger('nni').warning('ignoring %s=%s: %s', SEARCH_SPACE_FILE_ENV, path, e)
        return None
    return space if isinstance(space, dict) else None


def to_hpo_parameters(raw: Any, search_space: Optional[dict] = None) -> Any:
    """archon's parameter form -> the form NNI's HPO tuners hand to trials.

    An entry with sub-parameters (keys besides ``_value``/``_idx``) is a nested choice
    and becomes ``{"_name": <_value>, <key>: <converted sub-parameter>, ...}``; any
    other entry becomes its ``_value``, untouched (it may be any JSON: a list, a dict,
    null). Entries that are not archon-form objects pass through unchanged. With
    ``search_space`` given, a choice whose chosen candidate is a ``_name`` object
    becomes ``{"_name": ...}`` even when it has no sub-parameters.
    """
    if not isinstance(raw, dict):
        return raw
    return {key: _convert_entry(entry, _space_entry(search_space, key))
            for key, entry in raw.items()}


def _space_entry(space: Any, key: str) -> Any:
    return space.get(key) if isinstance(space, dict) else None


def _chosen_named_candidate(space_entry: Any, entry: dict) -> Optional[dict]:
    """The search space's `_name` candidate this choice picked, if the space says so."""
    if not isinstance(space_entry, dict) or space_entry.get('_type') != 'choice':
        return None
    candidates = space_entry.get('_value')
    if not isinstance(candidates, list):
        return None
    idx = entry.get('_idx')
    if isinstance(idx, int) and not isinstance(idx, bool) and 0 <= idx < len(candidates):
        chosen = candidates[idx]
        if isinstance(chosen, dict) and '_name' in chosen and chosen['_name'] == entry['_value']:
            return chosen
        return None
    for chosen in candidates:
        if isinstance(chosen, dict) and '_name' in chosen and chosen['_name'] == entry['_value']:
            return chosen
    return None


def _convert_entry(entry: Any, space_entry: Any) -> Any:
    if not isinstance(entry, dict) or '_value' not in entry:
        return entry
    value = entry['_value']
    sub_keys = [k for k in entry if k not in _ENTRY_KEYS]
    candidate = _chosen_named_candidate(space_entry, entry)
    if not sub_keys and candidate is None:
        return value
    converted = {'_name': value}
    for k in sub_keys:
        converted[k] = _convert_entry(entry[k], _space_entry(candidate, k))
    return converted


def batch_parameters(parameters: Any) -> Any:
    """NNI's BatchTuner: the space is one ``choice`` of parameter sets, and a trial
    receives the chosen set itself (``{"x": 0, "y": 1}``), not
    ``{"combine_params": {"x": 0, "y": 1}}``."""
    if isinstance(parameters, dict) and len(parameters) == 1:
        (chosen,) = parameters.values()
        return chosen
    return parameters


def from_hpo_parameters(params: Any, search_space: dict) -> Any:
    """The reverse of :func:`to_hpo_parameters`: parameters in NNI's HPO form (what an
    NNI tuner's ``generate_parameters`` returns: plain values, ``{"_name": ...}`` for a
    nested choice) -> archon's form, with each choice's ``_idx`` found in
    ``search_space``. Entries already in archon's form pass through; a value the space
    does not hold raises ``ValueError`` naming the parameter."""
    if not isinstance(params, dict) or not isinstance(search_space, dict):
        return params
    return {key: _from_hpo_entry(key, value, search_space.get(key))
            for key, value in params.items()}


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _plain(value: Any) -> Any:
    """numpy scalars and the like (``.item()``) as plain Python numbers."""
    if isinstance(value, (dict, list, str, bool, int, float)) or value is None:
        return value
    item = getattr(value, 'item', None)
    if callable(item):
        try:
            return item()
        except Exception:  # pylint: disable=broad-except
            return value
    return value


def _from_hpo_entry(key: str, value: Any, entry: Any) -> Any:
    value = _plain(value)
    if isinstance(value, dict) and '_value' in value:
        return value  # already archon's form
    if not isinstance(entry, dict):
        return value
    kind, values = entry.get('_type'), entry.get('_value')
    if kind in ('choice', 'layer_choice') and isinstance(values, list):
        named = [c for c in values if isinstance(c, dict) and '_name' in c]
        if named and len(named) == len(values):
            name = value.get('_name') if isinstance(value, dict) else value
            for idx, candidate in enumerate(values):
                if _same(candidate['_name'], name):
                    out = {'_value': name, '_idx': idx}
                    if isinstance(value, dict):
                        for sub, sub_value in value.items():
                            if sub != '_name':
                                out[sub] = _from_hpo_entry(sub, sub_value, candidate.get(sub))
                    return out
            raise ValueError(f'{key}: {name!r} is not one of the choice\'s names')
        for idx, candidate in enumerate(values):
            if _same(candidate, value):
                return {'_value': candidate, '_idx': idx}
        raise ValueError(f'{key}: {value!r} is not one of the choice\'s values')
    if kind == 'randint' and isinstance(values, list) and len(values) == 2:
        lower = int(-(-values[0] // 1))  # NNI rounds the lower bound up
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value != int(value):
            raise ValueError(f'{key}: {value!r} is not an integer of the randint')
        if not lower <= value < values[1]:
            raise ValueError(f'{key}: {value!r} is outside the randint\'s range '
                             f'[{values[0]}, {values[1]})')
        return {'_value': int(value), '_idx': int(value) - lower}
    if kind == 'input_choice' and isinstance(values, dict):
        candidates = values.get('candidates', [])
        chosen = value if isinstance(value, list) else [value]
        idx = sorted(candidates.index(v) for v in chosen)
        return {'_value': [candidates[i] for i in idx], '_idx': idx}
    return {'_value': value}


def scalar(value: Any) -> Any:
    """``value`` as a plain int or float if it is one (numpy scalars, one-element
    arrays and tensors included, through ``.item()``); ``None`` otherwise. A bool
    counts as the int it is in Python (NNI accepts it too)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (str, bytes, bytearray, dict, list, tuple)) or value is None:
        return None
    item = getattr(value, 'item', None)
    if callable(item):
        try:
            plain = item()
        except Exception:  # pylint: disable=broad-except
            return None
        if isinstance(plain, bool):
            return int(plain)
        if isinstance(plain, int):
            return int(plain)
        if isinstance(plain, float):
            return float(plain)
    return None


def metric_payload(metric: Any) -> dict:
    """The JSON object of a metric line for ``metric`` (a number, or a dict whose
    ``default`` is one); raises NNI's ``RuntimeError`` for any other shape."""
    if isinstance(metric, dict):
        if 'default' not in metric:
            raise RuntimeError(BAD_METRIC_MESSAGE)
        default = scalar(metric['default'])
        if default is None:
            raise RuntimeError(BAD_METRIC_MESSAGE)
        payload = {'default': default}
        for key, val in metric.items():
            if key != 'default':
                payload[key] = val
        return payload
    default = scalar(metric)
    if default is None:
        raise RuntimeError(BAD_METRIC_MESSAGE)
    return {'default': default}


def json_fallback(obj: Any) -> Any:
    # Extra keys beside "default" are kept for display; never fail the trial over them.
    for name in ('tolist', 'item'):
        fn = getattr(obj, name, None)
        if callable(fn):
            try:
                return fn()
            except Exception:  # pylint: disable=broad-except
                pass
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    return str(obj)


def metric_line(payload: dict) -> str:
    """``ARCHON_METRIC <JSON>``, one line, ASCII. NaN and infinities are written as
    Python (and NNI) write them (``NaN``, ``Infinity``), which is not JSON: archon
    refuses such a line, as it refuses any non-finite ``default``."""
    text = json.dumps(payload, default=json_fallback, ensure_ascii=True, allow_nan=True)
    return '%s %s' % (METRIC_PREFIX, text)


_emit_lock = threading.Lock()


def emit_line(line: str, stream: Any = None) -> None:
    """Writes ``line`` and a newline to the process's real stdout and flushes at once
    (the trial may be killed any moment). Output the user buffered in a replaced
    ``sys.stdout`` is flushed first, so lines keep their order."""
    with _emit_lock:
        if stream is not None:
            stream.write(line + '\n')
            stream.flush()
            return
        out = sys.__stdout__ or sys.stdout
        current = sys.stdout
        if current is not None and current is not out:
            try:
                current.flush()
            except Exception:  # pylint: disable=broad-except
                pass
        if out is None:
            os.write(1, (line + '\n').encode('ascii', 'backslashreplace'))
            return
        out.write(line + '\n')
        out.flush()
