"""Datasets as float32 NHWC `Split`s in [0, 1], and their int8 input quantization.

Images are [N, H, W, C]; multichannel series are [N, 1, T, C] (`series`).
`load_dataset(name)` is the one entry point: "digits" or an aeon set name.
"""

from edgehdc.data.digits import load_digits
from edgehdc.data.quantize import quantize_input, round_half_away
from edgehdc.data.series import bundled_aeon_sets, load_aeon, series_split
from edgehdc.data.split import Split
from edgehdc.data.tasks import FewShot, base_target, few_shot, subset

__all__ = ["Split", "FewShot", "load_dataset", "load_digits", "load_aeon", "series_split", "bundled_aeon_sets",
           "subset", "base_target", "few_shot", "default_classes", "quantize_input", "round_half_away"]


def load_dataset(name: str, **kw) -> Split:
    """`load_digits(**kw)` for "digits", else `load_aeon(name, **kw)` (a set bundled with aeon)."""
    return load_digits(**kw) if name == "digits" else load_aeon(name, **kw)


def default_classes(split: Split) -> tuple[list[str], list[str]]:
    """The default (base, target) class split: the first half of the classes (rounded up), then the rest.

    Digits: 0-4 -> 5-9. JapaneseVowels: speakers 1-5 -> speakers 6-9.
    """
    half = -(-split.num_classes // 2)
    return list(split.class_names[:half]), list(split.class_names[half:])
