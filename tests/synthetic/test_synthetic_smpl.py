"""The synthetic mannequin is in SMPL's exact format and is a plausible, closed, deterministic body."""
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pose_plugins.body_models import SMPL_PARENTS
from pose_plugins.synthetic import make_synthetic_smpl
from pose_plugins.body_models.smpl_format import SMPL_FIELDS


@pytest.fixture(scope='module')
def arrays():
    return make_synthetic_smpl(seed=0)


def test_fields_have_smpls_shapes(arrays) -> None:
    assert set(arrays) == set(SMPL_FIELDS)
    for field, shape in SMPL_FIELDS.items():
        assert arrays[field].shape == tuple(10 if n is None else n for n in shape), field
    assert arrays['f'].dtype == np.int64 and arrays['kintree_table'].dtype == np.int64
    np.testing.assert_array_equal(arrays['kintree_table'], [SMPL_PARENTS, np.arange(24)])


def test_regressor_and_weights_are_convex_combinations(arrays) -> None:
    for name, matrix in (('J_regressor', arrays['J_regressor']), ('weights', arrays['weights'])):
        assert (matrix >= 0).all(), name
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=0, atol=1e-12, err_msg=name)  # float64 sums
    assert ((arrays['weights'] > 0).sum(axis=1) <= 3).all()
    assert ((arrays['J_regressor'] > 0).sum(axis=1) >= 16).all()  # two rings of vertices around each joint


def test_closed_connected_oriented_genus_zero_surface(arrays) -> None:
    faces = arrays['f']
    assert faces.min() == 0 and faces.max() == 6889 and len(np.unique(faces)) == 6890
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    directed = {tuple(edge) for edge in edges.tolist()}
    assert len(directed) == len(edges)  # no directed edge twice: consistently oriented
    assert all((b, a) in directed for a, b in directed)  # every edge has its twin: closed
    assert 6890 - len(directed) // 2 + len(faces) == 2  # Euler characteristic 2
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(6890, 6890))
    assert connected_components(graph, directed=False)[0] == 1
    triangles = arrays['v_template'][faces]
    volume = np.einsum('fi,fi->f', triangles[:, 0], np.cross(triangles[:, 1], triangles[:, 2])).sum() / 6
    assert 0.05 < volume < 0.09  # m^3, outward normals (a 70 kg person is ~0.07 m^3; parts overlap a little)


def test_humanoid_proportions_y_up_facing_z(arrays) -> None:
    vertices = arrays['v_template']
    joints = arrays['J_regressor'] @ vertices
    height = vertices[:, 1].max() - vertices[:, 1].min()
    assert 1.6 < height < 1.8
    assert joints[15, 1] > joints[12, 1] > joints[0, 1] > joints[4, 1] > joints[7, 1]  # head above feet: y up
    assert joints[16, 0] > 0 > joints[17, 0] and joints[20, 0] > 0.5  # left is +x, T-pose arms
    assert joints[10, 2] > joints[7, 2]  # the toes point to +z
    assert np.abs(arrays['posedirs']).max() < 0.05  # correctives are small


def test_deterministic_and_seeded() -> None:
    first, again, other = make_synthetic_smpl(seed=0), make_synthetic_smpl(seed=0), make_synthetic_smpl(seed=1)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first['v_template'], other['v_template'])
    np.testing.assert_array_equal(first['f'], other['f'])
    first['v_template'][:] = 0  # copies: the per-process cache is untouched
    assert make_synthetic_smpl(seed=0)['v_template'].any()


@pytest.mark.parametrize('seed', [-1, 1.5, True])
def test_bad_seed(seed) -> None:
    with pytest.raises(ValueError, match='seed must be a non-negative int'):
        make_synthetic_smpl(seed=seed)


def test_tunnels_joining_the_parts_are_hidden_inside_them() -> None:
    """The 23 tunnels (6 triangles each, the last faces before renumbering) lie inside the parts' volumes (each
    part is convex: its vertices' convex hull), so a rendered mesh shows only the parts."""
    from scipy.spatial import Delaunay

    from pose_plugins.synthetic.synthetic_smpl import _assemble, _topology
    body = _assemble(None)
    faces, _ = _topology(body)
    vertices, part_of = body['vertices'], body['part_of']
    tunnels = vertices[faces[-23 * 6:]]  # (138, 3, 3)
    weights = np.random.default_rng(0).dirichlet([1.0, 1.0, 1.0], size=20)  # points spread over each triangle
    points = np.einsum('sk,fkc->fsc', weights, tunnels).reshape(-1, 3)
    inside = np.zeros(len(points), dtype=bool)
    for part in range(24):
        inside |= Delaunay(vertices[part_of == part]).find_simplex(points) >= 0
    assert inside.all()
