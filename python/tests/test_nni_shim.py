"""Tests of archon's NNI shim (``python/nni``). Run from the repository root:

    python3 -m unittest discover -s python/tests -v
"""

import argparse
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

SHIM_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SHIM_DIR))

import nni  # noqa: E402  (the shim, from SHIM_DIR)
import nni.trial  # noqa: E402
from nni.assessor import AssessResult, Assessor  # noqa: E402
from nni.recoverable import Recoverable  # noqa: E402
from nni.runtime import archon  # noqa: E402
from nni.runtime.env_vars import trial_env_vars  # noqa: E402
from nni.trial import _TrialRuntime  # noqa: E402
from nni.tuner import Tuner  # noqa: E402
from nni.utils import (  # noqa: E402
    ClassArgsValidator, OptimizeMode, convert_dict2tuple, extract_scalar_history,
    extract_scalar_reward, json2parameter, json2space, merge_parameter, split_index)

try:
    import numpy
except ImportError:
    numpy = None

BAD = ('Incorrect final result: the final result should be float/int, '
       'or a dict which has a key named "default" whose value is float/int.')

NESTED_SPACE = {
    'layer': {'_type': 'choice', '_value': [
        {'_name': 'empty'},
        {'_name': 'conv', 'kernel': {'_type': 'choice', '_value': [3, 5]},
         'lr': {'_type': 'loguniform', '_value': [0.001, 0.1]}},
        {'_name': 'pool', 'kind': {'_type': 'choice', '_value': [
            {'_name': 'max'},
            {'_name': 'avg', 'size': {'_type': 'randint', '_value': [2, 4]}}]}}]},
    'act': {'_type': 'choice', '_value': ['empty', 'relu']},
}


def setUpModule():
    assert Path(nni.__file__).resolve().parent == SHIM_DIR / 'nni', nni.__file__
    nni.silence_stdout()  # keep the test output clean; assertLogs still sees records


def archon_runtime(params, **env):
    """An archon-mode runtime whose metric lines go to a StringIO (returned too)."""
    env.setdefault('ARCHON_PARAMETERS', json.dumps(params))
    out = io.StringIO()
    return _TrialRuntime(environ=env, stream=out), out


def lines(out):
    return out.getvalue().splitlines()


class FakeScalar:
    """Quacks like a numpy scalar: not an int/float, has .item()."""

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


class FakeArray:
    def tolist(self):
        return [1, 2, 3]


class ConversionTests(unittest.TestCase):
    def test_flat_choices_and_numbers(self):
        raw = {'C': {'_value': 0.5}, 'kernel': {'_value': 'rbf', '_idx': 1},
               'epochs': {'_value': 3}, 'zero': {'_value': 0}, 'flag': {'_value': True, '_idx': 0}}
        got = archon.to_hpo_parameters(raw)
        self.assertEqual(got, {'C': 0.5, 'kernel': 'rbf', 'epochs': 3, 'zero': 0, 'flag': True})
        self.assertIsInstance(got['epochs'], int)

    def test_nested_choice_as_in_the_brief(self):
        raw = {'layer': {'_value': 'conv', '_idx': 1,
                         'kernel': {'_value': 5, '_idx': 1}, 'lr': {'_value': 0.01}}}
        self.assertEqual(archon.to_hpo_parameters(raw),
                         {'layer': {'_name': 'conv', 'kernel': 5, 'lr': 0.01}})

    def test_nested_two_levels(self):
        raw = {'layer': {'_value': 'pool', '_idx': 2,
                         'kind': {'_value': 'avg', '_idx': 1, 'size': {'_value': 3}}},
               'width': {'_value': 32, '_idx': 1}}
        self.assertEqual(archon.to_hpo_parameters(raw),
                         {'layer': {'_name': 'pool', 'kind': {'_name': 'avg', 'size': 3}}, 'width': 32})

    def test_choice_values_are_returned_untouched(self):
        raw = {
            'list': {'_value': [1, [2, 3]], '_idx': 0},
            'dict': {'_value': {'a': 1, 'b': [2]}, '_idx': 1},
            'looks_like_entry': {'_value': {'_value': 3, '_idx': 0}, '_idx': 2},
            'null': {'_value': None, '_idx': 3},
            'num': {'_value': 1e-05},
        }
        self.assertEqual(archon.to_hpo_parameters(raw), {
            'list': [1, [2, 3]],
            'dict': {'a': 1, 'b': [2]},
            'looks_like_entry': {'_value': 3, '_idx': 0},
            'null': None,
            'num': 1e-05,
        })

    def test_entries_not_in_archon_form_pass_through(self):
        self.assertEqual(archon.to_hpo_parameters({'x': 3, 'y': {'a': 1}, 'z': None}),
                         {'x': 3, 'y': {'a': 1}, 'z': None})
        self.assertEqual(archon.to_hpo_parameters([1, 2]), [1, 2])
        self.assertEqual(archon.to_hpo_parameters({}), {})

    def test_named_candidate_without_sub_parameters_needs_the_space(self):
        raw = {'layer': {'_value': 'empty', '_idx': 0}, 'act': {'_value': 'empty', '_idx': 0}}
        # From the parameters alone a `_name` candidate without sub-parameters looks
        # like a plain choice.
        self.assertEqual(archon.to_hpo_parameters(raw), {'layer': 'empty', 'act': 'empty'})
        self.assertEqual(archon.to_hpo_parameters(raw, NESTED_SPACE),
                         {'layer': {'_name': 'empty'}, 'act': 'empty'})
        deep = {'layer': {'_value': 'pool', '_idx': 2, 'kind': {'_value': 'max', '_idx': 0}}}
        self.assertEqual(archon.to_hpo_parameters(deep, NESTED_SPACE),
                         {'layer': {'_name': 'pool', 'kind': {'_name': 'max'}}})
        self.assertEqual(archon.to_hpo_parameters(deep), {'layer': {'_name': 'pool', 'kind': 'max'}})
        # Without `_idx` the candidate is found by name.
        self.assertEqual(archon.to_hpo_parameters({'layer': {'_value': 'empty'}}, NESTED_SPACE),
                         {'layer': {'_name': 'empty'}})


class ReadingTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, obj):
        path = self.dir / name
        path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding='utf-8')
        return str(path)

    def test_from_file(self):
        path = self.write('p.json', {'lr': {'_value': 0.1}})
        env = {'ARCHON_PARAMETERS_FILE': path}
        self.assertTrue(archon.in_archon(env))
        rt = _TrialRuntime(environ=env, stream=io.StringIO())
        self.assertEqual(rt.get_next_parameter(), {'lr': 0.1})

    def test_from_env(self):
        env = {'ARCHON_PARAMETERS': json.dumps({'lr': {'_value': 0.2}})}
        self.assertTrue(archon.in_archon(env))
        rt = _TrialRuntime(environ=env, stream=io.StringIO())
        self.assertEqual(rt.get_next_parameter(), {'lr': 0.2})

    def test_file_wins_and_env_is_the_fallback(self):
        path = self.write('p.json', {'lr': {'_value': 0.1}})
        text = json.dumps({'lr': {'_value': 0.2}})
        self.assertEqual(archon.read_raw_parameters(
            {'ARCHON_PARAMETERS_FILE': path, 'ARCHON_PARAMETERS': text}), {'lr': {'_value': 0.1}})
        missing = str(self.dir / 'gone.json')
        self.assertEqual(archon.read_raw_parameters(
            {'ARCHON_PARAMETERS_FILE': missing, 'ARCHON_PARAMETERS': text}), {'lr': {'_value': 0.2}})

    def test_errors(self):
        self.assertFalse(archon.in_archon({}))
        self.assertFalse(archon.in_archon({'ARCHON_PARAMETERS': ''}))
        with self.assertRaisesRegex(RuntimeError, 'neither ARCHON_PARAMETERS_FILE nor ARCHON_PARAMETERS'):
            archon.read_raw_parameters({})
        missing = str(self.dir / 'gone.json')
        with self.assertRaisesRegex(RuntimeError, 'cannot read the trial parameters'):
            archon.read_raw_parameters({'ARCHON_PARAMETERS_FILE': missing})
        with self.assertRaisesRegex(RuntimeError, 'not JSON'):
            archon.read_raw_parameters({'ARCHON_PARAMETERS': '{oops'})

    def test_nni_dirs_are_created_as_on_nnis_local_platform(self):
        out_dir = self.dir / 'out' / 'trial'
        env = {'ARCHON_PARAMETERS': '{}', 'NNI_OUTPUT_DIR': str(out_dir), 'NNI_SYS_DIR': str(out_dir)}
        rt = _TrialRuntime(environ=env, stream=io.StringIO())
        self.assertFalse(out_dir.exists())
        self.assertEqual(rt.get_next_parameter(), {})
        self.assertTrue(out_dir.is_dir())

    def test_search_space_file(self):
        space = self.write('space.json', NESTED_SPACE)
        env = {'ARCHON_PARAMETERS': json.dumps({'layer': {'_value': 'empty', '_idx': 0}}),
               'ARCHON_SEARCH_SPACE_FILE': space}
        rt = _TrialRuntime(environ=env, stream=io.StringIO())
        self.assertEqual(rt.get_next_parameter(), {'layer': {'_name': 'empty'}})

        env['ARCHON_SEARCH_SPACE_FILE'] = self.write('bad.json', '{oops')
        rt = _TrialRuntime(environ=env, stream=io.StringIO())
        with self.assertLogs('nni', 'WARNING') as logs:
            self.assertEqual(rt.get_next_parameter(), {'layer': 'empty'})
        self.assertIn('ignoring ARCHON_SEARCH_SPACE_FILE', logs.output[0])


