"""``pose-plugins SUBCOMMAND ...`` (and ``python -m pose_plugins``): every ``tools/*.py`` as one command.

A subcommand runs its tool's ``pose_plugins.apis.<module>.main`` exactly as ``python tools/<module>.py`` does,
through :func:`pose_plugins.cli.run_tool` (exit statuses, one-line refusals, ``--debug``), with
``PROG SUBCOMMAND`` as the program name. Its help text is the tool's docstring, read (not run) from
``tools/<module>.py`` of the checkout the package runs from (the apis module's docstring where the file is absent).
"""
import argparse
import ast
import importlib
import importlib.util
import os.path as osp
import sys
from typing import NamedTuple, Optional, Sequence

from pose_plugins.cli import ToolArgumentParser, run_tool

__all__ = ['PROG', 'TOOLS', 'TOOLS_DIR', 'Tool', 'main', 'tool_docstring']

PROG = 'pose-plugins'
#: ``tools/`` of the checkout the package runs from.
TOOLS_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools')


class Tool(NamedTuple):
    """A subcommand: ``tools/<module>.py`` and ``pose_plugins.apis.<module>.main(argv, *, description)``.

    ``description`` is what the tool passes to ``main``: ``'doc'`` its docstring, ``'summary'`` the docstring's first
    line, None nothing (``main`` takes no description: its parser has its own).
    """

    module: str
    description: Optional[str] = 'doc'


#: subcommand -> tool, in the order ``--help`` lists them; tests/tools/test_command.py checks it covers tools/*.py.
TOOLS = {
    'train': Tool('train', None),
    'test': Tool('test', None),
    'infer': Tool('infer'),
    'export': Tool('export_onnx'),
    'demo': Tool('demo'),
    'benchmark': Tool('benchmark'),
    'gpu-benchmark': Tool('gpu_benchmark', 'summary'),
    'model-complexity': Tool('model_complexity'),
    'convert-checkpoint': Tool('convert_checkpoint'),
    'convert-smpl-model': Tool('convert_smpl_model'),
    'publish-model': Tool('publish_model'),
    'make-synthetic-coco': Tool('make_synthetic_coco'),
    'make-synthetic-clip': Tool('make_synthetic_clip'),
    'eval-video': Tool('eval_video'),
}


def tool_docstring(tool: Tool) -> str:
    """``tools/<module>.py``'s docstring as the tool's ``__doc__`` holds it (the apis module's without the file)."""
    path = osp.join(TOOLS_DIR, f'{tool.module}.py')
    if not osp.isfile(path):
        path = importlib.util.find_spec(f'pose_plugins.apis.{tool.module}').origin
    with open(path) as f:
        return ast.get_docstring(ast.parse(f.read()), clean=False) or ''


class _CommandParser(argparse.ArgumentParser):
    """The subcommand's parser: a :class:`ToolArgumentParser`'s one-line errors, without its ``--debug`` (that flag
    goes after the subcommand, to the tool)."""

    error = ToolArgumentParser.error


def _parser(prog: str) -> argparse.ArgumentParser:
    width = max(map(len, TOOLS))
    listing = '\n'.join(f'  {name:<{width}}  {tool_docstring(tool).strip().splitlines()[0]}'
                        for name, tool in TOOLS.items())
    parser = _CommandParser(
        prog=prog, usage=f'{prog} SUBCOMMAND [ARGS ...]', formatter_class=argparse.RawDescriptionHelpFormatter,
        description=f"pose_plugins' tools (tools/*.py) as subcommands; '{prog} SUBCOMMAND --help' shows one's options.",
        epilog=f'subcommands:\n{listing}')
    parser.add_argument('subcommand', choices=TOOLS, metavar='SUBCOMMAND', help=argparse.SUPPRESS)
    return parser


def main(argv: Optional[Sequence[str]] = None, *, prog: str = PROG) -> int:
    """Run ``argv`` (None: ``sys.argv[1:]``) = ``SUBCOMMAND [ARGS ...]`` and return the tool's exit status. An unknown
    or missing subcommand exits with status 2 and one line naming the choices; ``--help`` lists the subcommands.

    While the tool runs, ``sys.argv`` is ``['PROG SUBCOMMAND', *ARGS]``: what its parser, :func:`run_tool` and
    the records of a run (the work dir's lock, the benchmark's JSON) take the command from.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    name = _parser(prog).parse_args(argv[:1]).subcommand
    tool = TOOLS[name]
    kwargs = {}
    if tool.description is not None:
        doc = tool_docstring(tool)
        kwargs['description'] = doc.split('\n')[0] if tool.description == 'summary' else doc
    tool_main = importlib.import_module(f'pose_plugins.apis.{tool.module}').main
    saved, sys.argv = sys.argv, [f'{prog} {name}', *argv[1:]]
    try:
        return run_tool(tool_main, argv[1:], **kwargs)
    finally:
        sys.argv = saved
