"""Checkpoints of the original implementations (and of mmpose 0.x) renamed to our models' parameter names.

Each layout is a list of regex rules tried in order on every key: rename, fold (a conv bias before a BatchNorm
goes into its ``running_mean``, exact in eval mode) or mark unused; unmatched keys are reported. Sources:
leoxiaobin/deep-high-resolution-net.pytorch, microsoft/human-pose-estimation.pytorch,
princeton-vl/pytorch_stacked_hourglass, mks0601/3DMPPE_POSENET_RELEASE, torchvision ResNets and mmpose 0.x.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from torch import Tensor

__all__ = ['LAYOUTS', 'ConversionReport', 'convert_state_dict', 'strip_module_prefix']

#: A rule: (pattern, action); action is a ``re.sub`` template, ``('fold' | 'skip', template)`` or None (unused).
_RESNET_BACKBONE = [(r'^(conv1|bn1|layer[1-4])\.(.*)$', r'backbone.\1.\2')]
_HOURGLASS_RESIDUAL = [  # princeton-vl Residual -> our HourglassResidual (same bn1..bn3 names)
    (r'^(.*)\.conv([12])\.conv\.weight$', r'\1.conv\2.weight'),
    (r'^(.*)\.conv1\.conv\.bias$', ('fold', r'\1.bn2.running_mean')),
    (r'^(.*)\.conv2\.conv\.bias$', ('fold', r'\1.bn3.running_mean')),
    (r'^(.*)\.conv3\.conv\.(weight|bias)$', r'\1.conv3.\2'),
    (r'^(.*)\.skip_layer\.conv\.(weight|bias)$', ('skip', r'\1.skip.\2')),  # used if widths differ
    (r'^(.*)\.(bn[123])\.(.*)$', r'\1.\2.\3'),
]
_HOURGLASS_PREFIXES = [  # outer renames; the residual rules then apply to their output
    (r'^pre\.0\.conv\.weight$', 'backbone.stem.0.weight'),
    (r'^pre\.0\.conv\.bias$', ('fold', 'backbone.stem.1.running_mean')),
    (r'^pre\.0\.bn\.(.*)$', r'backbone.stem.1.\1'),
    (r'^pre\.1\.', 'backbone.stem.3.'),  # pre.2 is the max-pool (stem.4)
    (r'^pre\.3\.', 'backbone.stem.5.'),
    (r'^pre\.4\.', 'backbone.stem.6.'),
    (r'^hgs\.(\d+)\.0\.', r'backbone.hourglasses.\1.'),
    (r'^features\.(\d+)\.0\.', r'backbone.features.\1.0.'),
    (r'^features\.(\d+)\.1\.conv\.weight$', r'backbone.features.\1.1.weight'),
    (r'^features\.(\d+)\.1\.conv\.bias$', ('fold', r'backbone.features.\1.2.running_mean')),
    (r'^features\.(\d+)\.1\.bn\.(.*)$', r'backbone.features.\1.2.\2'),
    (r'^outs\.(\d+)\.conv\.(weight|bias)$', r'backbone.heatmap_convs.\1.\2'),
    (r'^merge_features\.(\d+)\.conv\.conv\.(weight|bias)$', r'backbone.feature_links.\1.\2'),
    (r'^merge_preds\.(\d+)\.conv\.conv\.(weight|bias)$', r'backbone.heatmap_links.\1.\2'),
]
LAYOUTS: Mapping[str, dict] = {
    'pose_hrnet': dict(target='model', rules=[
        (r'^(conv[12]|bn[12]|layer1|transition[1-3]|stage[2-4])\.(.*)$', r'backbone.\1.\2'),
        (r'^final_layer\.(weight|bias)$', r'head.final_layer.\1'),
    ]),
    'pose_resnet': dict(target='model', rules=_RESNET_BACKBONE + [
        (r'^deconv_layers\.(.*)$', r'head.deconv_layers.\1'),
        (r'^final_layer\.(weight|bias)$', r'head.final_layer.\1'),
    ]),
    'hourglass': dict(target='model', rules=_HOURGLASS_PREFIXES, nested=_HOURGLASS_RESIDUAL),
    'posenet3d': dict(target='model', rules=[
        (r'^backbone\.(conv1|bn1|layer[1-4])\.(.*)$', r'backbone.\1.\2'),
        (r'^backbone\.fc\.(.*)$', None),
        (r'^head\.(deconv_layers|final_layer)\.(.*)$', r'head.\1.\2'),
    ]),
    'torchvision_resnet': dict(target='backbone', rules=[
        (r'^(conv1|bn1|layer[1-4])\.(.*)$', r'\1.\2'),
        (r'^fc\.(weight|bias)$', None),
    ]),
    'mmpose0x': dict(target='model', rules=[
        (r'^backbone\.(.*)$', r'backbone.\1'),
        (r'^keypoint_head\.(.*)$', r'head.\1'),
    ]),
}


@dataclass
class ConversionReport:
    """What :func:`convert_state_dict` did with the source keys.

    Attributes:
        renamed (Dict[str, str]): source key -> our key.
        folded (Dict[str, str]): source conv bias -> the running mean it was folded into.
        unused (List[str]): Source keys its model does not use (e.g. a classifier).
        unmatched (List[str]): Source keys no rule knows (not converted).
    """
    renamed: Dict[str, str] = field(default_factory=dict)
    folded: Dict[str, str] = field(default_factory=dict)
    unused: List[str] = field(default_factory=list)
    unmatched: List[str] = field(default_factory=list)


def strip_module_prefix(state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Keys without any (repeated) ``module.`` prefix of ``DataParallel``."""
    stripped = {}
    for key, value in state_dict.items():
        while key.startswith('module.'):
            key = key.removeprefix('module.')
        stripped[key] = value
    return stripped