class StandaloneTests(unittest.TestCase):
    def setUp(self):
        self.out = io.StringIO()
        self.rt = _TrialRuntime(environ={}, stream=self.out)

    def test_ids(self):
        self.assertFalse(self.rt.archon)
        self.assertEqual((self.rt.experiment_id, self.rt.trial_id, self.rt.sequence_id),
                         ('STANDALONE', 'STANDALONE', 0))
        rt = _TrialRuntime(environ={'NNI_EXP_ID': 'e', 'NNI_TRIAL_JOB_ID': 't', 'NNI_TRIAL_SEQ_ID': '4'})
        self.assertEqual((rt.experiment_id, rt.trial_id, rt.sequence_id), ('e', 't', 4))
        self.assertFalse(rt.archon)

    def test_get_next_parameter_warns_and_returns_empty_dict(self):
        self.assertIsNone(self.rt.get_current_parameter())
        for _ in range(2):
            with self.assertWarnsRegex(RuntimeWarning, 'Running trial code without runtime'):
                self.assertEqual(self.rt.get_next_parameter(), {})
        self.assertEqual(self.rt.get_current_parameter(), {})

    def test_reports_only_log(self):
        with self.assertLogs('nni', 'INFO') as logs:
            self.rt.report_intermediate_result(0.1)
            self.rt.report_intermediate_result({'default': 0.2})
            self.rt.report_final_result(0.5)
        self.assertEqual([r.getMessage() for r in logs.records], [
            'Intermediate result: 0.1  (Index 0)',
            "Intermediate result: {'default': 0.2}  (Index 1)",
            'Final result: 0.5',
        ])
        self.assertEqual(self.out.getvalue(), '')

    def test_bad_metric_is_logged_not_raised(self):
        with self.assertLogs('nni', 'INFO') as logs:
            self.rt.report_final_result('oops')
        self.assertIn(BAD, logs.output[0])
        self.assertEqual(logs.records[-1].getMessage(), 'Final result: oops')


