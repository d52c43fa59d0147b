"""The loop shared by archon's bridges to a user's NNI class (``tuner_bridge``,
``assessor_bridge``): create the class named in an environment variable with the
``classArgs`` of another, then answer one JSON request per stdin line with one JSON
reply per stdout line. Everything the class prints goes to stderr, so it cannot break
the protocol; an exception in a request is replied as ``{"ok": false, "error": ...}``
and the loop goes on; one while creating the class ends the process after replying.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any, Callable

from .archon import json_fallback


def load_class(spec: str) -> type:
    """``module.Class`` (``file.Class`` for ``file.py`` on the path) -> the class."""
    module_name, _, class_name = spec.rpartition('.')
    if not module_name or not class_name:
        raise ValueError(f'className {spec!r}: write MODULE.CLASS, e.g. my_tuner.MyTuner')
    module = importlib.import_module(module_name)
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ValueError(f'className {spec!r}: {module_name} has no {class_name}') from None


def describe(error: BaseException) -> str:
    """The exception and where it was raised (its last frame), on one line."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ''
    if frames:
        last = frames[-1]
        where = f' (at {os.path.basename(last.filename)}:{last.lineno} in {last.name})'
    return f'{type(error).__name__}: {error}{where}'


def _seed_from_env() -> None:
    seed = os.environ.get('ARCHON_SEED')
    if seed is not None and seed.isdigit():
        import random
        random.seed(int(seed))
        try:
            import numpy
            numpy.random.seed(int(seed) % 2**32)
        except ImportError:
            pass


def serve(class_env: str, args_env: str, handler: Callable[[Any], Callable[[dict], dict]]) -> int:
    """Creates the class named in ``class_env`` with the JSON arguments in ``args_env``,
    then answers requests with ``handler(instance)`` until stdin closes."""
    out = sys.stdout
    sys.stdout = sys.stderr  # the class's prints must not reach the protocol

    def reply(obj: dict) -> None:
        try:
            text = json.dumps(obj, default=json_fallback)
        except (TypeError, ValueError) as e:
            text = json.dumps({'ok': False, 'error': f'the reply is not JSON: {describe(e)}'})
        out.write(text + '\n')
        out.flush()

    spec = os.environ.get(class_env, '')
    _seed_from_env()
    try:
        args = json.loads(os.environ.get(args_env) or '{}')
        if not isinstance(args, dict):
            raise ValueError(f'classArgs must be a mapping, found {args!r}')
        instance = load_class(spec)(**args)
    except BaseException as e:  # noqa: BLE001 - reported to archon, then exit
        reply({'ok': False, 'error': f'creating {spec}: {describe(e)}'})
        return 1
    reply({'ok': True, 'ready': spec})
    handle = handler(instance)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            response = handle(json.loads(line))
        except Exception as e:  # noqa: BLE001 - the user's class failed: say so, go on
            traceback.print_exc(file=sys.stderr)
            response = {'ok': False, 'error': describe(e)}
        reply(response)
    return 0
