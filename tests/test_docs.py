"""The front page and docs/ stay true to the tree: links resolve, named files exist, README.md stays a front page
(at most 200 lines), and no page talks about the process that made the project (issue numbers, sessions, CI runs)
instead of the project itself."""
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / 'README.md'
README_MAX_LINES = 200  # DESIGN.md: the front page is at most 200 lines


def _pages() -> List[Path]:
    return [README] + sorted((REPO / 'docs').glob('*.md'))


def _page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


FENCE = re.compile(r'^(```|~~~).*?^\1[^\n]*$', re.M | re.S)
INLINE_CODE = re.compile(r'`[^`\n]*`')
#: ``[text](target)`` and ``![alt](target)``, with an optional ``"title"`` after the target
LINK = re.compile(r'!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
EXTERNAL = re.compile(r'^(?:[a-z][a-z0-9+.-]*:|//)', re.I)  # http:, https:, mailto:, ...
#: A repository path named in prose or code: not glued to a longer path (``mmpose/configs/...`` is mmpose's)
REPO_PATH = re.compile(r'(?<![\w./-])((?:configs|tools|scripts|tests|pose_plugins|pose_plugins_runtime)/'
                       r'[^\s`\'"()\[\],;|]*)')
TRAILING = '.,;:!?'
HEADING = re.compile(r'^(#{1,6})\s+(.+?)\s*#*\s*$', re.M)


def _without_code_blocks(text: str) -> str:
    """Fenced code blocks blanked out (line count kept), for what is markup only: links and headings."""
    return FENCE.sub(lambda m: '\n' * m.group(0).count('\n'), text)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: markup dropped, lower case, punctuation but ``-`` and ``_`` removed, spaces to
    hyphens."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # a link keeps its text
    text = text.replace('`', '').replace('*', '').lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(page: Path) -> Set[str]:
    """Every heading anchor of a page (a repeated heading gets GitHub's ``-1``, ``-2`` ... suffixes)."""
    seen: Dict[str, int] = {}
    result = set()
    for match in HEADING.finditer(_without_code_blocks(page.read_text(encoding='utf-8'))):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f'{base}-{count}')
    return result


def links(text: str) -> Iterator[str]:
    """Relative link and image targets of Markdown text (code blocks and code spans are not markup)."""
    for match in LINK.finditer(INLINE_CODE.sub('', _without_code_blocks(text))):
        target = match.group(1)
        if not EXTERNAL.match(target):
            yield target


def link_problem(page: Path, target: str) -> Optional[str]:
    """Why ``target``, a relative link on ``page``, does not resolve; None when it does."""
    path_part, _, anchor = target.partition('#')
    file = (page.parent / path_part).resolve() if path_part else page
    if not file.exists():
        return f'{target}: no file {file.relative_to(REPO) if file.is_relative_to(REPO) else file}'
    if anchor and file.suffix == '.md' and anchor not in anchors(file):
        return f'{target}: {file.name} has no heading with anchor #{anchor}'
    return None


def is_placeholder(path: str) -> bool:
    """``<run>``, ``WORK_DIR``, ``CONFIG``, globs, ``{a,b}`` sets, ``...`` elisions: a pattern, not a file."""
    if any(c in path for c in '<>*?{}$') or '...' in path:
        return True
    return any(re.fullmatch(r'[A-Z][A-Z0-9_]*(\.[a-z]+)?', part) for part in path.split('/'))


def named_paths(text: str) -> Iterator[str]:
    """Repository paths (``configs/...``, ``tools/...``, ``scripts/...``, ``tests/...``, package files) named
    anywhere in a page, code included, trailing punctuation and ``::test`` selectors stripped, placeholders left
    out."""
    for match in REPO_PATH.finditer(text):
        path = match.group(1)
        if is_placeholder(path):
            continue
        path = path.split('::')[0].rstrip(TRAILING)
        if path:
            yield path


# Process words: the docs describe the project, the changelog what changed; not how the work was organised.
# An issue reference is allowed when it names an upstream project's issue ("mmpose issue #2342").
UPSTREAM = r'(?:mmpose|mmengine|mmcv|mmdet|mmdeploy|pytorch|torch|torchvision|smplx|onnx|onnxruntime|numpy|opencv)'
UPSTREAM_REF = re.compile(UPSTREAM + r"(?:'s)?(?:\s+(?:issues?|PRs?|pull requests?)\s*#?\d+|\s*#\d+)", re.I)
ISSUE_REF = re.compile(r'\b(?:issues?|PRs?|pull requests?|tickets?)\s*#?\d+|(?<![\w&/#])#\d+\b', re.I)
PROCESS_PHRASES = [
    ISSUE_REF,
    re.compile(r'\b(?:this|that|the last|an earlier|earlier|previous|next|a later|later) sessions?\b', re.I),
    re.compile(r'\bCI runs?\b', re.I),
    re.compile(r'\bclosing notes?\b', re.I),
    re.compile(r'^#{1,6}\s*Status\b', re.I | re.M),
    re.compile(r'^\s*(?:Done|Open):', re.M),
]