class ArchonTrialTests(unittest.TestCase):
    PARAMS = {'lr': {'_value': 0.01}, 'opt': {'_value': 'adam', '_idx': 1}}

    def test_parameters_once_then_none(self):
        rt, _ = archon_runtime(self.PARAMS)
        self.assertIsNone(rt.get_current_parameter())
        self.assertEqual(rt.get_next_parameter(), {'lr': 0.01, 'opt': 'adam'})
        self.assertEqual(rt.get_current_parameter(), {'lr': 0.01, 'opt': 'adam'})
        self.assertEqual(rt.get_current_parameter('opt'), 'adam')
        with self.assertRaises(KeyError):
            rt.get_current_parameter('nope')
        with self.assertLogs('nni', 'WARNING'):
            self.assertIsNone(rt.get_next_parameter())
        self.assertIsNone(rt.get_current_parameter())

    def test_budget_is_trial_budget_as_under_nnis_hyperband(self):
        rt, _ = archon_runtime(self.PARAMS, ARCHON_BUDGET='9')
        self.assertEqual(rt.get_next_parameter(), {'lr': 0.01, 'opt': 'adam', 'TRIAL_BUDGET': 9})
        rt, _ = archon_runtime(self.PARAMS, ARCHON_BUDGET='2.5')
        self.assertEqual(rt.get_next_parameter()['TRIAL_BUDGET'], 2.5)

    def test_batch_tuner_trials_receive_the_chosen_set(self):
        batch = {'combine_params': {'_value': {'x': 1, 'y': [2, 3]}, '_idx': 1}}
        rt, _ = archon_runtime(batch, ARCHON_NNI_BATCH='1')
        self.assertEqual(rt.get_next_parameter(), {'x': 1, 'y': [2, 3]})
        rt, _ = archon_runtime(batch)
        self.assertEqual(rt.get_next_parameter(), {'combine_params': {'x': 1, 'y': [2, 3]}})

    def test_pbt_trials_receive_their_checkpoint_folders(self):
        rt, _ = archon_runtime(self.PARAMS, ARCHON_LOAD_CHECKPOINT_DIR='/ck/2/0',
                               ARCHON_SAVE_CHECKPOINT_DIR='/ck/0/1')
        self.assertEqual(rt.get_next_parameter(), {
            'lr': 0.01, 'opt': 'adam',
            'load_checkpoint_dir': '/ck/2/0', 'save_checkpoint_dir': '/ck/0/1'})

    def test_ids(self):
        rt, _ = archon_runtime(self.PARAMS, ARCHON_EXPERIMENT_ID='exp', ARCHON_TRIAL_ID='12')
        self.assertEqual((rt.experiment_id, rt.trial_id, rt.sequence_id), ('exp', '12', 12))
        rt, _ = archon_runtime(self.PARAMS, ARCHON_EXPERIMENT_ID='exp', ARCHON_TRIAL_ID='12',
                               NNI_EXP_ID='nexp', NNI_TRIAL_JOB_ID='njob', NNI_TRIAL_SEQ_ID='3')
        self.assertEqual((rt.experiment_id, rt.trial_id, rt.sequence_id), ('nexp', 'njob', 3))
        rt.get_next_parameter()
        self.assertEqual(rt.params['parameter_id'], 12)

    def test_final_result_lines(self):
        rt, out = archon_runtime(self.PARAMS)
        rt.report_final_result(0.93)
        rt.report_final_result(3)
        rt.report_final_result(True)
        rt.report_final_result({'default': 0.5, 'loss': 1.25, 'final': False})
        self.assertEqual(lines(out), [
            'ARCHON_METRIC {"default": 0.93, "final": true}',
            'ARCHON_METRIC {"default": 3, "final": true}',
            'ARCHON_METRIC {"default": 1, "final": true}',
            'ARCHON_METRIC {"default": 0.5, "loss": 1.25, "final": true}',
        ])

    def test_numpy_free_scalars_and_extras(self):
        rt, out = archon_runtime(self.PARAMS)
        rt.report_final_result(FakeScalar(0.25))
        rt.report_final_result({'default': FakeScalar(7), 'hist': FakeArray(), 's': {3}, 'o': object})
        self.assertEqual(lines(out), [
            'ARCHON_METRIC {"default": 0.25, "final": true}',
            'ARCHON_METRIC {"default": 7, "hist": [1, 2, 3], "s": [3], "o": "<class \'object\'>", "final": true}',
        ])

    @unittest.skipUnless(numpy, 'numpy is not installed')
    def test_numpy_scalars(self):
        rt, out = archon_runtime(self.PARAMS)
        rt.report_final_result(numpy.float32(0.5))
        rt.report_final_result({'default': numpy.int64(2), 'v': numpy.arange(2)})
        self.assertEqual(lines(out), [
            'ARCHON_METRIC {"default": 0.5, "final": true}',
            'ARCHON_METRIC {"default": 2, "v": [0, 1], "final": true}',
        ])

    def test_bad_shapes_raise_nnis_error(self):
        rt, out = archon_runtime(self.PARAMS)
        for bad in ['0.5', None, [0.5], (0.5,), {'acc': 0.5}, {'default': '0.5'},
                    {'default': None}, {'default': [1]}, object(), FakeScalar('x')]:
            with self.subTest(metric=bad):
                with self.assertRaises(RuntimeError) as ctx:
                    rt.report_final_result(bad)
                self.assertEqual(str(ctx.exception), BAD)
                with self.assertRaises(RuntimeError) as ctx:
                    rt.report_intermediate_result(bad)
                self.assertEqual(str(ctx.exception), BAD)
        self.assertEqual(out.getvalue(), '')
        rt.report_intermediate_result(1.0)  # a refused metric takes no step
        self.assertEqual(lines(out), ['ARCHON_METRIC {"default": 1.0, "step": 1}'])

    def test_intermediate_steps(self):
        rt, out = archon_runtime(self.PARAMS)
        rt.report_intermediate_result(0.1)
        rt.report_intermediate_result({'default': 0.2, 'epoch': 'two'})
        rt.report_intermediate_result({'default': 0.3, 'step': 99, 'final': True})
        rt.report_final_result(0.4)
        self.assertEqual(lines(out), [
            'ARCHON_METRIC {"default": 0.1, "step": 1}',
            'ARCHON_METRIC {"default": 0.2, "epoch": "two", "step": 2}',
            'ARCHON_METRIC {"default": 0.3, "step": 3}',
            'ARCHON_METRIC {"default": 0.4, "final": true}',
        ])

    def test_reports_without_get_next_parameter(self):
        rt, out = archon_runtime(self.PARAMS)
        rt.report_final_result(0.5)
        self.assertEqual(lines(out), ['ARCHON_METRIC {"default": 0.5, "final": true}'])

    def test_non_finite_values_are_written_as_python_writes_them(self):
        rt, out = archon_runtime(self.PARAMS)
        rt.report_intermediate_result(float('nan'))
        rt.report_intermediate_result(float('inf'))
        rt.report_final_result({'default': -math.inf})
        self.assertEqual(lines(out), [
            'ARCHON_METRIC {"default": NaN, "step": 1}',
            'ARCHON_METRIC {"default": Infinity, "step": 2}',
            'ARCHON_METRIC {"default": -Infinity, "final": true}',
        ])
        # Not JSON (strict parsers such as archon's refuse them).
        for line in lines(out):
            with self.assertRaises(ValueError):
                json.loads(line.split(' ', 1)[1], parse_constant=_raise)

    def test_module_functions(self):
        rt, out = archon_runtime(self.PARAMS, ARCHON_TRIAL_ID='5', ARCHON_EXPERIMENT_ID='x')
        previous = nni.trial._set_runtime(rt)
        try:
            self.assertEqual((nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id()), ('x', '5', 5))
            self.assertEqual(nni.get_next_parameters(), {'lr': 0.01, 'opt': 'adam'})
            self.assertEqual(nni.trial._params['parameters'], {'lr': 0.01, 'opt': 'adam'})
            self.assertEqual(nni.get_current_parameter('lr'), 0.01)
            nni.report_intermediate_result(0.1)
            nni.trial.overwrite_intermediate_seq(10)
            nni.report_intermediate_result(0.2)
            nni.report_final_result(0.3)
        finally:
            nni.trial._set_runtime(previous)
        self.assertEqual(lines(out), [
            'ARCHON_METRIC {"default": 0.1, "step": 1}',
            'ARCHON_METRIC {"default": 0.2, "step": 11}',
            'ARCHON_METRIC {"default": 0.3, "final": true}',
        ])


