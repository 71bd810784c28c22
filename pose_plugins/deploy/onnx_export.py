"""Export one of our top-down models to ONNX with the decoding in the graph, and the metadata a runtime needs.

The graph (:class:`~pose_plugins.deploy.decoding_pose_model.DecodingPoseModel`): input ``inputs`` (B, 3, h, w)
float32, dynamic batch, normalised as the config's data preprocessor does; with boxes also ``center`` and
``scale`` (B, 2); outputs ``keypoints`` (B, K, D) and ``scores`` (B, K), and for a mesh model ``keypoints_3d``
(B, K, 3) and ``vertices`` (B, V, 3). The preprocessing that stays outside the
graph (box -> centre and scale with mmpose's ``GetBBoxCenterScale`` padding, the affine crop of
``TopdownAffine``, BGR -> RGB, mean and std) is written as JSON strings in the model's ``metadata_props``
(:data:`METADATA_KEYS`), which the torch-free runtime (``pose_plugins_runtime``) reads.
"""
import json
import os
import os.path as osp
import tempfile
import warnings
from typing import Any, Dict, Optional

import torch
from torch import nn

from .decoding_pose_model import DecodingPoseModel
from .file_output import default_permissions

__all__ = ['export_onnx', 'preprocessing_metadata', 'read_metadata', 'METADATA_KEYS', 'DEFAULT_OPSET']

#: The opset of our exported graphs; 13 is the lowest at which every op used (ArgMax, ScatterElements, Gather,
#: Slice with steps for the flip) has the semantics torch's exporter relies on.
DEFAULT_OPSET = 17
MIN_OPSET = 13
#: metadata_props written into every exported model (values are JSON).
METADATA_KEYS = ('pose_plugins_format', 'input_size', 'mean', 'std', 'bgr_to_rgb', 'bbox_padding', 'with_boxes',
                 'flip_test', 'keypoint_dims', 'keypoint_names', 'skeleton_links', 'config')


def _test_pipeline(cfg: Any) -> list:
    for loader in ('test_dataloader', 'val_dataloader'):
        pipeline = cfg.get(loader, {}).get('dataset', {}).get('pipeline')
        if pipeline:
            return list(pipeline)
    return []


def preprocessing_metadata(estimator: nn.Module) -> Dict[str, Any]:
    """What the runtime must do before and after the graph, from the model's data preprocessor, its config's
    test pipeline (``estimator.cfg``, set by mmpose's ``init_model``) and its dataset meta.

    Returns:
        dict: ``input_size`` [w, h], ``mean`` / ``std`` (3 floats, of the channel order after the swap),
        ``bgr_to_rgb`` (bool), ``bbox_padding`` (``GetBBoxCenterScale`` padding, 1.25 by default),
        ``keypoint_names`` (K), ``skeleton_links`` (pairs of keypoint indices), ``config`` (file name).

    Raises:
        ValueError: naming the pipeline step or preprocessor field the runtime cannot reproduce.
    """
    cfg = getattr(estimator, 'cfg', None)
    if cfg is None:
        raise ValueError('export needs the model built by mmpose.apis.init_model (model.cfg holds the config)')
    from mmengine.model import ImgDataPreprocessor
    preprocessor = getattr(estimator, 'data_preprocessor', None)
    if not isinstance(preprocessor, ImgDataPreprocessor) or preprocessor.pad_size_divisor != 1:
        raise ValueError(f'export: the model\'s data_preprocessor {type(preprocessor).__name__} is not reproduced by '
                         'the runtime; an ImgDataPreprocessor (mmpose\'s PoseDataPreprocessor or a subclass) with '
                         'pad_size_divisor=1 is')
    normalize = preprocessor._enable_normalize
    padding = 1.25
    for step in _test_pipeline(cfg):
        kind = str(step.get('type', '')).split('.')[-1]  # mmpose's or a scoped variant of it
        if kind == 'GetBBoxCenterScale':
            padding = float(step.get('padding', 1.25))
        if kind == 'TopdownAffine' and step.get('use_udp', False):
            raise ValueError('export: the test pipeline\'s TopdownAffine(use_udp=True) is not reproduced by the '
                             'runtime; only use_udp=False is supported')
    meta = getattr(estimator, 'dataset_meta', None) or {}
    names = meta.get('keypoint_id2name', {})
    head = estimator.head
    input_size = head.decoder.input_size if head.decoder is not None else head.input_size
    return dict(
        input_size=[int(s) for s in input_size],
        mean=[float(v) for v in preprocessor.mean.flatten().expand(3)] if normalize else [0.0] * 3,
        std=[float(v) for v in preprocessor.std.flatten().expand(3)] if normalize else [1.0] * 3,
        bgr_to_rgb=bool(preprocessor._channel_conversion),  # a swap either way: BGR <-> RGB
        bbox_padding=padding,
        keypoint_names=[names[i] for i in sorted(names)],
        skeleton_links=[[int(a), int(b)] for a, b in meta.get('skeleton_links', [])],
        config=osp.basename(str(getattr(cfg, 'filename', '') or '')),
    )


