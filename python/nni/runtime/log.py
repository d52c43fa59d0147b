"""Logging set up on ``import nni``, as NNI does it (without colours).

* In an archon trial (NNI's "trial on a platform" case) the root logger gets a
  handler at INFO, so the trial's own ``logging.info`` lines show up in its log as
  they do in NNI's ``trial.log``. It writes to stdout, which archon keeps as the
  trial's log (NNI writes ``trial.log`` instead; archon has no use for that file).
* Standalone, the ``nni`` logger prints INFO and above to stdout, so
  ``report_final_result`` shows ``[time] Final result: 0.9`` as under NNI.
* ``NNI_PLATFORM=unittest``: nothing, as in NNI.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Dict, Mapping, Optional

__all__ = ['enable_global_logging', 'silence_stdout']

_nni_logger = logging.getLogger('nni')
_root_logger = _nni_logger  # where NNI's handlers live (the root logger after enable_global_logging)
_handlers: Dict[str, logging.Handler] = {}
_global_logging_enabled = False
_initialized = False

_TIME_FORMAT = '%Y-%m-%d %H:%M:%S'
_TRIAL_FORMAT = '[%(asctime)s] %(levelname)s (%(name)s/%(threadName)s) %(message)s'


class _StdoutFormatter(logging.Formatter):
    """NNI's console format: ``[time] message``, with ``WARNING: ``/``ERROR: `` in front
    of those levels and the logger's name on debug lines."""

    def __init__(self):
        super().__init__('[%(asctime)s] %(message)s', _TIME_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.ERROR:
            content = 'ERROR: ' + record.message
        elif record.levelno >= logging.WARNING:
            content = 'WARNING: ' + record.message
        elif record.levelno >= logging.INFO:
            content = record.message
        elif record.threadName == 'MainThread':
            content = '%s %s' % (record.name, record.message)
        else:
            content = '%s:%s %s' % (record.threadName, record.name, record.message)
        return '[%s] %s' % (record.asctime, content)


def start_stdout_logging() -> None:
    """Prints the ``nni`` logger's INFO and above to stdout (safe to call twice)."""
    if '_stdout_' in _handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_StdoutFormatter())
    _handlers['_stdout_'] = handler
    _root_logger.addHandler(handler)


def silence_stdout() -> None:
    """Stops NNI's (here: the shim's) console logging."""
    handler = _handlers.pop('_stdout_', None)
    if handler is not None:
        _root_logger.removeHandler(handler)


def enable_global_logging(enable: bool = True) -> None:
    """Moves NNI's handlers to the root logger (``True``) or back to ``nni`` (``False``)."""
    global _global_logging_enabled, _root_logger
    if enable == _global_logging_enabled:
        return
    if enable:
        logging.getLogger().setLevel(_nni_logger.getEffectiveLevel())
    new_root = logging.getLogger() if enable else _nni_logger
    for handler in _handlers.values():
        _root_logger.removeHandler(handler)
        new_root.addHandler(handler)
    _root_logger = new_root
    _global_logging_enabled = enable


def _init_trial_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(_TRIAL_FORMAT, _TIME_FORMAT))
    _handlers['_default_'] = handler
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def init_logger(environ: Optional[Mapping[str, str]] = None) -> None:
    """Runs once, on the first ``import nni``."""
    global _initialized
    if _initialized:
        return
    _initialized = True
    env = os.environ if environ is None else environ
    _nni_logger.setLevel(logging.INFO)
    if env.get('NNI_PLATFORM') == 'unittest':
        return
    from .archon import in_archon
    if in_archon(env):
        _init_trial_logging()
    else:
        start_stdout_logging()
