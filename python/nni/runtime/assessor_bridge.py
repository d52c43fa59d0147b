"""Hosts a user's NNI assessor class for archon's experiment manager.

Run as ``python3 -m nni.runtime.assessor_bridge`` with the class in
``ARCHON_ASSESSOR_CLASS`` (``module.Class`` from NNI's ``className``; the code directory
on ``sys.path``) and its ``classArgs`` as JSON in ``ARCHON_ASSESSOR_ARGS``. It speaks
one JSON object per line, as ``tuner_bridge`` does (see ``class_host``).

Requests (``op``) and their replies::

    (start)                                       -> {"ok": true, "ready": "module.Class"}
    {"op": "assess_trial", "trial_job_id": "3", "trial_history": [0.5, 0.6]}
                                                  -> {"ok": true, "good": true}
    {"op": "trial_end", "trial_job_id": "3", "success": true}     -> {"ok": true}

``trial_history`` holds the trial's intermediate results as it reported them (numbers,
or dicts with ``default``), oldest first, as NNI's dispatcher passes them. As in NNI,
``assess_trial`` may return an :class:`nni.assessor.AssessResult` or a bool; anything
else is an error.
"""

from __future__ import annotations

import sys
from typing import Any

from ..assessor import AssessResult
from .class_host import serve

CLASS_ENV = 'ARCHON_ASSESSOR_CLASS'
ARGS_ENV = 'ARCHON_ASSESSOR_ARGS'


class Bridge:
    def __init__(self, assessor: Any) -> None:
        self.assessor = assessor

    def handle(self, request: dict) -> dict:
        op = request.get('op')
        if op == 'assess_trial':
            result = self.assessor.assess_trial(request['trial_job_id'], request['trial_history'])
            if isinstance(result, bool):
                result = AssessResult.Good if result else AssessResult.Bad
            if not isinstance(result, AssessResult):
                raise RuntimeError('Result of Assessor.assess_trial must be an object of '
                                   f'AssessResult, not {type(result)}')
            return {'ok': True, 'good': result is AssessResult.Good}
        if op == 'trial_end':
            self.assessor.trial_end(request['trial_job_id'], request['success'])
            return {'ok': True}
        return {'ok': False, 'error': f'unknown request {op!r}'}


def main() -> int:
    return serve(CLASS_ENV, ARGS_ENV, lambda assessor: Bridge(assessor).handle)


if __name__ == '__main__':
    sys.exit(main())
