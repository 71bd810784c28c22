#!/usr/bin/env bash
# Tracking and jitter of pose on video, measured on synthetic clips: for each seed, a new clip (people walking,
# turning, crossing, occluded; ground truth written beside it), then tools/infer.py with the README demo's config and
# CHECKPOINT four ways (boxes every frame or carried from the poses, each without and with One-Euro smoothing), then
# tools/eval_video.py (motmetrics' MOTA, IDF1, ID switches; keypoint error and jitter) over the four.
#   bash scripts/video_eval.sh CHECKPOINT OUT_DIR SEED [SEED ...]
# OUT_DIR must not exist (nothing is overwritten); OUT_DIR/seed_S/metrics.json holds each clip's figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
  echo "usage: bash scripts/video_eval.sh CHECKPOINT OUT_DIR SEED [SEED ...]" >&2
  exit 2
fi
checkpoint=$1 out=$2
shift 2
if [ -e "$out" ]; then
  echo "video_eval.sh: $out exists; choose another OUT_DIR" >&2
  exit 2
fi
config=configs/demo/hrnet_tiny_synthetic.py
for seed in "$@"; do
  dir=$out/seed_$seed
  mkdir -p "$dir"
  python3 tools/make_synthetic_clip.py "$dir/clip.mp4" --seed "$seed"
  for run in every every_smooth carried carried_smooth; do
    flags=(--det-file "$dir/clip_detections.jsonl" --no-video-out --json-out "$dir/$run.jsonl" --no-progress)
    case $run in carried*) flags+=(--redetect-every 5) ;; esac
    case $run in *_smooth) flags+=(--smooth) ;; esac
    python3 tools/infer.py "$config" "$checkpoint" "$dir/clip.mp4" "${flags[@]}" | grep 'frames in'
  done
  python3 tools/eval_video.py "$dir/clip_tracks.json" "$dir"/{every,every_smooth,carried,carried_smooth}.jsonl \
    --json "$dir/metrics.json"
done
