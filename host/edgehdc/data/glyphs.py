"""Synthetic letter glyphs in the format of scikit-learn's digits: a larger image base task made offline.

The digits base task (0-4, 901 samples, 5 classes) is what limits transfer
to digits 5-9 (docs/finetune.md). This renders Latin letters with the
TrueType fonts shipped inside matplotlib (DejaVu, STIX, Computer Modern),
each with a random font, stroke thickening and affine jitter (rotation,
shear, scale, aspect, shift), and reduces them the way the UCI optdigits
set was made: a 32x32 binary bitmap whose 4x4 blocks are counted, giving
8x8 images of integers 0..16. `load_digits`' own path then brings them to
the network input. Nothing is downloaded or cached; a seed fixes every draw.

Only letters are rendered, never a digit: the target task of the image
domain is digits 5-9, and a glyph of one of them would leak the target.
Letters whose lower and upper case differ only in size look alike once
normalised to the box (c/C, o/O, ...), so they form one class; so do I/l.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from edgehdc.data.split import Split

# One class per entry; a class draws each of its characters with equal probability.
_SAME_SHAPE = ("Cc", "Oo", "Ss", "Uu", "Vv", "Ww", "Xx", "Zz", "Il")
GLYPH_CLASSES: tuple[str, ...] = tuple(
    [c for c in string.ascii_uppercase if not any(c in m for m in _SAME_SHAPE)]
    + [c for c in string.ascii_lowercase if not any(c in m for m in _SAME_SHAPE)] + list(_SAME_SHAPE))
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
         "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
         "DejaVuSerif-Italic.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
         "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf", "cmti10.ttf")
_FONT_PX = 96  # the glyph is drawn large, then reduced: the 32x32 bitmap sees no font hinting
_CANVAS = 192
_BOX = 32  # optdigits: 32x32 bitmaps, 4x4 blocks -> 8x8 counts 0..16


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=None)
def _font(name: str):
    from PIL import ImageFont

    path = _font_dir() / name
    if not path.is_file():
        raise ValueError(f"font {name} is not shipped with this matplotlib ({_font_dir()})")
    return ImageFont.truetype(str(path), _FONT_PX)


def render_glyph(char: str, font: str, rng: np.random.Generator) -> np.ndarray:
    """One character as an 8x8 int array of 0..16 (on-pixel counts of 4x4 blocks of a 32x32 bitmap)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (_CANVAS, _CANVAS), 0)
    stroke = int(rng.choice([0, 2, 4]))  # outline added at 96 px (thicker pen); 0 keeps the font's own stroke
    ImageDraw.Draw(img).text((_CANVAS / 2, _CANVAS / 2), char, fill=255, font=_font(font), anchor="mm",
                             stroke_width=stroke, stroke_fill=255)
    theta, shear = np.deg2rad(rng.uniform(-12, 12)), rng.uniform(-0.25, 0.25)
    fwd = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) @ [[1, shear], [0, 1]]
    inv = np.linalg.inv(fwd)  # PIL maps output pixels back to input pixels
    c = _CANVAS / 2
    off = np.array([c, c]) - inv @ [c, c]
    img = img.transform(img.size, Image.Transform.AFFINE, (*inv[0], off[0], *inv[1], off[1]),
                        resample=Image.Resampling.BILINEAR)
    box = img.getbbox()
    if box is None:
        raise ValueError(f"font {font} draws nothing for {char!r}")
    img = img.crop(box)
    w, h = img.size
    aspect = rng.uniform(0.85, 1.15)
    fit = rng.uniform(0.75, 1.0) * _BOX / max(h, w * aspect)  # normalised to the box, as optdigits is
    nw, nh = max(1, round(w * aspect * fit)), max(1, round(h * fit))
    img = img.resize((nw, nh), Image.Resampling.BOX)
    x0 = int(np.clip((_BOX - nw) // 2 + rng.integers(-2, 3), 0, _BOX - nw))
    y0 = int(np.clip((_BOX - nh) // 2 + rng.integers(-2, 3), 0, _BOX - nh))
    bitmap = np.zeros((_BOX, _BOX), np.int64)
    bitmap[y0:y0 + nh, x0:x0 + nw] = np.asarray(img) >= 128
    return bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))


def render_glyphs(per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(images [N, 8, 8] int 0..16, labels [N] into GLYPH_CLASSES), `per_class` of each class, fixed by `seed`."""
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k, chars in enumerate(GLYPH_CLASSES):
        for _ in range(per_class):
            char = chars[rng.integers(len(chars))]
            images.append(render_glyph(char, FONTS[rng.integers(len(FONTS))], rng))
            labels.append(k)
    return np.stack(images), np.array(labels, np.int64)


def load_glyphs(size: int = 16, per_class: int = 80, test_size: float = 0.25, seed: int = 0) -> Split:
    """The glyph set as a `Split` in `load_digits`' input format (0..16 -> [0, 1], bilinear to size x size).

    Rendering and the stratified split are both fixed by `seed`.
    """
    from edgehdc.data.digits import to_input

    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    images, y = render_glyphs(per_class, seed)
    x = to_input(images, size)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    return Split(x_tr, y_tr, x_te, y_te, GLYPH_CLASSES)