def _raise(constant):
    raise ValueError(constant)


class UtilsTests(unittest.TestCase):
    def test_merge_parameter_dict_and_namespace(self):
        base = {'lr': 0.1, 'batch': 32, 'opt': 'sgd', 'extra': None}
        got = merge_parameter(base, {'lr': 1, 'opt': 'adam', 'extra': [1]})
        self.assertIs(got, base)
        self.assertEqual(base, {'lr': 1.0, 'batch': 32, 'opt': 'adam', 'extra': [1]})
        self.assertIsInstance(base['lr'], float)

        ns = argparse.Namespace(lr=0.1, batch=32)
        self.assertIs(merge_parameter(ns, {'batch': 64}), ns)
        self.assertEqual(vars(ns), {'lr': 0.1, 'batch': 64})
        self.assertIs(merge_parameter(ns, None), ns)

    def test_merge_parameter_errors(self):
        with self.assertRaises(ValueError) as ctx:
            merge_parameter({'lr': 0.1}, {'momentum': 0.9})
        self.assertEqual(str(ctx.exception), "Key 'momentum' not found in base parameters.")
        with self.assertRaises(ValueError) as ctx:
            merge_parameter(argparse.Namespace(lr=0.1), {'momentum': 0.9})
        self.assertEqual(str(ctx.exception), "Key 'momentum' not found in base parameters.")
        with self.assertRaises(ValueError) as ctx:
            merge_parameter({'batch': 32}, {'batch': 32.0})
        self.assertEqual(str(ctx.exception),
                         'Expected "batch" in override parameters to have type int, but found float')
        with self.assertRaises(ValueError):
            merge_parameter(argparse.Namespace(opt='sgd'), {'opt': 3})

    def test_extract_scalar_reward(self):
        self.assertEqual(extract_scalar_reward(0.5), 0.5)
        self.assertEqual(extract_scalar_reward({'default': 2, 'x': 'y'}), 2)
        self.assertEqual(extract_scalar_reward({'acc': 0.7}, scalar_key='acc'), 0.7)
        self.assertEqual(extract_scalar_history([1, {'default': 2.0}]), [1, 2.0])
        for bad in ['1', {'acc': 1}, {'default': '1'}, None]:
            with self.assertRaises(RuntimeError) as ctx:
                extract_scalar_reward(bad)
            self.assertEqual(str(ctx.exception), BAD)

    def test_small_helpers(self):
        self.assertIs(OptimizeMode('maximize'), OptimizeMode.Maximize)
        self.assertEqual(OptimizeMode.Minimize.value, 'minimize')
        self.assertEqual(split_index({'a': {'_index': 1, '_value': {'b': {'_index': 0, '_value': 3}}}, 'c': 4}),
                         {'a': {'b': 3}, 'c': 4})
        self.assertEqual(convert_dict2tuple({'b': {'y': 1}, 'a': 2}), (('a', 2), ('b', (('y', 1),))))
        space = {'x': {'_type': 'choice', '_value': [1, 2]}, 'y': {'_type': 'uniform', '_value': [0, 1]}}
        self.assertEqual(json2space(space), ['root[x]-choice', 'root[y]-uniform'])

    def test_json2parameter_with_a_random_state_stand_in(self):
        class State:
            def randint(self, low, high=None):
                return 1 if high is None else low

            def uniform(self, low, high):
                return (low + high) / 2

        space = {'x': {'_type': 'choice', '_value': [1, 2]},
                 'y': {'_type': 'quniform', '_value': [0, 10, 3]},
                 'z': {'_type': 'loguniform', '_value': [1, 100]}}
        names = json2space(space)
        got = json2parameter(space, {n: True for n in names}, State())
        self.assertEqual(got['x'], {'_index': 1, '_value': 2})
        self.assertEqual(got['y'], 6)
        self.assertAlmostEqual(got['z'], 10.0)

    def test_class_args_validator(self):
        v = ClassArgsValidator()
        self.assertIsNone(v.validate_class_args(a=1))
        self.assertEqual(v.choices('mode', 'a', 'b').validate('a'), 'a')
        with self.assertRaisesRegex(Exception, 'mode should be in'):
            v.choices('mode', 'a', 'b').validate('c')
        self.assertEqual(v.range('n', int, 1, 3).validate(2), 2)
        with self.assertRaisesRegex(Exception, 'n should be in range of'):
            v.range('n', int, 1, 3).validate(5)
        with self.assertRaisesRegex(Exception, 'n should be int type!'):
            v.range('n', int, 1, 3).validate(2.0)

    def test_env_vars(self):
        self.assertIn('NNI_PLATFORM', trial_env_vars._fields)


