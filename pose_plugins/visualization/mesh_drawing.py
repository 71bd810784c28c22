"""Drawing triangle meshes into images (z-buffered, shaded) and writing ``.obj`` files.

:func:`rasterize` is a numpy z-buffer (depth interpolated as ``1 / Z``, exact under perspective), so meshes occlude
each other and themselves per pixel; :func:`shade_faces` is Lambertian; :func:`draw_meshes` composes both;
:func:`project_to_image` maps :class:`~pose_plugins.models.heads.MeshRegressionHead`'s crop camera to the image.
Camera frame X right, Y down, Z forward; pixel centres at integers (OpenCV).

Note:
    T: triangles; V: vertices; P: meshes (people); H, W: image size.
"""
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ['rasterize', 'shade_faces', 'draw_meshes', 'draw_recovered_meshes', 'project_to_image', 'write_obj',
           'MESH_COLOUR']

#: BGR colour of a recovered mesh in the pictures (light blue).
MESH_COLOUR = (230.0, 170.0, 120.0)
# Triangles per vectorised step for boxes over 32 pixels a side (smaller boxes: one step per power-of-two size).
_CHUNK = 4096


def rasterize(points: np.ndarray, depths: np.ndarray, image_size: Tuple[int, int]
              ) -> Tuple[np.ndarray, np.ndarray]:
    """Nearest triangle per pixel (z-buffer) and every covered pixel of every triangle.

    Args:
        points (np.ndarray): (T, 3, 2) vertex pixel coordinates of each triangle.
        depths (np.ndarray): (T, 3) vertex depths Z (> 0, same unit); triangles with a vertex at Z <= 0 are
            skipped (behind the camera).
        image_size (tuple): ``(W, H)``.

    Returns:
        tuple:
        - face_index (np.ndarray): (H, W) int64, the nearest triangle covering each pixel centre, -1 for none.
        - fragments (np.ndarray): (N, 2) int64 ``(pixel index v * W + u, triangle)`` of every covered pixel
          (occluded ones too: the amodal coverage, e.g. a person's whole silhouette).
    """
    width, height = image_size
    points = np.asarray(points, dtype=np.float64)
    depths = np.asarray(depths, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (3, 2) or depths.shape != points.shape[:2]:
        raise ValueError(f'rasterize: points must be (T, 3, 2) and depths (T, 3), got {points.shape} and '
                         f'{depths.shape}')
    low = np.ceil(points.min(axis=1)).astype(np.int64)
    high = np.floor(points.max(axis=1)).astype(np.int64)
    low = np.maximum(low, 0)
    high = np.minimum(high, [width - 1, height - 1])
    p0, p1, p2 = points[:, 0], points[:, 1], points[:, 2]
    area = (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p1[:, 1] - p0[:, 1]) * (p2[:, 0] - p0[:, 0])
    keep = np.all(high >= low, axis=1) & (np.abs(area) > 1e-12) & np.all(depths > 0, axis=1)
    side = np.where(keep, np.max(high - low + 1, axis=1), 0)
    pixels, inverse_depths, triangles = [], [], []
    size = 1
    while True:
        in_group = np.flatnonzero(keep & (side <= size) & (side > size // 2))
        for start in range(0, len(in_group), _CHUNK if size > 32 else len(in_group) or 1):
            index = in_group[start:start + (_CHUNK if size > 32 else len(in_group))]
            found = _cover(index, low, high, points, depths, area, size, width)
            for store, value in zip((pixels, inverse_depths, triangles), found):
                store.append(value)
        if size >= side.max(initial=0):
            break
        size *= 2
    face_index = np.full(height * width, -1, dtype=np.int64)
    if not pixels:
        return face_index.reshape(height, width), np.zeros((0, 2), dtype=np.int64)
    pixel = np.concatenate(pixels)
    triangle = np.concatenate(triangles)
    order = np.lexsort((-np.concatenate(inverse_depths), pixel))  # by pixel, nearest (largest 1 / Z) first
    first = np.ones(len(order), dtype=bool)
    first[1:] = pixel[order][1:] != pixel[order][:-1]
    face_index[pixel[order][first]] = triangle[order][first]
    return face_index.reshape(height, width), np.stack([pixel, triangle], axis=1)


def _cover(index: np.ndarray, low: np.ndarray, high: np.ndarray, points: np.ndarray, depths: np.ndarray,
           area: np.ndarray, size: int, width: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covered pixel centres of the triangles ``index``, whose boxes are at most ``size`` a side: flat (pixel
    index ``v * width + u``, interpolated 1 / Z, triangle). A centre on an edge counts as inside."""
    offsets = np.arange(size)
    gx, gy = np.broadcast_arrays(low[index, 0][:, None, None] + offsets[None, None, :],
                                 low[index, 1][:, None, None] + offsets[None, :, None])  # (n, s, s)
    valid = (gx <= high[index, 0][:, None, None]) & (gy <= high[index, 1][:, None, None])
    p = points[index][:, :, None, None, :]  # (n, 3, 1, 1, 2)
    weights = []
    for a, b in ((1, 2), (2, 0), (0, 1)):  # barycentric weight of vertex 0, 1, 2: the edge opposite it
        edge = p[:, b] - p[:, a]
        weights.append((edge[..., 0] * (gy - p[:, a, ..., 1]) - edge[..., 1] * (gx - p[:, a, ..., 0]))
                       / area[index][:, None, None])
    inside = valid & (weights[0] >= 0) & (weights[1] >= 0) & (weights[2] >= 0)
    n, ys, xs = np.nonzero(inside)
    inv = 1.0 / depths[index]
    inverse_depth = sum(w[n, ys, xs] * inv[n, k] for k, w in enumerate(weights))
    return gy[n, ys, xs] * width + gx[n, ys, xs], inverse_depth, index[n]


def shade_faces(vertices: np.ndarray, faces: np.ndarray, *, light: Sequence[float] = (0.0, 0.0, 1.0),
                ambient: float = 0.35) -> np.ndarray:
    """Lambertian shade (T, ) float64 in [ambient, 1] of the faces (T, 3) (counter-clockwise from outside, as
    SMPL's) of camera-frame ``vertices`` (V, 3) for a light travelling along ``light`` (default: from the camera)."""
    tri = np.asarray(vertices, dtype=np.float64)[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    direction = np.asarray(light, dtype=np.float64)
    direction = direction / np.linalg.norm(direction)
    return ambient + (1.0 - ambient) * np.clip(-(normal @ direction), 0.0, 1.0)


def draw_meshes(image: np.ndarray, meshes: Sequence[Tuple[np.ndarray, np.ndarray]], faces: np.ndarray, *,
                colours: Optional[Sequence[np.ndarray]] = None, shades: Optional[Sequence[np.ndarray]] = None,
                alpha: float = 1.0) -> Tuple[np.ndarray, np.ndarray, List[np.ndarray]]:
    """Draw meshes over ``image``, nearest surface on top.

    Args:
        image (np.ndarray): (H, W, 3) uint8 BGR; not modified.
        meshes (Sequence[tuple]): Per mesh ``(pixels (V, 2), depths (V, ))``: projected vertices and their depths
            (one depth scale for all meshes, so they occlude each other correctly).
        faces (np.ndarray): (T, 3) vertex indices shared by the meshes.
        colours (Sequence[np.ndarray], optional): Per mesh a BGR colour (3, ) or per-face colours (T, 3).
            Defaults to :data:`MESH_COLOUR`.
        shades (Sequence[np.ndarray], optional): Per mesh (T, ) factors on the colours (:func:`shade_faces`).
            ``None``: unshaded.
        alpha (float): Opacity of the meshes over the image.

    Returns:
        tuple:
        - drawing (np.ndarray): (H, W, 3) uint8.
        - owner (np.ndarray): (H, W) int64: 1 + the index of the mesh on top of each pixel, 0 for none.
        - silhouettes (list[np.ndarray]): per mesh (H, W) bool, its whole (amodal) silhouette.
    """
    height, width = image.shape[:2]
    faces = np.asarray(faces, dtype=np.int64)
    num = len(faces)
    points = np.concatenate([np.asarray(pix, dtype=np.float64)[faces] for pix, _ in meshes]) if meshes \
        else np.zeros((0, 3, 2))
    depth = np.concatenate([np.asarray(d, dtype=np.float64)[faces] for _, d in meshes]) if meshes \
        else np.zeros((0, 3))
    face_index, fragments = rasterize(points, depth, (width, height))
    colour = np.zeros((len(points), 3))
    for m in range(len(meshes)):
        c = np.asarray(MESH_COLOUR if colours is None else colours[m], dtype=np.float64)
        c = np.broadcast_to(c, (num, 3))
        colour[m * num:(m + 1) * num] = c if shades is None else c * np.asarray(shades[m])[:, None]
    drawn = face_index >= 0
    out = image.astype(np.float64)
    out[drawn] = (1.0 - alpha) * out[drawn] + alpha * colour[face_index[drawn]]
    owner = np.where(drawn, face_index // max(num, 1) + 1, 0)
    silhouettes = []
    for m in range(len(meshes)):
        mask = np.zeros(height * width, dtype=bool)
        mine = (fragments[:, 1] >= m * num) & (fragments[:, 1] < (m + 1) * num)
        mask[fragments[mine, 0]] = True
        silhouettes.append(mask.reshape(height, width))
    return np.clip(np.round(out), 0, 255).astype(np.uint8), owner, silhouettes


def project_to_image(vertices: np.ndarray, camera_translation: np.ndarray, *, focal_length: float,
                     input_size: Tuple[int, int], input_center: np.ndarray, input_scale: np.ndarray
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """A recovered mesh in the crop camera -> image pixels and a depth comparable across crops.

    The head's camera is a pinhole of focal ``focal_length`` on a crop of ``input_size`` pixels standing for
    ``input_scale`` image pixels around ``input_center`` (mmpose's top-down crop, unrotated). Depths are scaled by
    ``input_size / input_scale`` (one camera of focal ``focal_length`` image pixels), so people of different crops
    are depth-ordered correctly.

    Args:
        vertices (np.ndarray): (V, 3) metres; ``camera_translation`` (3, ): the head's outputs.
        focal_length (float): The head's focal length (crop pixels); ``input_size``: crop ``(w, h)`` pixels.
        input_center, input_scale (np.ndarray): (2, ) crop centre and size in the image.

    Returns:
        tuple: pixels (V, 2) in the image and depths (V, ).
    """
    moved = np.asarray(vertices, dtype=np.float64) + np.asarray(camera_translation, dtype=np.float64)
    depth = np.maximum(moved[:, 2], 1e-6)
    size = np.asarray(input_size, dtype=np.float64)
    crop = focal_length * moved[:, :2] / depth[:, None] + size / 2.0
    scale = np.asarray(input_scale, dtype=np.float64)
    pixels = crop / size * scale + np.asarray(input_center, dtype=np.float64) - 0.5 * scale
    return pixels, depth * size[0] / scale[0]


def draw_recovered_meshes(image: np.ndarray, vertices: Sequence[np.ndarray], camera_translation: Sequence[np.ndarray],
                          input_center: Sequence[np.ndarray], input_scale: Sequence[np.ndarray], *,
                          faces: np.ndarray, focal_length: float, input_size: Tuple[int, int],
                          colours: Optional[Sequence[np.ndarray]] = None, alpha: float = 0.7) -> np.ndarray:
    """The P people's recovered meshes over ``image`` (H, W, 3) uint8 BGR in one z-buffer, each shaded from the
    camera and mapped from its crop camera to the image (:func:`project_to_image`), at opacity ``alpha``.

    Args:
        vertices, camera_translation: per person (V, 3) metres and (3, ), the head's outputs.
        input_center, input_scale: per person (2, ), the crop in the image.
        faces (np.ndarray): (T, 3); ``focal_length``: the head's (crop pixels); ``input_size``: crop ``(w, h)``.
        colours: per person a BGR colour (3, ); default :data:`MESH_COLOUR`.

    Returns:
        np.ndarray: (H, W, 3) uint8, a new image.
    """
    meshes = [project_to_image(v, t, focal_length=focal_length, input_size=input_size, input_center=c,
                               input_scale=s) for v, t, c, s in zip(vertices, camera_translation, input_center,
                                                                     input_scale)]
    shades = [shade_faces(np.asarray(v) + np.asarray(t), faces) for v, t in zip(vertices, camera_translation)]
    drawing, _, _ = draw_meshes(image, meshes, faces, colours=colours, shades=shades, alpha=alpha)
    return drawing


def write_obj(path: Union[str, os.PathLike], vertices: np.ndarray, faces: np.ndarray) -> Path:
    """Write ``vertices`` (V, 3) and 0-based ``faces`` (T, 3) as a new Wavefront ``.obj`` and return ``path``;
    ValueError on bad shapes or indices, FileExistsError if ``path`` exists."""
    vertices, faces = np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f'write_obj: vertices must be (V, 3) and faces (T, 3), got {vertices.shape} and '
                         f'{faces.shape}')
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f'write_obj: face indices must be in [0, {len(vertices) - 1}], got [{faces.min()}, '
                         f'{faces.max()}]')
    path = Path(path)
    with open(path, 'x') as f:
        f.write(''.join(f'v {x:.6f} {y:.6f} {z:.6f}\n' for x, y, z in vertices))
        f.write(''.join(f'f {a + 1} {b + 1} {c + 1}\n' for a, b, c in faces))
    return path