def _apply(rules: list, key: str) -> Tuple[bool, Optional[Tuple[str, str]]]:
    """``(matched, (kind, our key) or None for unused)`` of the first rule matching ``key``."""
    for pattern, action in rules:
        if re.match(pattern, key) is None:
            continue
        if action is None:
            return True, None
        kind, template = action if isinstance(action, tuple) else ('rename', action)
        return True, (kind, re.sub(pattern, template, key, count=1))
    return False, None


def _resolve(layout: Mapping[str, list], key: str) -> Tuple[bool, Optional[Tuple[str, str]]]:
    """The layout's action for ``key``; a renamed key is then tried against the ``nested`` rules."""
    found, action = _apply(layout['rules'], key)
    if found and action is not None and action[0] == 'rename' and layout.get('nested'):
        nested_found, nested_action = _apply(layout['nested'], action[1])
        if nested_found:
            return nested_found, nested_action
    return found, action


def _square(weight: Tensor) -> bool:
    return weight.shape[0] == weight.shape[1]


def convert_state_dict(source: Mapping[str, Tensor], layout: str) -> Tuple[Dict[str, Tensor], ConversionReport]:
    """Our state dict from a source state dict of ``layout`` (one of :data:`LAYOUTS`).

    Args:
        source (Mapping[str, Tensor]): The source model's state dict (``module.`` prefixes allowed).
        layout (str): A key of :data:`LAYOUTS`.

    Returns:
        Tuple[dict, ConversionReport]: Our state dict (bare backbone keys for ``torchvision_resnet``); the report.

    Raises:
        ValueError: Unknown ``layout``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}; known: {sorted(LAYOUTS)}')
    source = strip_module_prefix(source)
    report = ConversionReport()
    converted: Dict[str, Tensor] = {}
    folds: List[Tuple[str, str, Tensor]] = []
    for key, value in source.items():
        found, action = _resolve(LAYOUTS[layout], key)
        if not found:
            report.unmatched.append(key)
        elif action is None:
            report.unused.append(key)
        elif action[0] == 'fold':
            folds.append((key, action[1], value))
        elif action[0] == 'skip' and _square(source[key.rsplit('.', 1)[0] + '.weight']):
            report.unused.append(key)  # equal widths: the source never calls skip_layer
        else:
            converted[action[1]] = value
            report.renamed[key] = action[1]
    for key, running_mean, bias in folds:
        if running_mean not in converted:
            report.unmatched.append(key)
            continue
        converted[running_mean] = converted[running_mean] - bias.to(converted[running_mean].dtype)
        report.folded[key] = running_mean
    return converted, report
