"""Golden screenshots: compare a rendered PNG with the stored one, channel by channel.

Software rendering (Mesa llvmpipe) is repeatable on one machine but may differ by a few
levels across CPUs and Mesa versions, on antialiased edges above all; so a picture
matches when no more than :data:`MAX_DIFFERENT` of its pixels differ by more than
:data:`TOLERANCE` levels in any channel. Goldens are written only on request:
``pytest --update-goldens`` (never edit them by hand).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
#: Per-channel difference (0..255) below which two pixels count as the same.
TOLERANCE = 24
#: Share of pixels allowed to differ by more than TOLERANCE.
MAX_DIFFERENT = 0.02


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def compare(actual: Path, name: str, update: bool) -> tuple[bool, str]:
    """Whether ``actual`` matches the golden ``name``.png, and a sentence saying how well."""
    golden = GOLDEN_DIR / f"{name}.png"
    if update:
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(actual, golden)
        return True, f"updated {golden}"
    if not golden.is_file():
        return False, f"no golden {golden}: run pytest --update-goldens once and review the pictures"
    a, g = load_rgb(actual), load_rgb(golden)
    if a.shape != g.shape:
        return False, f"{name}: size {a.shape[1]}x{a.shape[0]} differs from the golden's {g.shape[1]}x{g.shape[0]}"
    different = float((np.abs(a - g).max(axis=2) > TOLERANCE).mean())
    ok = different <= MAX_DIFFERENT
    diff_path = actual.with_name(f"{actual.stem}.diff.png")
    if not ok:
        mask = (np.abs(a - g).max(axis=2) > TOLERANCE)
        picture = (g // 3).astype(np.uint8)
        picture[mask] = (255, 0, 255)
        Image.fromarray(picture).save(diff_path)
    return ok, (f"{name}: {different:.2%} of pixels differ by more than {TOLERANCE} levels "
                f"(allowed {MAX_DIFFERENT:.0%})" + ("" if ok else f"; differences in {diff_path}"))
