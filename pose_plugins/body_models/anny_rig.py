"""Anny's rig as :class:`~.anny_body.AnnyBody` reads it: the posed-bone presets, the tables derived from the bone
tree, Horn's special Procrustes, and the model arrays read once per process from the installed ``anny`` package.

Note:
    K: Anny's 104 bones; J: the posed bones; V: 13718 vertices; T: 27420 triangles; C: 136 compact phenotype
    blendshapes; P: 624 phenotype blendshapes before compaction; Q: the 26 phenotype variations (anchors) whose
    products they are.
"""
import dataclasses
import functools
import os
import tempfile
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

__all__ = ['BODY_BONES', 'POSED_BONE_PRESETS', 'AnnyArrays', 'anny_model_arrays', 'resolve_posed_bones',
           'posed_ancestors', 'mirror_indices', 'pointer_jumps', 'ancestor_matrix', 'special_procrustes_horn',
           'summation_blocks']

#: What a body pose needs and an image shows: root, spine, neck and head, and per side clavicle, shoulder, upper
#: arm, forearm, wrist, thigh, shin and foot. Left out: ``upperarm02``, ``lowerarm02``, ``upperleg02`` and
#: ``lowerleg02`` (the distal half of a limb segment, on its axis: twist bones), ``pelvis.*``, fingers,
#: metacarpals, toes and eyes; an unposed bone follows its parent.
BODY_BONES: Tuple[str, ...] = (
    'root', 'upperleg01.L', 'lowerleg01.L', 'foot.L', 'upperleg01.R', 'lowerleg01.R', 'foot.R', 'spine05',
    'spine04', 'spine03', 'spine02', 'spine01', 'clavicle.L', 'shoulder01.L', 'upperarm01.L', 'lowerarm01.L',
    'wrist.L', 'clavicle.R', 'shoulder01.R', 'upperarm01.R', 'lowerarm01.R', 'wrist.R', 'neck01', 'neck02', 'neck03',
    'head')
#: ``posed_bones`` presets of AnnyBody; None: every bone of the rig, in Anny's order.
POSED_BONE_PRESETS: Dict[str, Optional[Tuple[str, ...]]] = {'body': BODY_BONES, 'all': None}
#: Anny's construction that AnnyBody reproduces (``anny.Anny()``'s defaults; lbs: no NVIDIA Warp needed).
_ANNY_DEFAULTS = dict(bone_orientation='cached', pose_parameterization='local-ref', root_identity_orientation=False,
                      extrapolate_phenotypes=False)
_RACES = ('african', 'asian', 'caucasian')
#: The layout version of the arrays cache file (a new one when AnnyArrays' fields change).
_CACHE_FORMAT = 1


@dataclasses.dataclass(frozen=True)
class AnnyArrays:
    """The float64 arrays of ``anny.Anny(skinning_method='lbs')`` that its forward reads, read-only.

    The phenotype variation q (in Anny's stacked order) reads column ``source[q]`` of the phenotypes (S: the
    constant 0.5 of those the model does not expose) and weighs it as anchor ``anchor[q]`` of the linear
    interpolation of ``t = clamp(value * scale[q] + offset[q], 0, last[q])``, the value in units of its uniform
    anchor spacing; the race variations (``is_race``) are 1/3 each.
    """

    bone_labels: Tuple[str, ...]  # (K,)
    bone_parents: Tuple[int, ...]  # (K,), -1 for the root
    phenotype_labels: Tuple[str, ...]  # (S,)
    template_vertices: np.ndarray  # (V, 3)
    blendshapes: np.ndarray  # (C, V, 3)
    template_bone_heads: np.ndarray  # (K, 3)
    bone_heads_blendshapes: np.ndarray  # (C, K, 3)
    bone_template_orientation_matrices: np.ndarray  # (K, 3, 3)
    bone_orientation_blendshapes: np.ndarray  # (C, K, 3, 3)
    reference_bone_orientations: np.ndarray  # (K, 3, 3)
    vertex_bone_weights: np.ndarray  # (V, K) dense
    phenotype_mask: np.ndarray  # (P, Q)
    phenotype_projection: np.ndarray  # (P, C)
    variation_source: np.ndarray  # (Q,) int64
    variation_scale: np.ndarray  # (Q,)
    variation_offset: np.ndarray  # (Q,)
    variation_anchor: np.ndarray  # (Q,)
    variation_last: np.ndarray  # (Q,)
    variation_is_race: np.ndarray  # (Q,) bool
    faces: np.ndarray  # (T, 3) int64
    coco_weights: np.ndarray  # (17, V)


