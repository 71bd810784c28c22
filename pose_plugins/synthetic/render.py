"""One synthetic image: background, people placed and drawn far to near, occluders, noise, and their annotations."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from .annotations import person_annotation
from .config import SyntheticCocoConfig
from .drawing import draw_background, draw_occluder, draw_person
from .people2d import place_person

__all__ = ['render_synthetic_image']

_FIRST_PERSON_ROUNDS = 50  # rounds of placement_tries before giving up on an image


def render_synthetic_image(rng: np.random.Generator,
                           cfg: Optional[SyntheticCocoConfig] = None) -> Tuple[np.ndarray, List[Dict]]:
    """Render one image of people and their COCO annotations.

    Args:
        rng (np.random.Generator): The only source of randomness; the same state gives the same output.
        cfg (SyntheticCocoConfig, optional): Generation options; defaults to ``SyntheticCocoConfig()``.

    Returns:
        tuple:
        - image (np.ndarray): (H, W, 3) uint8 BGR.
        - annotations (list[dict]): per person (at least one) :func:`~.annotations.person_annotation`'s COCO
          fields; the caller adds ``id``, ``image_id`` and ``category_id``.
    """
    cfg = SyntheticCocoConfig() if cfg is None else cfg
    width, height = cfg.image_size
    image = draw_background(rng, cfg)
    owner = np.zeros((height, width), dtype=np.uint8)

    people: List[Dict] = []
    wanted = int(rng.integers(cfg.people_per_image[0], cfg.people_per_image[1] + 1))
    for _ in range(_FIRST_PERSON_ROUNDS + wanted):
        if len(people) >= wanted:
            break
        person = place_person(rng, cfg, np.array([p['box'] for p in people]).reshape(-1, 4))
        if person is not None:
            people.append(person)
        elif people:  # keep the people already placed
            wanted -= 1
    if not people:
        raise ValueError(f'render_synthetic_image: no person could be placed in {_FIRST_PERSON_ROUNDS} x '
                         f'{cfg.placement_tries} tries; check image_size={cfg.image_size!r}, '
                         f'person_height={cfg.person_height!r} and min_keypoints_in_image='
                         f'{cfg.min_keypoints_in_image!r}')
    # farther people first (2D: smaller ones), so that nearer ones occlude them
    people.sort(key=(lambda p: -p['root_depth']) if cfg.with_3d else (lambda p: p['height']))

    masks = []
    for index, person in enumerate(people):
        mask = np.zeros((height, width), dtype=np.uint8)
        draw_person((image, owner, mask), index + 1, person, rng, cfg)
        masks.append(mask)
    for person in people:
        if rng.random() < cfg.occlusion_prob:
            draw_occluder(rng, image, owner, person, cfg)
    if cfg.noise_std > 0:
        noise = rng.standard_normal(size=image.shape, dtype=np.float32) * np.float32(cfg.noise_std)
        noisy = image.astype(np.float32) + noise
        image = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    annotations = [person_annotation(p, i + 1, owner, m, cfg) for i, (p, m) in enumerate(zip(people, masks))]
    return image, annotations
