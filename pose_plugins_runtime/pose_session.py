"""An exported pose model and its preprocessing, run on an image and person boxes with onnxruntime."""
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .preprocessing import crop_boxes

__all__ = ['PoseSession']

_REQUIRED_METADATA = ('input_size', 'mean', 'std', 'bgr_to_rgb', 'bbox_padding', 'with_boxes', 'keypoint_dims')


class PoseSession:
    """A model exported by ``tools/export_onnx.py`` (``model_file``), run with onnxruntime ``providers``
    (default: CPU): image + person boxes -> keypoints in image pixels. The preprocessing values come from the model's
    metadata; decoding is in the graph. A graph exported without boxes returns crop pixels, mapped to the image with
    mmpose's ``keypoints / input_size * scale + center - scale / 2``."""

    def __init__(self, model_file: str, *, providers: Optional[Sequence[str]] = None) -> None:
        import onnxruntime
        self.session = onnxruntime.InferenceSession(str(model_file),
                                                    providers=list(providers or ['CPUExecutionProvider']))
        props = self.session.get_modelmeta().custom_metadata_map
        missing = [key for key in _REQUIRED_METADATA if key not in props]
        if missing:
            raise ValueError(f'{model_file}: metadata {missing} missing; export the model with '
                             'tools/export_onnx.py (it writes the preprocessing into the file)')
        self.metadata: Dict[str, Any] = {key: json.loads(value) for key, value in props.items()}
        self.input_size: Tuple[int, int] = tuple(self.metadata['input_size'])
        self.keypoint_names: List[str] = list(self.metadata.get('keypoint_names', []))
        self.skeleton_links: List[Tuple[int, int]] = [tuple(p) for p in self.metadata.get('skeleton_links', [])]
        #: ``'3d'`` for keypoints with a depth, else ``'2d'`` (what the video loop draws and writes).
        self.kind = '3d' if int(self.metadata['keypoint_dims']) == 3 else '2d'

    def preprocess(self, image: np.ndarray,
                   boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Crops (M, 3, h, w) float32, centres (M, 2) and scales (M, 2) of ``boxes`` (M, 4) in ``image``."""
        meta = self.metadata
        return crop_boxes(image, boxes, input_size=self.input_size, mean=meta['mean'], std=meta['std'],
                          bgr_to_rgb=meta['bgr_to_rgb'], padding=meta['bbox_padding'])

    def __call__(self, image: np.ndarray,
                 boxes: Union[np.ndarray, Sequence[Sequence[float]], None] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints (M, K, D) float32 in image pixels (D = 3: z root-relative in mm) and scores (M, K) of the
        people in ``boxes`` (M, 4) ``x1, y1, x2, y2`` (a 5th column is ignored; ``None``: the whole image) in a BGR
        uint8 ``image`` (H, W, 3). Raises ValueError for a bad image or boxes (non-finite, x2 <= x1 or y2 <= y1)."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'PoseSession: image must be an (H, W, 3) uint8 BGR array, got shape {image.shape} '
                             f'and dtype {image.dtype}')
        if boxes is None:
            boxes = np.array([[0, 0, image.shape[1], image.shape[0]]], dtype=np.float32)
        boxes = np.asarray(boxes, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
            raise ValueError(f'PoseSession: boxes must be (M, 4) [x1, y1, x2, y2] (or (M, 5) with scores), got '
                             f'shape {boxes.shape}')
        boxes = boxes[:, :4]
        if not np.isfinite(boxes).all() or (boxes[:, 2] <= boxes[:, 0]).any() or (boxes[:, 3] <= boxes[:, 1]).any():
            raise ValueError(f'PoseSession: boxes must be finite with x2 > x1 and y2 > y1, got {boxes.tolist()}')
        dims = int(self.metadata['keypoint_dims'])
        num_keypoints = len(self.keypoint_names)
        if len(boxes) == 0:
            return np.zeros((0, num_keypoints, dims), np.float32), np.zeros((0, num_keypoints), np.float32)
        crops, center, scale = self.preprocess(image, boxes)
        feeds = {'inputs': crops}
        if self.metadata['with_boxes']:
            feeds.update(center=center.astype(np.float32), scale=scale.astype(np.float32))
        keypoints, scores = self.session.run(['keypoints', 'scores'], feeds)
        if not self.metadata['with_boxes']:
            xy = keypoints[..., :2] / np.asarray(self.input_size) * scale[:, None] + center[:, None] \
                - 0.5 * scale[:, None]
            keypoints = np.concatenate([xy, keypoints[..., 2:]], axis=-1).astype(np.float32)
        return keypoints, scores
