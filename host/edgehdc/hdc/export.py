"""C definitions of the firmware's HDC model (`ehd_hdc_model`, firmware/include/ehd/ehd_hdc.h).

`hdc_source` writes the encoder's tables, the prototypes and the scratch RAM
the encoder needs; the firmware export puts it into `ehd_generated.c`.
"""

from __future__ import annotations

import numpy as np

from edgehdc.export.layer_params import c_array as _array
from edgehdc.hdc.encoder import Encoder, IdLevel
from edgehdc.hdc.learn import Learner


def scratch_size(encoder: Encoder) -> int:
    """int16 values of RAM the firmware encoder uses (ehd_hdc_scratch_size)."""
    if isinstance(encoder, IdLevel):
        return encoder.n_features
    return 1024 * ((encoder.n_features + 31) // 32)


def hdc_source(encoder: Encoder, classifier, name: str = "ehd_generated_hdc", scratch: bool = True) -> str:
    """C source defining `const ehd_hdc_model <name>` with its tables (static, prefixed `hdc_`).

    `classifier` is a `Centroid` (or its prototypes, uint32 [K, D/32]), or a
    `Learner`: then the device gets the learning state too (its flashed
    accumulators, and RAM for `capacity` class slots). `scratch=False` leaves a
    sign projection without scratch RAM: the firmware's bitwise loop (same
    bits, slower). A `SignProjection(stored=False)` is regenerated on the
    device from its seed instead of stored.
    """

    learner = classifier if isinstance(classifier, Learner) else None
    prototypes = learner.flash_prototypes if learner else getattr(classifier, "prototypes", classifier)
    prototypes = np.ascontiguousarray(prototypes, dtype=np.uint32)
    if prototypes.ndim != 2 or prototypes.shape[1] != encoder.dim // 32:
        raise ValueError(f"prototypes must be uint32 [K, {encoder.dim // 32}], got {prototypes.shape}")
    parts, fields = [], {
        "encoder": "EHD_HDC_ID_LEVEL" if isinstance(encoder, IdLevel) else "EHD_HDC_SIGN_PROJECTION",
        "dim": f"{encoder.dim}u",
        "n_features": f"{encoder.n_features}u",
        "feature_zero_point": str(encoder.zero_point),
        "seed": f"0x{encoder.seed:08x}u",
        "n_classes": f"{prototypes.shape[0]}u",
        "prototypes": "hdc_prototypes",
    }

    def table(ctype: str, field: str, values) -> None:
        parts.append(_array(ctype, f"hdc_{field}", values))
        fields[field] = f"hdc_{field}"

    if encoder.centre is not None:
        table("int8_t", "centre", encoder.centre)
        table("uint8_t", "scale", encoder.scale)
    if isinstance(encoder, IdLevel):
        table("uint32_t", "items", encoder.items)
        table("uint32_t", "levels", encoder.levels)
        fields.update(n_levels=f"{encoder.n_levels}u", level_lo=str(encoder.lo), level_hi=str(encoder.hi))
    elif encoder.stored:
        table("uint32_t", "projection", encoder.projection)
    if scratch or isinstance(encoder, IdLevel):
        # int32 storage keeps the int16 tables word-aligned (the DSP path reads two entries at once).
        parts.append(f"static int32_t hdc_scratch[{(scratch_size(encoder) + 1) // 2}];\n")
        fields["scratch"] = "(int16_t *)hdc_scratch"
    parts.append(_array("uint32_t", "hdc_prototypes", prototypes))
    if learner:
        parts.append(_learner_source(learner, _array))
        fields["learner"] = "&hdc_learner"
    body = "".join(f"    .{k} = {v},\n" for k, v in fields.items())
    parts.append(f"const ehd_hdc_model {name} = {{\n{body}}};\n")
    return "".join(parts)


def _learner_source(learner: Learner, c_array) -> str:
    """The flashed accumulators, the learner's RAM and its (mutable) ehd_hdc_learner."""
    slots = learner.capacity * learner.dim
    return (c_array("int16_t", "hdc_flash_accumulators", learner.flash_accumulators)
            + f"static int16_t hdc_accumulators[{slots}];\n"
            + f"static uint32_t hdc_ram_prototypes[{slots // 32}];\n"
            + "static ehd_hdc_learner hdc_learner = {\n"
            f"    .accumulators = hdc_accumulators,\n    .prototypes = hdc_ram_prototypes,\n"
            f"    .flash_accumulators = hdc_flash_accumulators,\n    .capacity = {learner.capacity}u,\n"
            f"    .n_flashed = {learner.n_flashed}u,\n}};\n")
