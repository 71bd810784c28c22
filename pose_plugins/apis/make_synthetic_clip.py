"""``tools/make_synthetic_clip.py``: :func:`~pose_plugins.synthetic.make_synthetic_clip` with the clip's main options,
and a contact sheet of its frames with the ground-truth boxes and track ids."""
import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import cv2
import numpy as np

from pose_plugins.cli import ToolArgumentParser
from pose_plugins.synthetic import SyntheticClipConfig, make_synthetic_clip

__all__ = ['main', 'parse_args', 'contact_sheet']

_TRACK_COLOURS = ((60, 220, 255), (255, 160, 40), (120, 255, 120), (200, 120, 255), (80, 80, 255), (255, 255, 255))


def contact_sheet(video: Union[str, Path], tracks: Union[str, Path], *, num_frames: int = 4,
                  frame_width: Optional[int] = None) -> np.ndarray:
    """``num_frames`` evenly spaced frames of a clip side by side, each ``frame_width`` px wide (None: the clip's
    width), with every listed person's ground-truth box and track id: -> (h, num_frames * w, 3) uint8 BGR."""
    truth = json.loads(Path(tracks).read_text())
    frame_width = truth['width'] if frame_width is None else frame_width
    wanted = np.linspace(0, truth['num_frames'] - 1, num_frames).round().astype(int).tolist()
    scale = frame_width / truth['width']
    capture, tiles = cv2.VideoCapture(str(video)), []
    for index in range(truth['num_frames']):
        ok, image = capture.read()
        if not ok:
            raise ValueError(f'contact_sheet: {video} ends at frame {index}, its tracks list {truth["num_frames"]}')
        if index not in wanted:
            continue
        tile = cv2.resize(image, (frame_width, round(truth['height'] * scale)), interpolation=cv2.INTER_AREA)
        for person in truth['frames'][index]['people']:
            colour = _TRACK_COLOURS[(person['track_id'] - 1) % len(_TRACK_COLOURS)]
            x1, y1, x2, y2 = (round(v * scale) for v in person['bbox'])
            cv2.rectangle(tile, (x1, y1), (x2, y2), colour, 1, cv2.LINE_AA)
            cv2.putText(tile, str(person['track_id']), (max(x1, 0) + 2, max(y1, 0) + 12), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4, colour, 1, cv2.LINE_AA)
        cv2.putText(tile, f'frame {index}', (3, tile.shape[0] - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255),
                    1, cv2.LINE_AA)
        tiles.append(tile)
    capture.release()
    return np.concatenate(tiles, axis=1)


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/make_synthetic_clip.py``'s flags (``argv`` None: ``sys.argv[1:]``)."""
    default = SyntheticClipConfig()
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', metavar='OUT.mp4', help='video to write (.mp4 or .avi; must not exist yet); the '
                        'ground truth goes beside it as OUT_tracks.json and OUT_detections.jsonl')
    parser.add_argument('--frames', type=int, default=default.num_frames,
                        help=f'number of frames (default: {default.num_frames})')
    parser.add_argument('--people', type=int, default=default.num_people,
                        help=f'number of people; two or more cross (default: {default.num_people})')
    parser.add_argument('--fps', type=float, default=default.fps, help=f'frame rate (default: {default.fps:g})')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--contact-sheet', metavar='PATH.jpg',
                        help='also write 4 frames side by side with the ground-truth boxes and track ids (must not '
                             'exist yet)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> Dict[str, Union[str, int]]:
    """Write the clip (and the contact sheet); returns :func:`make_synthetic_clip`'s dict (+ ``contact_sheet``)."""
    args = parse_args(argv, description=description)
    if args.contact_sheet is not None and Path(args.contact_sheet).exists():
        raise FileExistsError(f'--contact-sheet {args.contact_sheet} already exists; refusing to overwrite it')
    cfg = dataclasses.replace(SyntheticClipConfig(), num_frames=args.frames, num_people=args.people, fps=args.fps,
                              crossing=args.people >= 2)
    start = time.time()
    result = make_synthetic_clip(args.out, cfg=cfg, seed=args.seed)
    print(f'wrote {result["num_frames"]} frames of {result["num_tracks"]} people ({result["num_instances"]} '
          f'instances, {result["num_detections"]} detections) in {time.time() - start:.1f} s')
    if args.contact_sheet is not None:
        sheet = contact_sheet(result['video'], result['tracks'])
        if not cv2.imwrite(args.contact_sheet, sheet, [cv2.IMWRITE_JPEG_QUALITY, 75]):
            raise OSError(f'could not write --contact-sheet {args.contact_sheet}')
        result['contact_sheet'] = str(Path(args.contact_sheet).resolve())
    for key in ('video', 'tracks', 'detections', 'contact_sheet'):
        if key in result:
            print(f'  {key}: {result[key]}')
    return result
