"""Stand-ins for compiled modules that ``import mmpose`` needs and none of the GPU benchmark calls.

Standard library only: ``tools/gpu_benchmark.py --stub-missing-ops`` runs this file before anything imports
pose_plugins (whose import imports mmpose), on a machine whose mmcv has no compiled ops. One stand-in works:
``xtcocotools.coco.COCO`` is pycocotools' ``COCO`` where pycocotools imports (the same annotation index for
reading a COCO keypoints file, which mmpose's ``CocoDataset`` does).
"""
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, Mapping, Optional, Sequence, Tuple

__all__ = ['MissingOpsStandIn', 'stub_missing_ops']


class MissingOpsStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Modules named in ``prefixes`` import as stand-ins whose every attribute is a class that raises when used.

    Args:
        prefixes: top-level or dotted module names; each and its submodules are stood in for.
        provided: per module name, attributes that work (taken from another package) instead of refusing.
    """

    def __init__(self, prefixes: Tuple[str, ...], provided: Optional[Mapping[str, Mapping[str, Any]]] = None) -> None:
        self.prefixes = prefixes
        self.provided = dict(provided or {})

    def find_spec(self, name: str, path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        if any(name == p or name.startswith(p + '.') for p in self.prefixes):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__path__ = []

        def __getattr__(attr: str) -> type:
            if attr.startswith('__'):
                raise AttributeError(attr)

            def refuse(*args: Any, **kwargs: Any) -> None:
                raise RuntimeError(f'{spec.name}.{attr} is a stand-in (tools/gpu_benchmark.py --stub-missing-ops)')
            return type(attr, (), {'__init__': refuse, '__call__': refuse})
        module.__getattr__ = __getattr__
        module.__dict__.update(self.provided.get(spec.name, {}))
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def stub_missing_ops() -> None:
    """Stand in for ``mmcv.ops`` (when mmcv has no compiled ``_ext``) and xtcocotools (when it cannot import).

    A no-op when both import (also after a first call: the stand-ins then import).
    """
    prefixes, provided = [], {}
    try:
        import mmcv.ops  # noqa: F401
    except Exception:  # ImportError / ModuleNotFoundError of mmcv._ext
        for name in [m for m in sys.modules if m == 'mmcv.ops' or m.startswith('mmcv.ops.')]:
            del sys.modules[name]
        prefixes.append('mmcv.ops')
    try:
        import xtcocotools.coco  # noqa: F401
    except Exception:
        for name in [m for m in sys.modules if m.split('.')[0] == 'xtcocotools']:
            del sys.modules[name]
        prefixes.append('xtcocotools')
        try:
            from pycocotools.coco import COCO
            provided['xtcocotools.coco'] = {'COCO': COCO}
        except Exception:
            pass
    if prefixes:
        sys.meta_path.insert(0, MissingOpsStandIn(tuple(prefixes), provided))
        print(f'stand-ins for {prefixes} (--stub-missing-ops)', flush=True)
