"""``python -m pose_plugins_runtime MODEL.onnx IMAGE [--boxes JSON] [--out DRAWN] [--json PREDICTIONS]``.

Runs an exported model on one image (person boxes as a JSON list of [x1, y1, x2, y2]; default: the whole image),
prints one line per person, and writes the drawing and/or the predictions (never over an existing file).
"""
import argparse
import json
import os.path as osp
import sys

import cv2
import numpy as np

from .drawing import draw_poses
from .pose_session import PoseSession


def main() -> int:
    parser = argparse.ArgumentParser(prog='python -m pose_plugins_runtime', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model')
    parser.add_argument('image')
    parser.add_argument('--boxes', help="JSON list of person boxes, e.g. '[[10, 20, 110, 220]]'")
    parser.add_argument('--out', help='write the drawing here (refused if it exists)')
    parser.add_argument('--json', help='write keypoints and scores here as JSON (refused if it exists)')
    parser.add_argument('--kpt-thr', type=float, default=0.3)
    args = parser.parse_args()
    for path in (args.out, args.json):
        if path is not None and osp.exists(path):
            parser.error(f'{path} exists; choose another file')
    image = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if image is None:
        parser.error(f'cannot read image {args.image}')
    try:
        boxes = None if args.boxes is None else json.loads(args.boxes)
    except json.JSONDecodeError as err:
        parser.error(f'--boxes is not JSON ({err}): expected e.g. \'[[x1, y1, x2, y2]]\'')
    session = PoseSession(args.model)
    keypoints, scores = session(image, boxes)
    for person, person_scores in enumerate(scores):
        print(f'person {person}: mean keypoint score {float(np.mean(person_scores)):.3f}')
    if args.out:
        if not cv2.imwrite(args.out, draw_poses(image, keypoints, scores, session.skeleton_links,
                                                kpt_thr=args.kpt_thr)):
            parser.error(f'cannot write {args.out}')
    if args.json:
        with open(args.json, 'x') as f:
            json.dump([dict(keypoints=k.tolist(), keypoint_scores=s.tolist()) for k, s in zip(keypoints, scores)], f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
