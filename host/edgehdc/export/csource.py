"""Reads the constants back out of a generated `ehd_generated.c`: what the firmware will hold.

The export writes only a few shapes of C definition (edgehdc.export.layer_params,
edgehdc.hdc.export); this module recognises them and returns their bytes as the
little-endian firmware lays them out:

- `static const T name[N] = {...};` (or `name[]`) with T an integer or float type: an array in flash;
- `static const ehd_*_params name = {...};`: a params struct in flash whose leading
  fields may be pointers (to arrays above) followed by 32-bit fields (int32, float,
  ehd_dims); only those 32-bit fields are data;
- `static T name[N];`: zero-initialised RAM (scratch, learner state);
- `const ehd_X name = { .field = value, ... };`: a designated initializer, whose
  fixed-width integer fields (types from the struct's typedef in a firmware
  header) are read one by one, absent ones being zero as in C.

Integrity (edgehdc.export.integrity) hashes these bytes, the memory budget
(edgehdc.export.budget) counts them.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import numpy as np

_DTYPES = {"int8_t": "<i1", "uint8_t": "<u1", "int16_t": "<i2", "uint16_t": "<u2",
           "int32_t": "<i4", "uint32_t": "<u4", "float": "<f4"}
_TYPE = "|".join(_DTYPES)
_ARRAY = re.compile(rf"^static const ({_TYPE}) (\w+)\[(\d*)\] = \{{(.*?)\}};", re.M | re.S)
_PARAMS = re.compile(r"^static const (ehd_\w+_params) (\w+) = \{(.*?)\};", re.M | re.S)
_RAM = re.compile(rf"^static ({_TYPE}|ehd_\w+) (\w+)(?:\[(\d+)\])?;", re.M)
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_INT32_MIN = "(-2147483647 - 1)"


@dataclass(frozen=True)
class Constant:
    """One constant the firmware keeps in flash: `data` are the bytes a region hashes."""

    name: str
    ctype: str
    data: bytes
    pointers: int = 0  # leading pointer fields (params structs); the data follow them
    field: bool = False  # one member `struct.field` of a designated initializer

    @property
    def is_struct(self) -> bool:
        return self.ctype.startswith("ehd_")


def constants(source: str) -> list[Constant]:
    """Every array and params struct of `source` in the order they are defined."""
    found = [(m.start(), _array(m)) for m in _ARRAY.finditer(source)]
    found += [(m.start(), _params(m)) for m in _PARAMS.finditer(source)]
    return [c for _, c in sorted(found, key=lambda item: item[0])]


def integer_fields(header: str, typedef: str) -> list[tuple[str, str]]:
    """(C type, name) of the fixed-width integer members of `typedef struct {...} typedef;` in order
    (pointers, enums and nested types are left out)."""
    m = re.search(rf"typedef struct \{{([^{{}}]*)\}} {typedef};", header)
    if m is None:
        raise ValueError(f"no typedef struct {typedef} in the header")
    body = re.sub(r"/\*.*?\*/", "", m[1], flags=re.S)
    fields = []
    for ctype, names in re.findall(r"^\s*(u?int(?:8|16|32)_t)\s+([\w\s,]+);", body, re.M):
        fields += [(ctype, n.strip()) for n in names.split(",")]
    return fields


def designated_fields(source: str, typedef: str, name: str, header: str) -> list[Constant]:
    """Every fixed-width integer member of `const <typedef> <name> = {.f = v, ...};` (0 if not set)."""
    m = re.search(rf"^const {typedef} {name} = \{{(.*?)\}};", source, re.M | re.S)
    if m is None:
        raise ValueError(f"no designated initializer of {typedef} {name}")
    given = dict(re.findall(r"\.(\w+) = ([^,}\n]+)", m[1]))
    return [Constant(f"{name}.{field}", ctype, np.array([_int(given.get(field, "0"))], np.int64)
                     .astype(_DTYPES[ctype]).tobytes(), field=True)
            for ctype, field in integer_fields(header, typedef)]


def ram_arrays(source: str) -> dict[str, int]:
    """Bytes of each zero-initialised static array (scratch, learner RAM); structs count 0 here."""
    out = {}
    for ctype, name, n in _RAM.findall(source):
        if ctype in _DTYPES:
            out[name] = int(n or 1) * np.dtype(_DTYPES[ctype]).itemsize
    return out


def _array(m: re.Match) -> Constant:
    ctype, name = m[1], m[2]
    leaves = _leaves(m[4])
    n = int(m[3]) if m[3] else len(leaves)  # `name[] = {...}` takes its size from the values
    if len(leaves) != n:
        raise ValueError(f"{name}: {len(leaves)} values for [{n}]")
    if ctype == "float":
        values = np.array([_float(v) for v in leaves], "<f4")
    else:
        values = np.array([_int(v) for v in leaves], np.int64).astype(_DTYPES[ctype])
    return Constant(name, ctype, values.tobytes())


def _params(m: re.Match) -> Constant:
    ctype, name = m[1], m[2]
    leaves = _leaves(m[3])
    pointers = 0
    while pointers < len(leaves) and _IDENT.match(leaves[pointers]):
        pointers += 1
    data = b"".join(_word(v, name) for v in leaves[pointers:])
    return Constant(name, ctype, data, pointers)


def _leaves(body: str) -> list[str]:
    """The scalar initializers of a (nested) brace list, in order."""
    body = body.replace(_INT32_MIN, str(-(2**31)))
    return [v.strip() for v in re.split(r"[{},]", body) if v.strip()]


def _word(v: str, where: str) -> bytes:
    if _IDENT.match(v):
        raise ValueError(f"{where}: pointer field {v} after data fields cannot be hashed")
    if v.endswith("f") and "p" in v:
        return struct.pack("<f", _float(v))
    return struct.pack("<I", _int(v) & 0xFFFFFFFF)


def _int(v: str) -> int:
    return int(v.rstrip("uU"), 0)


def _float(v: str) -> float:
    v = v.rstrip("fF")
    return float.fromhex(v) if "p" in v else float(v)
