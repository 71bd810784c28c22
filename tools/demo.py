"""The main job on the embedded default: synthetic data -> train a small HRNet on CPU -> COCO AP -> inference.

    python tools/demo.py [--config configs/demo/hrnet_tiny_synthetic.py] [--data-root data/synthetic_coco]
                         [--work-dir work_dirs/demo/RUN] [--epochs N] [--cfg-options KEY=VALUE ...]

1. generates (once; reused when present) a deterministic synthetic COCO-format train/val set;
2. trains the demo config with mmengine's Runner, in a new work dir (an existing one is never overwritten);
3. evaluates the last checkpoint on the synthetic val set with the config's metric (through the safe loader):
   mmpose's CocoMetric, or MPJPE / PA-MPJPE for a 3D config;
4. runs mmpose's MMPoseInferencer on a val image with the val set's person boxes and saves the drawing (a 3D
   config: mmpose's inference_topdown, predictions saved as JSON).
Prints the metrics, the time of each step and where everything went. A config may carry
``synthetic_data = dict(...)``: SyntheticCocoConfig options for its data (e.g. ``with_3d=True``), or with
``mesh=True`` SyntheticMeshConfig options (mesh people with SMPL fields; ``num_train_images`` /
``num_val_images`` may change the counts), whose demo draws the recovered meshes and writes them as .obj.
A config may also carry ``demo_first_stage = dict(config=..., cfg_options=dict(...))``: another demo config that
this tool trains first on the same synthetic set (``tools/demo.py`` on it, in ``WORK_DIR/first_stage``), whose last
checkpoint then becomes this config's ``load_from`` (unless ``--cfg-options load_from=...`` names one), e.g. a 2D
heatmap model under a mesh model (configs/demo/hrnet_smpl_lifting_synthetic.py).
"""
import sys

from pose_plugins.apis.demo import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
