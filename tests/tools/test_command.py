"""``pose-plugins SUBCOMMAND`` (:mod:`pose_plugins.apis.command`): a subcommand for every ``tools/*.py``, each the
tool itself (help, refusals, exit status, ``--debug``) under the program name ``pose-plugins SUBCOMMAND``. The tool,
the installed console script and ``python -m pose_plugins`` run in fresh interpreters, concurrently (each imports
mmpose: ~5 s of CPU); the rest calls :func:`command.main` in this process."""
import ast
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import entry_points

import pytest

from conftest import REPO
from pose_plugins.apis import command
from pose_plugins.cli import USER_ERROR_TYPES

TOOLS = REPO / 'tools'
COLUMNS = '100'  # argparse wraps help to the terminal's width: the same width on both sides
MISSING = ['missing.py', 'model.pth', 'img.jpg']  # infer's arguments, none of which exists
REINSTALL = 'pip install --no-deps --no-build-isolation -e . (scripts/setup.sh does)'


def _normalized(text: str, prog: str) -> str:
    """``text`` with the program name ``prog`` (not a path's tail such as tools/infer.py) as PROG and whitespace
    collapsed (argparse wraps the usage after the program name)."""
    return ' '.join(re.sub(rf'(?<![\w/.-]){re.escape(prog)}(?![\w.-])', 'PROG', text).split())


def _console_script() -> str:
    """The installed ``pose-plugins`` script; skips where the install predates the entry point."""
    installed = entry_points(group='console_scripts', name='pose-plugins')
    if not installed:
        pytest.skip(f'pose_plugins was installed without its pose-plugins entry point: {REINSTALL}')
    assert [ep.value for ep in installed] == ['pose_plugins.apis.command:main']
    assert _SCRIPT is not None, f'the pose-plugins entry point is recorded but its script is in none of {_SCRIPT_DIRS}'
    return _SCRIPT


# where pip puts scripts for this interpreter (also a user install), and PATH
_SCRIPT_DIRS = [sysconfig.get_path('scripts'), sysconfig.get_path('scripts', f'{os.name}_user'),
                os.environ.get('PATH', '')]
_SCRIPT = shutil.which('pose-plugins', path=os.pathsep.join(_SCRIPT_DIRS))


@pytest.fixture(scope='module')
def fresh(tmp_path_factory) -> dict:
    """name -> (exit status, stdout, stderr) of the fresh interpreters, run in an empty folder."""
    cwd = tmp_path_factory.mktemp('command')
    env = dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{os.environ.get("PYTHONPATH", "")}', OMP_NUM_THREADS='1',
               COLUMNS=COLUMNS)
    commands = {'tool help': [sys.executable, str(TOOLS / 'infer.py'), '--help'],
                'tool refusal': [sys.executable, str(TOOLS / 'infer.py'), *MISSING],
                'python -m': [sys.executable, '-m', 'pose_plugins', 'nope']}
    if _SCRIPT is not None:
        commands['console script'] = [_SCRIPT, 'infer', *MISSING]
    procs = {name: subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, argv in commands.items()}
    return {name: (proc.wait(timeout=240), *proc.communicate()) for name, proc in procs.items()}


def _first_line(module: str) -> str:
    return ast.get_docstring(ast.parse((TOOLS / f'{module}.py').read_text())).splitlines()[0]


def test_every_tool_has_a_subcommand():
    scripts = {path.stem for path in TOOLS.glob('*.py')}
    listed = {tool.module for tool in command.TOOLS.values()}
    assert not scripts - listed, f'tools without a subcommand (add them to command.TOOLS): {scripts - listed}'
    assert not listed - scripts, f'subcommands without a tools/*.py: {listed - scripts}'
    assert command.TOOLS_DIR == str(TOOLS)


@pytest.mark.parametrize('name', list(command.TOOLS))
def test_each_subcommand_calls_main_as_its_tool_does(name):
    """Its apis module's ``main(argv, *, description)``, with the description the tool passes (its source says)."""
    tool = command.TOOLS[name]
    parameters = inspect.signature(importlib.import_module(f'pose_plugins.apis.{tool.module}').main).parameters
    assert list(parameters)[0] == 'argv'
    source = (TOOLS / f'{tool.module}.py').read_text()
    passes = {'doc': 'run_tool(main, description=__doc__)', None: 'run_tool(main)',
              'summary': "run_tool(main, description=__doc__.split('\\n')[0])"}[tool.description]
    assert passes in source
    assert ('description' in parameters) == (tool.description is not None)


def test_help_lists_every_subcommand_with_its_docstrings_first_line(capsys):
    with pytest.raises(SystemExit) as exit:
        command.main(['--help'])
    out = capsys.readouterr().out
    assert exit.value.code == 0 and out.startswith('usage: pose-plugins SUBCOMMAND [ARGS ...]')
    for name, tool in command.TOOLS.items():
        assert re.search(rf'^  {re.escape(name)} +{re.escape(_first_line(tool.module))}$', out, re.M), name


def test_subcommand_help_is_the_tools_help(fresh, capsys, monkeypatch):
    monkeypatch.setenv('COLUMNS', COLUMNS)
    with pytest.raises(SystemExit) as exit:
        command.main(['infer', '--help'])
    out = capsys.readouterr().out
    status, tool_out, _ = fresh['tool help']
    assert exit.value.code == status == 0 and out.startswith('usage: pose-plugins infer [-h]')
    assert _normalized(out, 'pose-plugins infer') == _normalized(tool_out, 'infer.py')


@pytest.mark.parametrize('argv, message', [
    (['nope'], r"argument SUBCOMMAND: invalid choice: 'nope' \(choose from 'train', 'test', .*\)"),
    ([], r'the following arguments are required: SUBCOMMAND'),
    (['--debug', 'infer'], r'the following arguments are required: SUBCOMMAND'),  # --debug goes after it
])
def test_unknown_or_missing_subcommand_is_a_one_line_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        command.main(argv)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and len(err.splitlines()) == 1
    assert re.fullmatch(rf'pose-plugins: error: {message} \(see pose-plugins --help\)\n', err), err
    if argv[:1] == ['nope']:
        assert all(f"'{name}'" in err for name in command.TOOLS)


def test_refusal_is_the_tools_one_line(fresh, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = list(sys.argv)
    status = command.main(['infer', *MISSING])
    err = capsys.readouterr().err
    tool_status, _, tool_err = fresh['tool refusal']
    assert status == tool_status == 2 and len(tool_err.splitlines()) == 1, tool_err
    assert err.startswith('pose-plugins infer: error: '), err
    assert _normalized(err, 'pose-plugins infer') == _normalized(tool_err, 'infer.py')
    assert sys.argv == argv  # restored


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(USER_ERROR_TYPES):  # the refusal's own exception, not status 2
        command.main(['infer', *MISSING, '--debug'])


def test_console_script_is_installed_and_runs_the_tool(fresh):
    _console_script()
    status, _, err = fresh['console script']
    tool_status, _, tool_err = fresh['tool refusal']
    assert status == tool_status
    assert _normalized(err, 'pose-plugins infer') == _normalized(tool_err, 'infer.py')


def test_python_m_pose_plugins_is_the_same_command(fresh):
    status, _, err = fresh['python -m']
    assert status == 2 and err.startswith("python -m pose_plugins: error: argument SUBCOMMAND: invalid choice: 'nope'")
    assert len(err.splitlines()) == 1, err