def _variation_table(variations: Mapping[str, Sequence[str]], anchors: Mapping[str, Tensor],
                     labels: Sequence[str]) -> Dict[str, np.ndarray]:
    """The per-variation interpolation table of :class:`AnnyArrays` from Anny's phenotype anchors."""
    rows: Dict[str, List[float]] = dict(source=[], scale=[], offset=[], anchor=[], last=[], is_race=[])
    for feature, names in variations.items():
        race = feature == 'race'
        points = np.array([0.0, 1.0]) if race else anchors[feature].numpy()  # race: unused, 1/3 each
        step = np.diff(points)
        if not np.allclose(step, step[0], rtol=1e-12, atol=0):
            raise RuntimeError(f'anny: the anchors of phenotype {feature!r} are not uniformly spaced: {points}')
        for index, _ in enumerate(names):
            rows['source'].append(labels.index(feature) if feature in labels else len(labels))
            rows['scale'].append(1.0 / step[0])
            rows['offset'].append(-points[0] / step[0])
            rows['anchor'].append(index)
            rows['last'].append(len(points) - 1)
            rows['is_race'].append(race)
    table = {key: np.asarray(value, dtype=np.float64) for key, value in rows.items()}
    table['source'] = table['source'].astype(np.int64)
    table['is_race'] = table['is_race'].astype(bool)
    return table


@functools.lru_cache(maxsize=1)
def anny_model_arrays() -> AnnyArrays:
    """The arrays of ``anny.Anny(skinning_method='lbs')``, once per process: read from :func:`arrays_cache_file`
    (``.npz``, ~60 MB), or built by anny (~1 min) and written there on the first use on a machine.

    anny's own model-data cache (~0.8 GB under ``~/.cache/anny``) is not used: the build runs with anny's cache in
    a temporary folder, removed afterwards; the user's ``~/.cache/anny`` is neither read nor written.

    Raises:
        RuntimeError: the installed anny's defaults differ from what AnnyBody reproduces.
    """
    path = arrays_cache_file()
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return _arrays_from_npz(stored)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged or older cache file: built again below and replaced
    arrays = _build_model_arrays()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f'{path.name}.{os.getpid()}.partial')
    with open(partial, 'wb') as f:
        np.savez(f, **{field.name: np.asarray(getattr(arrays, field.name))
                       for field in dataclasses.fields(AnnyArrays)})
    os.replace(partial, path)  # whole or not at all, also with two processes building at once
    return arrays


def arrays_cache_file() -> Path:
    """Where :func:`anny_model_arrays` keeps the arrays: ``$POSE_PLUGINS_CACHE_DIR`` (default
    ``~/.cache/pose_plugins``) ``/anny-<anny version>-arrays-v1.npz``."""
    from importlib.metadata import version
    root = Path(os.environ.get('POSE_PLUGINS_CACHE_DIR') or Path.home() / '.cache' / 'pose_plugins')
    return root / f'anny-{version("anny")}-arrays-v{_CACHE_FORMAT}.npz'


def _arrays_from_npz(stored: Mapping[str, np.ndarray]) -> AnnyArrays:
    """:class:`AnnyArrays` of a cache file's arrays (read-only; labels back to tuples)."""
    values = {}
    for field in dataclasses.fields(AnnyArrays):
        value = np.array(stored[field.name])
        if field.name in ('bone_labels', 'phenotype_labels'):
            value = tuple(str(v) for v in value)
        elif field.name == 'bone_parents':
            value = tuple(int(v) for v in value)
        else:
            value.setflags(write=False)
        values[field.name] = value
    return AnnyArrays(**values)


