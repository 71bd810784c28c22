"""Projected-triangle drawing (z-buffer, shading, silhouettes) and .obj writing."""
import numpy as np
import pytest

from pose_plugins.visualization import draw_meshes, project_to_image, rasterize, shade_faces, write_obj


def test_nearer_triangle_wins_per_pixel_and_coverage_is_amodal():
    # two overlapping right triangles: the second nearer where they overlap, but tilted so that its far corner is
    # behind the first one's plane (a per-triangle sort could not draw this; the per-pixel z-buffer does)
    points = np.array([[[10, 10], [50, 10], [10, 50]], [[20, 20], [60, 20], [20, 60]]], dtype=float)
    depths = np.array([[5.0, 5.0, 5.0], [3.0, 30.0, 3.0]])
    face, fragments = rasterize(points, depths, (64, 64))
    assert face[25, 22] == 1  # near the nearer triangle's near edge
    assert face[21, 39] == 0  # towards its far corner it passes behind the first triangle (Z 5.2 > 5)
    assert face[12, 12] == 0 and face[55, 21] == 1 and face[0, 0] == -1
    # pixel centres inside (edges included): a 41-pixel right triangle covers 41 * 42 / 2 of them
    assert np.count_nonzero(fragments[:, 1] == 0) == 41 * 42 // 2
    assert set(np.unique(face)) == {-1, 0, 1}


def test_draw_meshes_owner_and_shading():
    faces = np.array([[0, 1, 2]])
    tri = np.array([[0.0, 0.0, 2.0], [0.0, 1.0, 2.0], [1.0, 0.0, 2.0]])  # counter-clockwise seen from the camera
    shade = shade_faces(tri, faces)
    np.testing.assert_allclose(shade, [1.0])  # facing the light at the camera
    np.testing.assert_allclose(shade_faces(tri[[0, 2, 1]], faces), [0.35])  # turned away: ambient
    image = np.zeros((32, 32, 3), np.uint8)
    meshes = [(np.array([[2.0, 2.0], [2.0, 20.0], [20.0, 2.0]]), np.full(3, 2.0)),
              (np.array([[5.0, 5.0], [5.0, 30.0], [30.0, 5.0]]), np.full(3, 1.0))]
    out, owner, silhouettes = draw_meshes(image, meshes, faces, colours=[np.array([0, 0, 200.0]),
                                                                         np.array([200.0, 0, 0])])
    assert owner[3, 3] == 1 and owner[10, 10] == 2 and owner[31, 31] == 0
    assert tuple(out[10, 10]) == (200, 0, 0) and tuple(out[3, 3]) == (0, 0, 200)
    assert silhouettes[0][10, 10] and not silhouettes[0][25, 5]  # amodal: covered pixels still in the silhouette


def test_project_to_image_matches_the_estimators_keypoint_mapping():
    pixels, depth = project_to_image(np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0]]), np.array([0.0, 0.0, 50.0]),
                                     focal_length=5000.0, input_size=(64, 64), input_center=np.array([100.0, 80.0]),
                                     input_scale=np.array([128.0, 128.0]))
    np.testing.assert_allclose(pixels[0], [100.0, 80.0])  # the crop centre
    np.testing.assert_allclose(pixels[1, 0] - pixels[0, 0], 5000.0 * 0.1 / 50.0 * 2.0)  # crop px x 128/64
    np.testing.assert_allclose(depth, [25.0, 25.0])


def test_write_obj(tmp_path):
    path = write_obj(tmp_path / 'm.obj', np.eye(3), np.array([[0, 1, 2]]))
    assert path.read_text().splitlines() == ['v 1.000000 0.000000 0.000000', 'v 0.000000 1.000000 0.000000',
                                             'v 0.000000 0.000000 1.000000', 'f 1 2 3']
    with pytest.raises(FileExistsError):
        write_obj(path, np.eye(3), np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r'face indices must be in \[0, 2\]'):
        write_obj(tmp_path / 'n.obj', np.eye(3), np.array([[0, 1, 3]]))
