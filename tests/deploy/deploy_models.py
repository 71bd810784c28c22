"""Tiny models of every architecture for the deploy tests (a helper module, ``from deploy_models import ...``):
the CPU demo configs (configs/demo/) with random weights."""
import torch

from conftest import REPO, randomize_norms

DEMO = REPO / 'configs' / 'demo'
#: architecture -> (demo config, cfg-options that turn it into that architecture)
ARCHITECTURES = {
    'hrnet': (DEMO / 'hrnet_tiny_synthetic.py', {}),
    'simplebaseline': (DEMO / 'simplebaseline_tiny_synthetic.py', {}),
    'hourglass': (DEMO / 'hourglass_tiny_synthetic.py', {}),
    'cpn': (DEMO / 'cpn_tiny_synthetic.py', {}),
    # the 3D demo with one depth bin and a 2D codec is a 2D integral-regression model
    'integral2d': (DEMO / 'integral3d_tiny_synthetic.py', {
        'model.head.depth_bins': 1, 'model.head.decoder.bbox_3d_shape': None, 'codec.bbox_3d_shape': None}),
    'integral3d': (DEMO / 'integral3d_tiny_synthetic.py', {}),
}
#: The mesh-recovery demos: the mesh head on the synthetic SMPL-format mannequin, and the two-stage demo on the
#: Anny body (keypoint attention); exported with two more outputs.
MESH = {'mesh': (DEMO / 'hrnet_smpl_tiny_synthetic.py', {}), 'mesh_anny': (DEMO / 'hrnet_anny_lifting_synthetic.py', {})}


def build_model(architecture: str, *, seed: int = 0) -> torch.nn.Module:
    """The architecture's (or ``'mesh'``, ``'mesh_anny'``) demo model from ``init_model`` (COCO dataset meta), eval mode, with random weights:
    N(0, 0.05^2) convolutions (so heatmaps have distinct maxima, not the near-constant maps of the 0.001 head
    init) and random norm statistics."""
    from mmengine.config import Config
    from mmpose.apis import init_model
    config, options = MESH[architecture] if architecture in MESH else ARCHITECTURES[architecture]
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(options)
    model = init_model(cfg, None, device='cpu')
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * 0.05)
            if isinstance(module, torch.nn.Linear):  # the mesh regressor: parameters away from the mean start
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * 0.02)
    return randomize_norms(model, seed).eval()
