"""A top-down pose estimator with its decoding inside ``forward``: crops in, keypoints and scores out.

mmpose 1.x's exported graphs stop at the heatmaps, leaving the decoding (argmax, the quarter-pixel shift, flip
test, the mapping back to the image) to Python. :class:`DecodingPoseModel` wraps one of our
``TopdownPoseEstimator`` s so that all of it is tensor operations that ``torch.onnx.export`` records: the
backbone and the head's ``forward``, ``prediction_outputs`` and ``flip_back`` (the head's
``test_time_outputs``, the step ``BasePoseHead.predict`` decodes), then the codec's decoding
(``decode_heatmaps`` of a heatmap codec, which takes its torch path while traced), for the integral heads the
soft-argmax coordinates scaled as ``IntegralRegressionLabel.decode`` scales them, or a head's own
``decode_tensors`` (the mesh head: keypoints, 3D keypoints and vertices).
"""
from typing import Any, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from pose_plugins.codecs import BaseHeatmapCodec, IntegralRegressionLabel, MSRAHeatmap
from pose_plugins.models.heads.base_pose_head import BasePoseHead

__all__ = ['DecodingPoseModel']


class DecodingPoseModel(nn.Module):
    """``TopdownPoseEstimator`` + decoding: preprocessed crops -> keypoints and scores, optionally in image pixels.

    The numbers are those of ``estimator.predict``: the same modules and the same decoding functions, the flip
    test of ``BasePoseHead.predict`` (``test_cfg`` ``flip_mode``, ``shift_heatmap``, ``shift_coords``), and, with
    boxes, mmpose's ``TopdownPoseEstimator.add_pred_to_datasample`` mapping ``keypoints / input_size * scale +
    center - scale / 2`` (x and y only; a 3D model's depth stays root-relative millimetres).

    Note:
        - B: batch size (crops)
        - K: number of keypoints
        - D: 2, or 3 for a 3D integral model (x, y in pixels, z root-relative in mm)
        - [w, h]: the codec's ``input_size``

    Args:
        estimator (nn.Module): An mmpose ``TopdownPoseEstimator`` whose head is one of ours
            (:class:`~pose_plugins.models.heads.base_pose_head.BasePoseHead`) with a decoder, in eval mode.
        flip_test (bool): Average with the mirrored crops' outputs (doubles the network's cost).
        flip_indices (Sequence[int], optional): Left/right swap of the keypoints (the dataset meta's
            ``flip_indices``); needed with ``flip_test``.
        with_boxes (bool): ``forward`` takes each crop's ``center`` and ``scale`` and returns image pixels.

    Shapes:
        - inputs: (B, 3, h, w) float32 crops, normalised as the config's data preprocessor does
        - center, scale (with ``with_boxes``): (B, 2) float32, the crop's box centre and (aspect-fixed) size in
          image pixels (mmpose's ``input_center`` / ``input_scale``)
        - keypoints: (B, K, D) float32, in crop pixels or (``with_boxes``) image pixels
        - scores: (B, K) float32
        - then the head's ``export_fields`` (mesh head: keypoints_3d (B, K, 3), vertices (B, V, 3), metres)
    """

    def __init__(self, *, estimator: nn.Module, flip_test: bool = False,
                 flip_indices: Optional[Sequence[int]] = None, with_boxes: bool = False) -> None:
        super().__init__()
        head = getattr(estimator, 'head', None)
        if not isinstance(head, BasePoseHead):
            raise TypeError(f'DecodingPoseModel: the model\'s head must be one of pose_plugins\' heads '
                            f'(BasePoseHead), got {type(head).__name__}; mmpose\'s own heads are exported by '
                            'mmdeploy')
        if type(head).predict is not BasePoseHead.predict:
            raise NotImplementedError(
                f'DecodingPoseModel: {type(head).__name__} has its own predict; the in-graph decoding follows '
                'BasePoseHead.predict only, so this head cannot be exported with its decoding')
        codec = head.decoder
        #: The head decodes its own outputs (the mesh head): no codec; its export_fields follow keypoints, scores.
        self.head_decodes = type(head).decode_tensors is not BasePoseHead.decode_tensors
        if not self.head_decodes:
            self._check_codec(head, codec)
        if flip_test and flip_indices is None:
            raise ValueError('DecodingPoseModel: flip_test needs flip_indices (the dataset meta\'s flip_indices)')
        input_size = tuple(head.input_size if self.head_decodes else codec.input_size)
        self.output_names: Tuple[str, ...] = ('keypoints', 'scores') + tuple(getattr(head, 'export_fields', ()))
        self.estimator = estimator
        self.flip_test = bool(flip_test)
        self.with_boxes = bool(with_boxes)
        self.test_cfg: Mapping[str, Any] = dict(estimator.test_cfg or {})
        self.metainfo = dict(flip_indices=list(flip_indices) if flip_indices is not None else None,
                             input_size=input_size)
        self.register_buffer('input_size', torch.tensor(input_size, dtype=torch.float32), persistent=False)

    @staticmethod
    def _check_codec(head: BasePoseHead, codec: Any) -> None:
        if codec is None:
            raise ValueError(f'DecodingPoseModel: {type(head).__name__} has no decoder; set head.decoder (the '
                             'config\'s codec) to export keypoints')
        if isinstance(codec, MSRAHeatmap) and codec.unbiased:
            raise NotImplementedError(
                'DecodingPoseModel: cannot put DARK decoding (codec MSRAHeatmap with unbiased=True) in an ONNX graph '
                'yet: refine_keypoints_dark decides per batch whether its 1e-10 clamp can act (a data-dependent '
                'branch the tracer would freeze). Export with unbiased=False in the codec (plain argmax + quarter '
                'offset) or decode the heatmaps in Python')
        if not isinstance(codec, (BaseHeatmapCodec, IntegralRegressionLabel)):
            raise NotImplementedError(f'DecodingPoseModel: no in-graph decoding for codec {type(codec).__name__}; '
                                      'supported: BaseHeatmapCodec subclasses and IntegralRegressionLabel')

    @property
    def codec(self) -> Any:
        """The head's decoder (the config's codec)."""
        return self.estimator.head.decoder

    def forward(self, inputs: Tensor, center: Optional[Tensor] = None,
                scale: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        """Keypoints and scores of a batch of crops, then the head's ``export_fields`` (class docstring)."""
        head = self.estimator.head
        flipped = self.estimator.extract_feat(inputs.flip(-1)) if self.flip_test else None
        outputs = head.test_time_outputs(self.estimator.extract_feat(inputs), flipped, self.metainfo, self.test_cfg)
        extra = ()
        if self.head_decodes:
            decoded = head.decode_tensors(outputs)
            keypoints, scores = decoded['keypoints'], decoded['scores']
            extra = tuple(decoded[name].float() for name in self.output_names[2:])
        elif 'coords' in outputs:
            keypoints, scores = self._denormalise(outputs['coords'])
        else:
            keypoints, scores = self.codec.decode_heatmaps(outputs['heatmaps'])
        if self.with_boxes:
            if center is None or scale is None:
                raise ValueError('DecodingPoseModel(with_boxes=True) needs center and scale (B, 2)')
            xy = keypoints[..., :2] / self.input_size * scale[:, None] + center[:, None] - 0.5 * scale[:, None]
            keypoints = torch.cat([xy, keypoints[..., 2:]], dim=-1)
        return (keypoints, scores.float()) + extra

    def _denormalise(self, coords: Tensor) -> Tuple[Tensor, Tensor]:
        """``IntegralRegressionLabel.decode`` in torch: normalised (B, K, D) -> pixels (and mm), scores of 1."""
        codec = self.codec
        factors = list(codec.input_size) + ([codec.bbox_3d_shape] if codec.is_3d else [])
        offsets = [0.0, 0.0] + ([-0.5 * codec.bbox_3d_shape] if codec.is_3d else [])
        keypoints = coords.float() * torch.tensor(factors) + torch.tensor(offsets)
        return keypoints, torch.ones_like(coords[..., 0])
