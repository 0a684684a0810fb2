"""Datasets as float32 NHWC `Split`s in [0, 1], and their int8 input quantization.

Images are [N, H, W, C]; multichannel series are [N, 1, T, C] (`series`).
`load_dataset(name)` is the one entry point: "digits", "glyphs" (synthetic letters in
digits' format, `glyphs`) or an aeon set name. `task_pair` builds a base -> target pair.
"""

from edgehdc.data.digits import load_digits
from edgehdc.data.glyphs import GLYPH_CLASSES, load_glyphs
from edgehdc.data.quantize import quantize_input, round_half_away
from edgehdc.data.series import bundled_aeon_sets, load_aeon, series_split
from edgehdc.data.split import Split
from edgehdc.data.tasks import FewShot, base_target, few_shot, merge_tasks, pooled, subset

__all__ = ["Split", "FewShot", "load_dataset", "load_digits", "load_aeon", "series_split", "bundled_aeon_sets",
           "subset", "base_target", "few_shot", "default_classes", "quantize_input", "round_half_away",
           "load_glyphs", "GLYPH_CLASSES", "merge_tasks", "pooled", "task_pair", "BASE_DATASETS", "OWN_BASE"]

# Datasets that can stand in for (or join) a dataset's own base classes in pretraining.
BASE_DATASETS = ("glyphs",)
OWN_BASE = "own"  # the dataset's own base classes, by name where a choice is spelled out (CLI, compare)


def load_dataset(name: str, **kw) -> Split:
    """`load_digits(**kw)` for "digits", `load_glyphs(**kw)` for "glyphs", else `load_aeon(name, **kw)`."""
    if name == "digits":
        return load_digits(**kw)
    return load_glyphs(**kw) if name == "glyphs" else load_aeon(name, **kw)


def task_pair(dataset: str, base: list[str] | None = None, target: list[str] | None = None,
              base_dataset: str | None = None, keep_own_base: bool = False) -> tuple[Split, Split]:
    """(base task, target task) of `dataset`: by default its first half of classes -> the rest.

    With `base_dataset` (one of BASE_DATASETS) the base task is that whole set instead, or that set
    followed by the own base classes with `keep_own_base`; None or OWN_BASE keeps the own base classes.
    The target task is unchanged. A class name shared with the target is refused, so a base set can
    never hold a target class.
    """
    split = load_dataset(dataset)
    default_base, default_target = default_classes(split)
    own, tgt = base_target(split, base or default_base, target or default_target)
    if base_dataset in (None, OWN_BASE):
        if keep_own_base:
            raise ValueError("keep_own_base needs a base_dataset")
        return own, tgt
    if base_dataset not in BASE_DATASETS:
        raise ValueError(f"unknown base dataset {base_dataset!r}; available: {', '.join(BASE_DATASETS)}")
    other = pooled(load_dataset(base_dataset))
    if other.sample_shape != tgt.sample_shape:
        raise ValueError(f"base dataset {base_dataset} has samples of shape {other.sample_shape}, "
                         f"{dataset} has {tgt.sample_shape}: it is not a base for this domain")
    leak = sorted(set(other.class_names) & set(tgt.class_names))
    if leak:
        raise ValueError(f"base dataset {base_dataset} holds target classes {leak}")
    return (merge_tasks(other, own) if keep_own_base else other), tgt


def default_classes(split: Split) -> tuple[list[str], list[str]]:
    """The default (base, target) class split: the first half of the classes (rounded up), then the rest.

    Digits: 0-4 -> 5-9. JapaneseVowels: speakers 1-5 -> speakers 6-9.
    """
    half = -(-split.num_classes // 2)
    return list(split.class_names[:half]), list(split.class_names[half:])