def _build_model_arrays() -> AnnyArrays:
    """Build ``anny.Anny(skinning_method='lbs')`` (anny's cache in a temporary folder) and copy its arrays."""
    # imported here: anny (and roma) load in ~2 s, paid only by those who build an AnnyBody
    import anny
    from anny.models.model_data import PHENOTYPE_VARIATIONS
    from anny.models.phenotype import make_phenotype_anchors

    import anny.paths
    saved = anny.paths.get_anny_cache_path()
    with tempfile.TemporaryDirectory(prefix='anny-build-') as scratch:
        anny.paths.set_anny_cache_path(scratch)
        try:
            model = anny.Anny(skinning_method='lbs')
        finally:
            anny.paths.set_anny_cache_path(saved)
    found = dict(bone_orientation=model.bone_orientation, pose_parameterization=model.pose_parameterization,
                 root_identity_orientation=model.root_identity_orientation,
                 extrapolate_phenotypes=model.extrapolate_phenotypes)
    labels = tuple(model.phenotype_labels)
    if found != _ANNY_DEFAULTS or model.local_change_labels or model.facial_action_labels or \
            model.rest_orientation_refiner is not None or set(labels) & set(_RACES) or \
            model.phenotype_blendshape_projection is None:
        raise RuntimeError(f'anny {anny.__version__}: anny.Anny() is not the model AnnyBody reproduces '
                           f'({_ANNY_DEFAULTS}, compact phenotype blendshapes of {labels}, no race phenotype, local '
                           f'changes or facial actions); found {found}')
    regressor = anny.KeypointsRegressor.coco(model)

    def array(tensor: Tensor) -> np.ndarray:
        value = tensor.detach().cpu().numpy().copy()
        value.setflags(write=False)
        return value

    table = {f'variation_{key}': value for key, value in _variation_table(
        PHENOTYPE_VARIATIONS, make_phenotype_anchors(torch.float64), labels).items()}
    for value in table.values():
        value.setflags(write=False)
    return AnnyArrays(
        bone_labels=tuple(model.bone_labels), bone_parents=tuple(int(p) for p in model.bone_parents),
        phenotype_labels=labels, template_vertices=array(model.template_vertices),
        blendshapes=array(model.blendshapes), template_bone_heads=array(model.template_bone_heads),
        bone_heads_blendshapes=array(model.bone_heads_blendshapes),
        bone_template_orientation_matrices=array(model.bone_template_orientation_matrices),
        bone_orientation_blendshapes=array(model.bone_orientation_blendshapes),
        reference_bone_orientations=array(model.reference_bone_orientations),
        vertex_bone_weights=array(model.dense_vertex_bone_weights),
        phenotype_mask=array(model.stacked_phenotype_blend_shapes_mask),
        phenotype_projection=array(model.phenotype_blendshape_projection), faces=array(model.faces.long()),
        coco_weights=array(regressor.regression_weights[:17]), **table)


def resolve_posed_bones(posed_bones: Union[str, Sequence[str]], bone_labels: Sequence[str],
                        bone_parents: Sequence[int]) -> Tuple[str, ...]:
    """A preset name or a list of Anny bone labels -> the posed bones' labels.

    Raises:
        ValueError: naming ``posed_bones``: an unknown preset or label, a root not first, a duplicate, a bone
            before its nearest posed ancestor, or a ``.L`` / ``.R`` bone without its mirror partner.
    """
    if isinstance(posed_bones, str):
        if posed_bones not in POSED_BONE_PRESETS:
            raise ValueError(f'AnnyBody: posed_bones must be a preset in {sorted(POSED_BONE_PRESETS)} or a list of '
                             f'Anny bone labels, got {posed_bones!r}')
        preset = POSED_BONE_PRESETS[posed_bones]
        return tuple(bone_labels) if preset is None else preset
    names = tuple(posed_bones)
    unknown = [name for name in names if name not in bone_labels]
    if unknown or not names:
        raise ValueError(f'AnnyBody: posed_bones has labels that are not Anny bones: {unknown} (empty: '
                         f'{not names}); the bones are {list(bone_labels)}')
    if names[0] != bone_labels[0]:
        raise ValueError(f'AnnyBody: posed_bones must start with the root {bone_labels[0]!r}, got {names[0]!r}')
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f'AnnyBody: posed_bones has duplicates {duplicates}')
    parents = posed_ancestors(names, bone_labels, bone_parents)
    late = [name for j, name in enumerate(names) if parents[bone_labels.index(name)] >= j]
    if late:
        raise ValueError(f'AnnyBody: posed_bones lists {late} before their nearest posed ancestors; list each bone '
                         'after them (as in Anny\'s own order)')
    mirror_indices(names)
    return names


def posed_ancestors(posed: Sequence[str], bone_labels: Sequence[str], bone_parents: Sequence[int]) -> Tuple[int, ...]:
    """(K,) each bone's nearest posed ancestor: its index in ``posed``, -1 where there is none (the root)."""
    index = {name: j for j, name in enumerate(posed)}
    nearest = []
    for bone in range(len(bone_labels)):
        walk = bone_parents[bone]
        while walk >= 0 and bone_labels[walk] not in index:
            walk = bone_parents[walk]
        nearest.append(index[bone_labels[walk]] if walk >= 0 else -1)
    return tuple(nearest)


