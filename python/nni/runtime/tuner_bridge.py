"""Hosts a user's NNI tuner class for archon's `python` tuner plugin.

Run as ``python3 -m nni.runtime.tuner_bridge`` with the class in ``ARCHON_TUNER_CLASS``
(``module.Class`` or ``file.Class`` from NNI's ``className``; the code directory on
``sys.path``) and its ``classArgs`` as JSON in ``ARCHON_TUNER_ARGS``. It speaks one JSON
object per line: requests on stdin, one reply per request on stdout. Everything the
class prints goes to stderr, so it cannot break the protocol.

Requests (``op``) and their replies::

    (start)                                       -> {"ok": true, "ready": "module.Class"}
    {"op": "update_search_space", "search_space": {...}}          -> {"ok": true}
    {"op": "generate_parameters", "id": 3}  -> {"ok": true, "parameters": {archon form}}
    {"op": "receive_trial_result", "id": 3, "parameters": {archon form},
     "value": 0.9 or {"default": 0.9, ...}}                       -> {"ok": true}
    {"op": "trial_end", "id": 3, "success": true}                 -> {"ok": true}
    {"op": "import_data", "data": [{"parameter": {archon form}, "value": ...}]}
                                                                  -> {"ok": true}

Results and ends of trials the class did not generate (archon's pre-filter runs some)
reach it only when it accepts customised trials (``customized=True``), as in NNI.
A failure replies ``{"ok": false, "error": "<exception and its last frame>"}``, and
``"no_more_trials": true`` when ``generate_parameters`` raised
:class:`nni.NoMoreTrialError`. The tuner sees parameters in NNI's HPO form and its
returned parameters are turned back into archon's form with the search space.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import nni

from .archon import from_hpo_parameters, to_hpo_parameters
from .class_host import serve

CLASS_ENV = 'ARCHON_TUNER_CLASS'
ARGS_ENV = 'ARCHON_TUNER_ARGS'


class Bridge:
    def __init__(self, tuner: Any) -> None:
        self.tuner = tuner
        self.space: dict = {}
        # The ids the class generated: results of others (archon's pre-filter runs
        # trials of its own) reach it only if it accepts customised trials, as in NNI.
        self.generated: set = set()

    def _customized(self, parameter_id: int) -> Optional[dict]:
        """``None`` for the class's own trial; for another's, ``{'customized': True}``
        when the class accepts customised trials (pass it on), else ``{}`` (skip it)."""
        if parameter_id in self.generated:
            return None
        return {'customized': True} if getattr(self.tuner, '_accept_customized', False) else {}

    def handle(self, request: dict) -> dict:
        op = request.get('op')
        if op == 'update_search_space':
            self.space = request['search_space']
            self.tuner.update_search_space(self.space)
            return {'ok': True}
        if op == 'generate_parameters':
            # NNI's dispatcher asks for a list; the base class turns it into
            # generate_parameters calls and an empty list at NoMoreTrialError.
            try:
                batch = self.tuner.generate_multiple_parameters([request['id']])
            except nni.NoMoreTrialError as e:
                return {'ok': False, 'no_more_trials': True, 'error': str(e)}
            if not batch:
                return {'ok': False, 'no_more_trials': True, 'error': 'no more parameters'}
            self.generated.add(request['id'])
            return {'ok': True, 'parameters': from_hpo_parameters(batch[0], self.space)}
        if op == 'receive_trial_result':
            extra = self._customized(request['id'])
            if extra == {}:
                return {'ok': True, 'skipped': True}
            params = to_hpo_parameters(request['parameters'], self.space)
            self.tuner.receive_trial_result(request['id'], params, request['value'], **(extra or {}))
            return {'ok': True}
        if op == 'trial_end':
            if request['id'] not in self.generated:
                return {'ok': True, 'skipped': True}
            self.tuner.trial_end(request['id'], request['success'])
            return {'ok': True}
        if op == 'import_data':
            data = [{'parameter': to_hpo_parameters(d['parameter'], self.space),
                     'value': d['value']} for d in request['data']]
            self.tuner.import_data(data)
            return {'ok': True}
        return {'ok': False, 'error': f'unknown request {op!r}'}


def main() -> int:
    return serve(CLASS_ENV, ARGS_ENV, lambda tuner: Bridge(tuner).handle)


if __name__ == '__main__':
    sys.exit(main())