def process_words(text: str) -> List[Tuple[int, str]]:
    """(line number, match) of every process word in ``text``, in order; upstream issue references are allowed."""
    text = UPSTREAM_REF.sub(lambda m: ' ' * len(m.group(0)), text)  # blanked, so positions and lines stay
    found = []
    for pattern in PROCESS_PHRASES:
        for match in pattern.finditer(text):
            found.append((match.start(), text.count('\n', 0, match.start()) + 1, match.group(0)))
    return [(line, word) for _, line, word in sorted(found)]


def test_docs_exist():
    assert README.is_file()
    pages = _pages()
    assert len(pages) > 1, 'docs/*.md is empty: the README links into docs/'
    readme_links = {(README.parent / t.partition('#')[0]).resolve() for t in links(README.read_text('utf-8'))}
    for page in pages[1:]:
        assert page.resolve() in readme_links, f'README.md does not link to {_page_id(page)}'


def test_readme_is_a_front_page():
    lines = README.read_text(encoding='utf-8').count('\n')
    assert lines <= README_MAX_LINES, f'README.md has {lines} lines; at most {README_MAX_LINES} (move topics to docs/)'


@pytest.mark.parametrize('page', _pages(), ids=_page_id)
def test_relative_links_resolve(page):
    problems = [p for p in (link_problem(page, t) for t in links(page.read_text(encoding='utf-8'))) if p]
    assert not problems, f'{_page_id(page)}: broken links:\n' + '\n'.join(problems)


@pytest.mark.parametrize('page', _pages(), ids=_page_id)
def test_named_paths_exist(page):
    missing = sorted({p for p in named_paths(page.read_text(encoding='utf-8')) if not (REPO / p).exists()})
    assert not missing, f'{_page_id(page)} names paths that do not exist: {missing}'


@pytest.mark.parametrize('page', _pages(), ids=_page_id)
def test_no_process_words(page):
    found = process_words(page.read_text(encoding='utf-8'))
    assert not found, f'{_page_id(page)}: words about the process, not the project: ' + \
        ', '.join(f'line {n}: {w!r}' for n, w in found)


def test_the_front_page_pictures_are_referenced():
    targets = set(links(README.read_text(encoding='utf-8')))
    assert {'docs/images/demo_prediction.jpg', 'docs/images/mesh_recovery.jpg'} <= targets


# The checkers themselves, on hand-made text.

@pytest.mark.parametrize('text, expected', [
    ('Status of issue 10 is done.', ['issue 10']),
    ('see issue #3', ['issue #3']),
    ('fixed in (#12).', ['#12']),
    ('PR 45 made it faster', ['PR 45']),
    ('measured in this session', ['this session']),
    ('in an earlier session', ['an earlier session']),
    ("in this session's clean-clone CI run of the demo", ["this session", 'CI run']),
    ('## Status\n', ['## Status']),
    ('mmpose issue #2342 explains the workaround', []),
    ("mmengine's PR #1234", []),
    ('https://github.com/open-mmlab/mmpose/issues/2342', []),
    ('[anchor](docs/models.md#cpu-demo-configs)', []),
    ('session = PoseSession("model.onnx")', []),
    ('mmpose issue #2342 and issue 7', ['issue 7']),
], ids=lambda v: v if isinstance(v, str) else None)
def test_process_words_checker(text, expected):
    assert [w for _, w in process_words(text)] == expected


@pytest.mark.parametrize('text, expected', [
    ('run `bash scripts/demo.sh`.', ['scripts/demo.sh']),
    ('(`configs/hrnet_w32_coco.py`, full size)', ['configs/hrnet_w32_coco.py']),
    ("configs/hrnet_w32_coco.py's head", ['configs/hrnet_w32_coco.py']),
    ('tests/e2e/test_mesh_demo.py::mean_pose_baseline', ['tests/e2e/test_mesh_demo.py']),
    ('work_dirs/demo/<run>/inference/ and WORK_DIR/first_stage', []),
    ('configs/*.py and configs/demo/... and tests/models/{heads,layers}', []),
    ('`tools/dist_train.sh CONFIG 8`', ['tools/dist_train.sh']),
    ('/path/to/pose_plugins/configs/x.py and mmpose/tools/train.py', []),
    ('the folder configs/demo/.', ['configs/demo/']),
])
def test_named_paths_checker(text, expected):
    assert list(named_paths(text)) == expected


def test_slug_is_githubs():
    assert slug('What importing pose_plugins changes in a process') == \
        'what-importing-pose_plugins-changes-in-a-process'
    assert slug('GPU training (HRNet-W32 256x192)') == 'gpu-training-hrnet-w32-256x192'
    assert slug('The torch-free runtime: `pose_plugins_runtime`') == 'the-torch-free-runtime-pose_plugins_runtime'
