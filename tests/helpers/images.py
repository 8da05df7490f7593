"""Images whose predictions vary over them, for the tools and API tests."""

from pathlib import Path
from typing import Iterable, List, Tuple

import cv2
import numpy as np


def blob_image(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A BGR image of smooth random colour blobs (the light models' predictions vary
    over it, unlike over pixel noise)."""
    small = rng.integers(0, 256, (max(height // 16, 2), max(width // 16, 2), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def write_images(directory: Path, sizes: Iterable[Tuple[int, int]], seed: int = 0) -> List[Path]:
    """Write blob PNG images of the given ``(height, width)`` sizes."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index, (height, width) in enumerate(sizes):
        path = directory / f'img_{index:03d}.png'
        cv2.imwrite(str(path), blob_image(height, width, rng))
        paths.append(path)
    return paths
