"""Format version and CRC-32 of the generated tables, checked by the firmware at boot.

What is covered (docs/model-format.md, "Integrity"), in the order the
constants are defined in `ehd_generated.c`:

- model table: every constant array of the layers (weights, biases,
  multipliers, shifts, and any other constant operand) and the data fields of
  every `ehd_*_params` struct (all fields after its leading pointers);
- HDC table: every constant array whose name starts with `hdc_` (projection or
  item/level memories, centres, scales, prototypes, flashed accumulators), the
  prefix `edgehdc.hdc.export` gives them; then every fixed-width integer field
  of `ehd_generated_hdc` (dim, n_features, feature_zero_point, seed, n_levels,
  level_lo, level_hi, n_classes: the seed is the whole projection of an
  encoder regenerated on the device), in the order of ehd_hdc.h.

Pointers cannot be hashed (the linker places the data), so a struct is hashed
from its first data field on; the arrays it points to are hashed themselves.
The CRC is CRC-32/ISO-HDLC, `zlib.crc32`, over the regions' bytes concatenated.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from pathlib import Path

from edgehdc.export.csource import Constant, constants, designated_fields

# Bump when the layout of the generated tables changes; the firmware's EHD_TABLE_FORMAT_VERSION must match.
TABLE_FORMAT_VERSION = 1
HDC_PREFIX = "hdc_"
HDC_HEADER = Path(__file__).resolve().parents[3] / "firmware" / "include" / "ehd" / "ehd_hdc.h"


@dataclass(frozen=True)
class TableCrc:
    """One table's regions (constants, in hashing order) and their CRC-32."""

    regions: tuple[Constant, ...]

    @property
    def crc(self) -> int:
        crc = 0
        for region in self.regions:
            crc = zlib.crc32(region.data, crc)
        return crc

    @property
    def bytes(self) -> int:
        return sum(len(r.data) for r in self.regions)


def tables(source: str) -> tuple[TableCrc, TableCrc]:
    """(model, HDC) tables of a generated `ehd_generated.c` source."""
    found = constants(source)
    hdc_config = designated_fields(source, "ehd_hdc_model", "ehd_generated_hdc", HDC_HEADER.read_text())
    return (TableCrc(tuple(c for c in found if not c.name.startswith(HDC_PREFIX))),
            TableCrc(tuple(c for c in found if c.name.startswith(HDC_PREFIX)) + tuple(hdc_config)))


def integrity_source(source: str, name: str = "ehd_generated_integrity") -> str:
    """C source defining `const ehd_integrity <name>` for the tables of `source` (appended to it)."""
    model, hdc = tables(source)
    return "".join([
        "\n/* Integrity (docs/model-format.md): the regions the firmware hashes at boot, in order. */\n",
        _regions("ehd_model_regions", model), _regions("ehd_hdc_regions", hdc),
        f"const ehd_integrity {name} = {{\n    {TABLE_FORMAT_VERSION}u,\n",
        f"    {_table('ehd_model_regions', model)},\n    {_table('ehd_hdc_regions', hdc)},\n}};\n",
    ])


def _regions(array: str, table: TableCrc) -> str:
    if not table.regions:
        return ""
    rows = [_region(c) for c in table.regions]
    checks = [_layout_check(c) for c in table.regions if c.is_struct]
    return "".join(checks) + f"static const ehd_region {array}[] = {{\n" + "".join(rows) + "};\n"


def _region(c: Constant) -> str:
    if c.field:
        return f"    {{&{c.name}, sizeof({c.name})}},\n"
    if not c.is_struct:
        return f"    {{{c.name}, sizeof({c.name})}},\n"
    return f"    {{(const unsigned char *)&{c.name} + {c.pointers}u * sizeof(void *), {len(c.data)}u}},\n"


def _layout_check(c: Constant) -> str:
    # The host hashes 32-bit fields right after the pointers: a struct laid out otherwise must not compile.
    head = f"{c.pointers}u * sizeof(void *)"
    slack = "sizeof(void *)" if c.pointers else "1u"
    return (f"_Static_assert(sizeof({c.name}) >= {head} + {len(c.data)}u && "
            f"sizeof({c.name}) < {head} + {len(c.data)}u + {slack}, "
            f"\"{c.ctype}: not pointers then 32-bit fields; update edgehdc.export.csource\");\n")


def _table(array: str, table: TableCrc) -> str:
    regions = array if table.regions else "NULL"
    return f"{{{regions}, {len(table.regions)}u, 0x{table.crc:08x}u}}"