def mirror_indices(names: Sequence[str]) -> Tuple[int, ...]:
    """(J,) each name's ``.L`` / ``.R`` mirror partner (itself on the midline).

    Raises:
        ValueError: naming ``posed_bones`` and the bones whose partner is missing.
    """
    swap = {'.L': '.R', '.R': '.L'}
    partners = [name[:-2] + swap[name[-2:]] if name[-2:] in swap else name for name in names]
    missing = [name for name, partner in zip(names, partners) if partner not in names]
    if missing:
        raise ValueError(f'AnnyBody: posed_bones must hold both sides of each bone, {missing} have no mirror partner')
    return tuple(names.index(partner) for partner in partners)


def pointer_jumps(parents: Sequence[int]) -> np.ndarray:
    """(steps, N) int64 ancestor tables for products along a tree of N nodes in ``ceil(log2(depth + 1))`` steps.

    With ``X`` (N, ...) the per-node factors and an identity appended at index N, ``X = cat(X, I)[jump] @ X`` for
    each row ``jump`` leaves each node's product of its ancestors' factors, root first, and its own.
    """
    jump = np.array([p if p >= 0 else len(parents) for p in parents] + [len(parents)], dtype=np.int64)
    steps = []
    while (jump[:-1] < len(parents)).any():
        steps.append(jump[:-1].copy())
        jump = jump[jump]
    return np.stack(steps) if steps else np.zeros((0, len(parents)), dtype=np.int64)


def ancestor_matrix(parents: Sequence[int]) -> np.ndarray:
    """(K, K) 1 where bone k (column) is bone c (row) or one of its ancestors, 0 elsewhere."""
    matrix = np.zeros((len(parents), len(parents)))
    for bone in range(len(parents)):
        walk = bone
        while walk >= 0:
            matrix[bone, walk] = 1.0
            walk = parents[walk]
    return matrix


def special_procrustes_horn(matrix: Tensor, *, squarings: int = 20) -> Tensor:
    """The rotation R maximising ``tr(R^T M)`` (as ``roma.special_procrustes``) without SVD, eigensolver or
    inverse, so that it exports to ONNX. Horn, "Closed-form solution of absolute orientation using unit
    quaternions", JOSA A 1987: ``tr(R(q)^T M) = q^T N q``, q is N's eigenvector of the largest eigenvalue ``s1 + s2
    + d s3`` (s: M's singular values, d = sign det M), here by repeated squaring of ``N + |M|_F I`` (the shift > s3
    makes it the largest in magnitude) normalised to unit trace, then the column of largest diagonal. The error after
    n squarings: the ratio of the shifted top two eigenvalues (gap ``2 (s2 + d s3)``) to the power ``2^n``.

    Args:
        matrix (Tensor): (..., 3, 3) M.
        squarings (int): Number of squarings.

    Returns:
        Tensor: (..., 3, 3) rotation matrices.
    """
    m = matrix.unbind(-1)
    (m00, m10, m20), (m01, m11, m21), (m02, m12, m22) = [column.unbind(-1) for column in m]
    n = torch.stack([
        m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01,
        m21 - m12, m00 - m11 - m22, m01 + m10, m02 + m20,
        m02 - m20, m01 + m10, m11 - m00 - m22, m12 + m21,
        m10 - m01, m02 + m20, m12 + m21, m22 - m00 - m11], dim=-1).reshape(*matrix.shape[:-2], 4, 4)
    eye = torch.eye(4, dtype=matrix.dtype, device=matrix.device)
    power = n + matrix.square().sum((-2, -1)).sqrt()[..., None, None] * eye
    for _ in range(squarings):
        power = power @ power
        power = power / (power * eye).sum((-2, -1), keepdim=True)
    diagonal = (power * eye).sum(-1)
    pick = (torch.arange(4, device=matrix.device) == diagonal.argmax(-1, keepdim=True)).to(matrix.dtype)
    w, x, y, z = (power * pick[..., None, :]).sum(-1).unbind(-1)
    rotation = torch.stack([
        w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z], dim=-1)
    return (rotation / (w * w + x * x + y * y + z * z)[..., None]).reshape(matrix.shape)


def summation_blocks(length: int) -> int:
    """The number of blocks, a divisor of ``length`` nearest to its square root, that splits a sum of ``length``
    terms into two short sequential sums (within blocks, then over them)."""
    divisors = [n for n in range(1, length + 1) if length % n == 0]
    return min(divisors, key=lambda n: (n + length // n, n))