def export_onnx(estimator: nn.Module, out_file: str, *, flip_test: bool = False, with_boxes: bool = False,
                opset: int = DEFAULT_OPSET, batch_size: int = 2, overwrite: bool = False,
                check: bool = True) -> str:
    """Write ``estimator`` with in-graph decoding to ``out_file`` (see the module docstring for the graph).

    Args:
        estimator (nn.Module): A ``TopdownPoseEstimator`` of ours from mmpose's ``init_model`` (``cfg`` and
            ``dataset_meta`` set), on the CPU.
        out_file (str): Path of the ``.onnx`` file; an existing file is refused unless ``overwrite``.
        flip_test (bool): Put the flip test in the graph.
        with_boxes (bool): Inputs ``center``, ``scale`` (B, 2) and keypoints in image pixels.
        opset (int): ONNX opset, >= 13.
        batch_size (int): Batch of the example traced (any batch runs afterwards).
        overwrite (bool): Replace an existing ``out_file``.
        check (bool): Run ``onnx.checker.check_model(full_check=True)`` (types and shapes) on the result.

    Returns:
        str: ``out_file``.
    """
    import onnx
    if not isinstance(opset, int) or opset < MIN_OPSET:
        raise ValueError(f'export: opset must be an int >= {MIN_OPSET}, got {opset!r}')
    if osp.exists(out_file) and not overwrite:
        raise FileExistsError(f'export: {out_file} exists; choose another --out or pass --overwrite')
    flip_indices = (getattr(estimator, 'dataset_meta', None) or {}).get('flip_indices')
    model = DecodingPoseModel(estimator=estimator, flip_test=flip_test, flip_indices=flip_indices,
                              with_boxes=with_boxes).eval()  # refuses what it cannot export, first
    metadata = preprocessing_metadata(estimator)
    width, height = metadata['input_size']
    generator = torch.Generator().manual_seed(0)
    example = [torch.randn(batch_size, 3, height, width, generator=generator)]
    names = ['inputs']
    if with_boxes:
        example += [torch.rand(batch_size, 2, generator=generator) * 100, torch.rand(batch_size, 2,
                                                                                   generator=generator) * 100 + 50]
        names += ['center', 'scale']
    outputs = list(model.output_names)
    dynamic_axes = {name: {0: 'batch'} for name in names + outputs}
    with torch.no_grad():
        keypoints = model(*example)[0]
    metadata.update(pose_plugins_format=1, with_boxes=with_boxes, flip_test=flip_test,
                    keypoint_dims=int(keypoints.shape[-1]))

    directory = osp.dirname(osp.abspath(out_file))
    os.makedirs(directory, exist_ok=True)
    fd, partial = tempfile.mkstemp(suffix='.onnx.partial', dir=directory)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # the tracer warns at every shape read as a Python value; those are constants of the model (K, H, W)
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            torch.onnx.export(model, tuple(example), partial, dynamo=False, input_names=names,
                              output_names=outputs, dynamic_axes=dynamic_axes,
                              opset_version=opset, do_constant_folding=True)
        proto = onnx.load(partial)
        for key in METADATA_KEYS:
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, json.dumps(metadata[key])
        proto.producer_name = 'pose_plugins'
        if check:
            onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, partial)
        default_permissions(partial)
        if overwrite:
            os.replace(partial, out_file)
        else:
            os.link(partial, out_file)  # fails, rather than replacing, if out_file appeared meanwhile
            os.remove(partial)
    finally:
        if osp.exists(partial):
            os.remove(partial)
    return out_file


def read_metadata(onnx_file: str) -> Optional[Dict[str, Any]]:
    """The :data:`METADATA_KEYS` of an exported model, decoded from JSON (used by tests and tools)."""
    import onnx
    props = {p.key: p.value for p in onnx.load(onnx_file, load_external_data=False).metadata_props}
    return {key: json.loads(props[key]) for key in METADATA_KEYS if key in props}
