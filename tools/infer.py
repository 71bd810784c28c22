"""Predict keypoints with mmpose's MMPoseInferencer and one of our configs + a checkpoint.

    python tools/infer.py CONFIG CHECKPOINT IMAGE_OR_FOLDER --out-dir outputs/infer
    python tools/infer.py CONFIG CHECKPOINT img.jpg --bboxes '[[10, 20, 110, 220]]'       # given person boxes
    python tools/infer.py CONFIG CHECKPOINT folder/ --bbox-file boxes.json  # {"img.jpg": [[x1, y1, x2, y2], ...]}

Without boxes the whole image is one person box. Drawn predictions go to OUT_DIR/visualizations/, JSON to
OUT_DIR/predictions/ (existing results are never overwritten).

A mesh-recovery config (head ``pose_plugins.SMPLRegressionHead``) draws the recovered meshes over each image
instead (OUT_DIR/visualizations/IMAGE, predictions in OUT_DIR/visualizations/IMAGE_STEM_predictions.json) and, with
``--mesh-obj DIR``, writes each person's mesh as DIR/IMAGE_STEM_<person>.obj.
"""
import argparse
import json
import os.path as osp

import pose_plugins  # noqa: F401  (installs compat adapters and registers our classes)
from pose_plugins.inference import list_images, run_inference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', help='an image or a folder of images')
    parser.add_argument('--out-dir', default='outputs/infer')
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument('--bboxes', help='JSON list of [x1, y1, x2, y2] person boxes, for a single image')
    boxes.add_argument('--bbox-file', help='JSON file: image name -> list of [x1, y1, x2, y2(, score)]')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--kpt-thr', type=float, default=0.3, help='draw keypoints scoring above this')
    parser.add_argument('--draw-heatmap', action='store_true')
    parser.add_argument('--mesh-obj', default=None, metavar='DIR', help='mesh configs: write each mesh as .obj')
    args = parser.parse_args()

    given = None
    if args.bboxes is not None:
        images = list_images(args.inputs)
        if len(images) != 1:
            parser.error(f'--bboxes is for one image; {args.inputs} has {len(images)}: use --bbox-file')
        try:
            given = {images[0]: json.loads(args.bboxes)}
        except json.JSONDecodeError as err:
            parser.error(f'--bboxes is not JSON ({err}): expected e.g. \'[[x1, y1, x2, y2]]\'')
    elif args.bbox_file is not None:
        if not osp.isfile(args.bbox_file):
            parser.error(f'--bbox-file {args.bbox_file} does not exist')
        try:
            with open(args.bbox_file) as f:
                given = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            parser.error(f'--bbox-file {args.bbox_file} is not JSON ({err})')
        if not isinstance(given, dict):
            parser.error(f'--bbox-file {args.bbox_file} must hold a JSON object: image name -> list of boxes, '
                         f'got a {type(given).__name__}')
    if infer_mesh(args, given):
        return
    for result in run_inference(args.config, args.checkpoint, args.inputs, args.out_dir, boxes=given,
                                device=args.device, kpt_thr=args.kpt_thr, draw_heatmap=args.draw_heatmap):
        people = result['predictions'][0]
        print(f'{len(people)} person(s)' + (': ' if people else '') + ', '.join(
            f'mean keypoint score {sum(p["keypoint_scores"]) / len(p["keypoint_scores"]):.2f}' for p in people))
    print(f'drawings: {osp.join(args.out_dir, "visualizations")}  predictions: '
          f'{osp.join(args.out_dir, "predictions")}')


def infer_mesh(args: argparse.Namespace, given: dict) -> bool:
    """Mesh configs: recover, draw and (``--mesh-obj``) write the meshes of every image; False for other configs."""
    from pose_plugins.cli import load_config
    cfg = load_config(args.config, {})
    if not cfg.model.get('head', {}).get('type', '').endswith('SMPLRegressionHead'):
        return False
    import cv2
    from mmpose.apis import init_model
    from pose_plugins.visualization import infer_meshes
    model = init_model(cfg, args.checkpoint, device=args.device)
    for image in list_images(args.inputs):
        if given is None:
            height, width = cv2.imread(image).shape[:2]
            boxes = [[0, 0, width, height]]
        else:
            boxes = given.get(image, given.get(osp.basename(image)))
            if boxes is None:
                raise KeyError(f'no boxes given for image {image}')
        people = infer_meshes(model, image, [b[:4] for b in boxes], osp.join(args.out_dir, 'visualizations'),
                              obj_dir=args.mesh_obj)
        print(f'{image}: {len(people)} mesh(es)')
    print(f'drawings and predictions: {osp.join(args.out_dir, "visualizations")}'
          + (f'  meshes: {args.mesh_obj}' if args.mesh_obj else ''))
    return True


if __name__ == '__main__':
    main()
