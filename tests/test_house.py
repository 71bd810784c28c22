"""The house rules of pose_plugins/ (DESIGN.md): which rooms import which, no imports hidden in functions to dodge a
cycle, fixtures on top of the house, and docstrings that stay contracts (a budget on their share of the code).

``python tests/test_house.py`` prints the docstring and comment share of ``pose_plugins/``."""
import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / 'pose_plugins'
#: Top of the house: may import anything below; nothing below imports them. ``pose_plugins.__main__`` is an entry
#: point (``python -m pose_plugins``) like apis: it imports apis' command.
TOP = ('pose_plugins.synthetic', 'pose_plugins.apis', 'pose_plugins.__main__')
#: Share of the non-blank lines of pose_plugins/ that docstrings and comments may take.
DOC_BUDGET = 0.25


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _imports(path: Path) -> Iterator[Tuple[str, bool]]:
    """(imported pose_plugins module, whether the import sits inside a function) for each import of ``path``."""
    tree = ast.parse(path.read_text())
    package = _module_name(path) if path.name == '__init__.py' else _module_name(path).rpartition('.')[0]
    inside: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                names = ['.'.join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or '']
        else:
            continue
        for name in names:
            if name.startswith('pose_plugins.') or name == 'pose_plugins':
                yield name, id(node) in inside


def _all_imports() -> Dict[str, list]:
    return {_module_name(path): list(_imports(path)) for path in sorted(PACKAGE.rglob('*.py'))}


def _in(module: str, *rooms: str) -> bool:
    return any(module == room or module.startswith(room + '.') for room in rooms)


def test_nothing_below_the_top_imports_the_fixtures_or_apis():
    offenders = [(module, name) for module, names in _all_imports().items() if not _in(module, *TOP)
                 for name, _ in names if _in(name, *TOP)]
    assert not offenders, f'the library imports its top-of-the-house packages: {offenders}'


def test_datasets_import_no_models_or_visualization():
    offenders = [(module, name) for module, names in _all_imports().items() if _in(module, 'pose_plugins.datasets')
                 for name, _ in names if _in(name, 'pose_plugins.models', 'pose_plugins.visualization')]
    assert not offenders, f'datasets/ imports models/ or visualization/: {offenders}'


def test_no_package_import_hidden_inside_a_function():
    offenders = [(module, name) for module, names in _all_imports().items() for name, hidden in names if hidden]
    assert not offenders, f'imports of pose_plugins modules inside functions: {offenders}'


def _doc_lines(path: Path) -> Tuple[int, int]:
    """(non-blank lines, of them docstring or comment lines) of a Python file."""
    source = path.read_text()
    nonblank = {i for i, line in enumerate(source.splitlines(), 1) if line.strip()}
    doc: Set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                doc.update(range(first.lineno, first.end_lineno + 1))
    doc.update(tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
               if tok.type == tokenize.COMMENT)
    return len(nonblank), len(doc & nonblank)


def doc_share(root: Path = PACKAGE) -> Tuple[int, int]:
    """(non-blank lines, docstring and comment lines) of every ``.py`` under ``root``."""
    counts = [_doc_lines(path) for path in root.rglob('*.py')]
    return sum(n for n, _ in counts), sum(d for _, d in counts)


def test_docstrings_and_comments_stay_within_their_budget():
    lines, doc = doc_share()
    assert doc / lines <= DOC_BUDGET, f'docstrings and comments are {doc / lines:.1%} of pose_plugins/ ' \
        f'({doc} of {lines} non-blank lines), over {DOC_BUDGET:.0%}: keep docstrings to the contract'


def test_tests_import_tools_through_the_package():
    """Tests call a tool's logic through the package; running a tool as a command stays allowed."""
    loads = re.compile(r"spec_from_file_location\([^)]*'tools'")
    offenders = [str(path.relative_to(REPO)) for path in sorted((REPO / 'tests').rglob('*.py'))
                 if loads.search(path.read_text().replace('"', "'"))]
    assert not offenders, f'tests that load a tool by file path: {offenders}'


if __name__ == '__main__':
    total, doc = doc_share()
    print(f'pose_plugins/: {doc} docstring and comment lines of {total} non-blank lines ({doc / total:.1%})')
