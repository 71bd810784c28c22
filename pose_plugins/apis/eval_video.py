"""``tools/eval_video.py``: :func:`~pose_plugins.evaluation.video_metrics.evaluate_tracking` of one or more
predictions files against a clip's ground truth, as a table and optionally as JSON."""
import argparse
import json
import math
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from pose_plugins.cli import ToolArgumentParser
from pose_plugins.evaluation.video_metrics import evaluate_tracking, load_ground_truth, load_predictions

__all__ = ['main', 'parse_args', 'format_table']

# (column title, metric, format) of the printed table
_COLUMNS = (('MOTA', 'mota', '{:.3f}'), ('IDF1', 'idf1', '{:.3f}'), ('ID sw', 'id_switches', '{:d}'),
            ('kpt err px', 'keypoint_error', '{:.2f}'), ('jitter pred', 'jitter_pred', '{:.2f}'),
            ('jitter gt', 'jitter_gt', '{:.2f}'), ('jitter err', 'jitter_error', '{:.2f}'))


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/eval_video.py``'s arguments (``argv`` None: ``sys.argv[1:]``)."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ground_truth', metavar='GT_TRACKS.json', help="the clip's ground truth (<stem>_tracks.json)")
    parser.add_argument('predictions', metavar='PREDICTIONS.jsonl', nargs='+',
                        help='predictions, JSON lines (one line per processed frame); one table row each')
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='least box IoU of a GT person and a prediction to pair them (default: 0.5)')
    parser.add_argument('--min-visible', type=int, default=1,
                        help='GT people with fewer visible keypoints are not counted (default: 1)')
    parser.add_argument('--json', metavar='OUT', help='also write the metrics to this JSON file (must not exist yet)')
    return parser.parse_args(argv)


def format_table(results: Dict[str, Dict[str, Any]]) -> str:
    """One row per predictions file (``results``: path -> :func:`evaluate_tracking`'s metrics); NaN shows as -."""
    rows = [['predictions', *(title for title, _, _ in _COLUMNS)]]
    for path, metrics in results.items():
        rows.append([path, *('-' if isinstance(metrics[key], float) and math.isnan(metrics[key]) else
                             fmt.format(metrics[key]) for _, key, fmt in _COLUMNS)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(cell.ljust(width) if i == 0 else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))) for row in rows)


def _json_ready(metrics: Dict[str, Any]) -> Dict[str, Any]:
    """``metrics`` with NaN and infinities as None (JSON has neither)."""
    return {key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in metrics.items()}


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """Evaluate each predictions file, print the table (and write ``--json``); returns path -> metrics.

    Raises:
        FileExistsError: naming the ``--json`` path when it exists.
    """
    args = parse_args(argv, description=description)
    if args.json is not None and osp.exists(args.json):
        raise FileExistsError(f'--json {args.json} already exists; refusing to overwrite it')
    ground_truth = load_ground_truth(args.ground_truth)
    results = {path: evaluate_tracking(ground_truth, load_predictions(path), iou_threshold=args.iou_thr,
                                       min_visible=args.min_visible) for path in args.predictions}
    print(format_table(results))
    if args.json is not None:
        runs: List[Dict[str, Any]] = [dict(predictions=path, **_json_ready(metrics))
                                      for path, metrics in results.items()]
        report = dict(ground_truth=args.ground_truth, iou_threshold=args.iou_thr, min_visible=args.min_visible,
                      results=runs)
        text = json.dumps(report, indent=2, allow_nan=False) + '\n'
        with open(args.json, 'x') as f:
            f.write(text)
        print(f'wrote {args.json}')
    return results