class TunerAssessorTests(unittest.TestCase):
    def test_tuner_defaults(self):
        class Three(Tuner):
            def generate_parameters(self, parameter_id, **kwargs):
                if parameter_id >= 3:
                    raise nni.NoMoreTrialError()
                return {'id': parameter_id}

        tuner = Three()
        self.assertEqual(tuner.generate_multiple_parameters([1, 2, 3, 4]), [{'id': 1}, {'id': 2}])
        self.assertIsNone(tuner.trial_end(1, True))
        self.assertIsNone(tuner.import_data([]))
        with self.assertRaisesRegex(NotImplementedError, 'Tuner: update_search_space not implemented'):
            tuner.update_search_space({})
        with self.assertRaisesRegex(NotImplementedError, 'Tuner: receive_trial_result not implemented'):
            tuner.receive_trial_result(1, {}, 0.5)
        with self.assertRaisesRegex(NotImplementedError, 'Tuner: generate_parameters not implemented'):
            Tuner().generate_parameters(0)
        self.assertEqual(str(nni.NoMoreTrialError()), 'Search space fully explored')

    def test_assessor_defaults(self):
        self.assertIs(AssessResult(True), AssessResult.Good)
        self.assertIs(AssessResult.Bad.value, False)
        with self.assertRaisesRegex(NotImplementedError, 'Assessor: assess_trial not implemented'):
            Assessor().assess_trial('t', [0.1])
        self.assertIsNone(Assessor().trial_end('t', False))

    def test_recoverable(self):
        r = Recoverable()
        self.assertEqual(r.recover_parameter_id([
            {'parameter_id': 2, 'parameters': {'a': 1}},
            json.dumps({'parameter_id': 5, 'parameters': {'a': 2}}),
            {'parameter_id': None, 'parameters': {}},
        ]), 5)
        self.assertTrue(r.is_created_in_previous_exp(4))
        self.assertFalse(r.is_created_in_previous_exp(None))
        self.assertEqual(r.get_previous_param(5), {'a': 2})


TRIAL = textwrap.dedent('''
    import contextlib, io, json, os, signal, sys
    import nni
    print('shim', nni.__version__, os.path.dirname(nni.__file__))
    params = nni.get_next_parameter()
    print('params', json.dumps(params, sort_keys=True))
    print('ids', nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
    nni.report_intermediate_result(0.25)
    with contextlib.redirect_stdout(io.StringIO()):
        print('swallowed')
        nni.report_intermediate_result({'default': 0.5, 'epoch': 2})
    nni.report_final_result(0.75)
    if hasattr(signal, 'SIGKILL'):
        os.kill(os.getpid(), signal.SIGKILL)  # no chance to flush anything else
    os._exit(0)
''')

STANDALONE_TRIAL = textwrap.dedent('''
    import nni
    print('params', nni.get_next_parameter())
    print('ids', nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
    nni.report_intermediate_result(0.25)
    nni.report_final_result(0.75)
''')


class SubprocessTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def run_trial(self, code, **extra_env):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('ARCHON_', 'NNI_', 'PYTHON'))}
        env.update(PYTHONPATH=str(SHIM_DIR), PYTHONDONTWRITEBYTECODE='1')
        env.update(extra_env)
        script = self.dir / 'trial.py'
        script.write_text(code, encoding='utf-8')
        return subprocess.run([sys.executable, str(script)], env=env, cwd=str(self.dir),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)

    def test_archon_trial_prints_flushed_metric_lines(self):
        params = {'layer': {'_value': 'conv', '_idx': 1, 'kernel': {'_value': 5, '_idx': 1},
                            'lr': {'_value': 0.01}},
                  'C': {'_value': 0.5}}
        path = self.dir / 'parameters.json'
        path.write_text(json.dumps(params), encoding='utf-8')
        # Large parameters come only in the file: no ARCHON_PARAMETERS here.
        proc = self.run_trial(TRIAL, ARCHON_PARAMETERS_FILE=str(path), ARCHON_EXPERIMENT_ID='exp1',
                              ARCHON_TRIAL_ID='3', NNI_PLATFORM='local', NNI_EXP_ID='exp1',
                              NNI_TRIAL_JOB_ID='3', NNI_TRIAL_SEQ_ID='3')
        out = proc.stdout.splitlines()
        self.assertEqual(out[0].split()[:2], ['shim', nni.__version__], proc.stderr)
        self.assertEqual(Path(out[0].split(' ', 2)[2]).resolve(), SHIM_DIR / 'nni')
        self.assertEqual(out[1:], [
            'params {"C": 0.5, "layer": {"_name": "conv", "kernel": 5, "lr": 0.01}}',
            'ids exp1 3 3',
            'ARCHON_METRIC {"default": 0.25, "step": 1}',
            'ARCHON_METRIC {"default": 0.5, "epoch": 2, "step": 2}',
            'ARCHON_METRIC {"default": 0.75, "final": true}',
        ], proc.stderr)
        if hasattr(signal, 'SIGKILL'):
            self.assertEqual(proc.returncode, -signal.SIGKILL)

    def test_archon_trial_from_env_var(self):
        proc = self.run_trial(TRIAL, ARCHON_PARAMETERS=json.dumps({'x': {'_value': [1, 2], '_idx': 0}}),
                              ARCHON_TRIAL_ID='9', ARCHON_EXPERIMENT_ID='e')
        out = proc.stdout.splitlines()
        self.assertIn('params {"x": [1, 2]}', out, proc.stderr)
        self.assertIn('ids e 9 9', out)
        self.assertEqual(out[-1], 'ARCHON_METRIC {"default": 0.75, "final": true}')

    def test_standalone_trial(self):
        proc = self.run_trial(STANDALONE_TRIAL)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn('ARCHON_METRIC', proc.stdout)
        out = proc.stdout.splitlines()
        self.assertEqual(out[:2], ['params {}', 'ids STANDALONE STANDALONE 0'])
        self.assertTrue(out[2].endswith('] Intermediate result: 0.25  (Index 0)'), out)
        self.assertTrue(out[3].endswith('] Final result: 0.75'), out)
        self.assertIn('RuntimeWarning: Running trial code without runtime', proc.stderr)

class HpoToArchonTests(unittest.TestCase):
    SPACE = {
        'x': {'_type': 'randint', '_value': [1.5, 10]},
        'op': {'_type': 'choice', '_value': ['a', 1, True]},
        'lr': {'_type': 'loguniform', '_value': [0.001, 0.1]},
        'layer': {'_type': 'choice', '_value': [
            {'_name': 'empty'},
            {'_name': 'conv', 'k': {'_type': 'choice', '_value': [3, 5]}}]},
        'in': {'_type': 'input_choice', '_value': {'candidates': ['p', 'q', 'r'], 'n_chosen': 2}},
    }

    def test_plain_values_get_their_indices(self):
        got = archon.from_hpo_parameters(
            {'x': 4, 'op': 1, 'lr': 0.01, 'layer': {'_name': 'conv', 'k': 5}, 'in': ['r', 'p']},
            self.SPACE)
        self.assertEqual(got, {
            'x': {'_value': 4, '_idx': 2},  # randint's lower bound 1.5 rounds up to 2
            'op': {'_value': 1, '_idx': 1},  # 1 is not True
            'lr': {'_value': 0.01},
            'layer': {'_value': 'conv', '_idx': 1, 'k': {'_value': 5, '_idx': 1}},
            'in': {'_value': ['p', 'r'], '_idx': [0, 2]},
        })
        self.assertEqual(archon.from_hpo_parameters({'op': True}, self.SPACE)['op'],
                         {'_value': True, '_idx': 2})
        self.assertEqual(archon.from_hpo_parameters({'layer': 'empty'}, self.SPACE)['layer'],
                         {'_value': 'empty', '_idx': 0})
        self.assertEqual(archon.from_hpo_parameters({'x': 4.0}, self.SPACE)['x'],
                         {'_value': 4, '_idx': 2})
        with self.assertRaisesRegex(ValueError, 'x: 4.5 is not an integer'):
            archon.from_hpo_parameters({'x': 4.5}, self.SPACE)

    def test_round_trip_through_hpo_form(self):
        raw = {'layer': {'_value': 'conv', '_idx': 1, 'k': {'_value': 3, '_idx': 0}},
               'lr': {'_value': 0.05}}
        hpo = archon.to_hpo_parameters(raw, self.SPACE)
        self.assertEqual(hpo, {'layer': {'_name': 'conv', 'k': 3}, 'lr': 0.05})
        self.assertEqual(archon.from_hpo_parameters(hpo, self.SPACE), raw)

    def test_a_value_outside_the_space_names_the_parameter(self):
        with self.assertRaisesRegex(ValueError, "op: 'z' is not one of the choice's values"):
            archon.from_hpo_parameters({'op': 'z'}, self.SPACE)


class TunerBridgeTests(unittest.TestCase):
    def test_the_bridge_hosts_a_tuner_class(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, 'mine.py').write_text(textwrap.dedent('''
                import nni
                from nni.tuner import Tuner
                class Mine(Tuner):
                    def __init__(self, start):
                        self.x = start
                        print('to stderr, not the protocol')
                    def update_search_space(self, space):
                        pass
                    def generate_parameters(self, pid, **kw):
                        if self.x > 2:
                            raise nni.NoMoreTrialError('done')
                        self.x += 1
                        return {'op': 'b', 'lr': 0.01}
            '''))
            requests = [
                {'op': 'update_search_space', 'search_space': {
                    'op': {'_type': 'choice', '_value': ['a', 'b']},
                    'lr': {'_type': 'uniform', '_value': [0, 1]}}},
                {'op': 'generate_parameters', 'id': 0},
                {'op': 'generate_parameters', 'id': 1},
                {'op': 'receive_trial_result', 'id': 99, 'value': 0.5,
                 'parameters': {'op': {'_value': 'a', '_idx': 0}, 'lr': {'_value': 0.5}}},
                {'op': 'nonsense'},
            ]
            env = dict(os.environ, PYTHONPATH=f'{SHIM_DIR}:{d}',
                       ARCHON_TUNER_CLASS='mine.Mine', ARCHON_TUNER_ARGS='{"start": 2}')
            proc = subprocess.run([sys.executable, '-m', 'nni.runtime.tuner_bridge'], cwd=d,
                                  env=env, capture_output=True, text=True, timeout=60,
                                  input=''.join(json.dumps(r) + '\n' for r in requests))
            replies = [json.loads(line) for line in proc.stdout.splitlines()]
            self.assertEqual(replies[0], {'ok': True, 'ready': 'mine.Mine'})
            self.assertEqual(replies[1], {'ok': True})
            self.assertEqual(replies[2]['parameters'],
                             {'op': {'_value': 'b', '_idx': 1}, 'lr': {'_value': 0.01}})
            self.assertEqual(replies[3], {'ok': False, 'no_more_trials': True,
                                          'error': 'no more parameters'})
            # A trial the class did not generate (the pre-filter's) is not its business.
            self.assertEqual(replies[4], {'ok': True, 'skipped': True})
            self.assertFalse(replies[5]['ok'])
            self.assertIn('to stderr', proc.stderr)

    def test_the_bridge_hosts_an_assessor_class(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, 'judge.py').write_text(textwrap.dedent('''
                from nni.assessor import Assessor, AssessResult
                class Judge(Assessor):
                    def __init__(self, bar):
                        self.bar = bar
                        self.ended = []
                    def assess_trial(self, trial_job_id, trial_history):
                        if trial_history[-1] == 'weird':
                            return 'maybe'
                        last = trial_history[-1]
                        if isinstance(last, dict):
                            return last['default'] >= self.bar
                        return AssessResult.Good if last >= self.bar else AssessResult.Bad
                    def trial_end(self, trial_job_id, success):
                        print('ended', trial_job_id, success)
            '''))
            requests = [
                {'op': 'assess_trial', 'trial_job_id': '1', 'trial_history': [0.9]},
                {'op': 'assess_trial', 'trial_job_id': '2', 'trial_history': [0.9, 0.1]},
                {'op': 'assess_trial', 'trial_job_id': '3', 'trial_history': [{'default': 0.7}]},
                {'op': 'assess_trial', 'trial_job_id': '4', 'trial_history': ['weird']},
                {'op': 'trial_end', 'trial_job_id': '2', 'success': False},
            ]
            env = dict(os.environ, PYTHONPATH=f'{SHIM_DIR}:{d}',
                       ARCHON_ASSESSOR_CLASS='judge.Judge', ARCHON_ASSESSOR_ARGS='{"bar": 0.5}')
            proc = subprocess.run([sys.executable, '-m', 'nni.runtime.assessor_bridge'], cwd=d,
                                  env=env, capture_output=True, text=True, timeout=60,
                                  input=''.join(json.dumps(r) + '\n' for r in requests))
            replies = [json.loads(line) for line in proc.stdout.splitlines()]
            self.assertEqual(replies[0], {'ok': True, 'ready': 'judge.Judge'})
            self.assertEqual(replies[1], {'ok': True, 'good': True})
            self.assertEqual(replies[2], {'ok': True, 'good': False})
            self.assertEqual(replies[3], {'ok': True, 'good': True})
            self.assertFalse(replies[4]['ok'])
            self.assertIn('must be an object of AssessResult', replies[4]['error'])
            self.assertEqual(replies[5], {'ok': True})
            self.assertIn('ended 2 False', proc.stderr)


if __name__ == '__main__':
    unittest.main()
