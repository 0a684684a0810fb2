"""Rung 1 of the parity ladder for any .tflite model: TFLM == the Numba mirror, every tensor.

`verify_tflm(model_bytes, samples)` imports the model (`from_tflite`, which
keeps TFLM's tensor indices), runs the TFLM interpreter keeping all tensors
and the Numba interpreter keeping all activations on the same inputs, and
compares every activation an op of the imported graph produces, element by
element (float32 tensors bit for bit). Inputs are random over the model's
input range (int8, or float32 for a model that starts with QUANTIZE) plus
optional real data. The CLI is `edgehdc verify tflm MODEL.tflite --samples N`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgehdc.kernels import interpreter
from edgehdc.quant.ir import Graph, OpKind
from edgehdc.quant.tflite_io import from_tflite
from edgehdc.quant.tflm import TflmOracle


@dataclass(frozen=True)
class Mismatch:
    """The first element where the mirror left TFLM, in execution order."""

    op_index: int  # index into the imported graph's ops
    op_kind: str
    tensor: int  # tensor index, the same in the file, TFLM and the graph
    tensor_name: str
    sample: int
    element: tuple[int, ...]  # index inside the per-sample tensor
    expected: float
    got: float


@dataclass(frozen=True)
class VerifyResult:
    samples: int  # inputs run (random + real)
    tensors: int  # activation tensors compared per input
    compared: int  # elements compared in all
    mismatches: int
    first: Mismatch | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


def verify_tflm(model_bytes: bytes, samples: int, seed: int = 0, data: np.ndarray | None = None) -> VerifyResult:
    """Compare TFLM and the Numba mirror on `samples` random inputs (and `data`, real inputs).

    `data` is a batch [N, *input_shape[1:]] of the model's input dtype. Raises
    ValueError for a model that cannot be imported or inputs that do not fit.
    """
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples}")
    graph = from_tflite(model_bytes)
    oracle = TflmOracle(model_bytes)
    x = random_inputs(graph, samples, seed)
    if data is not None:
        data = np.asarray(data)
        if data.dtype != x.dtype or data.shape[1:] != x.shape[1:]:
            raise ValueError(f"data must be {x.dtype} [N, {', '.join(map(str, x.shape[1:]))}], "
                             f"got {data.dtype} {data.shape}")
        x = np.concatenate([x, data])
    if len(x) == 0:
        raise ValueError("nothing to verify: samples is 0 and no data was given")
    expected = oracle.run_all(x)
    got = interpreter.run(graph, x, keep_all=True)
    return _compare(graph, expected, got, len(x))


def random_inputs(graph: Graph, samples: int, seed: int = 0) -> np.ndarray:
    """Random inputs for the graph: all int8 values, or floats over the first QUANTIZE's range.

    A quarter of the float values sit exactly on a rounding boundary (half a step)."""
    t = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(seed)
    shape = (samples, *t.shape[1:])
    if t.dtype == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    quant = next((graph.tensors[op.outputs[0]].quant for op in graph.ops
                  if OpKind(op.kind) is OpKind.QUANTIZE and op.inputs[0] == graph.inputs[0]), None)
    scale, zp = (float(quant.scale[0]), int(quant.zero_point[0])) if quant is not None else (1 / 64, 0)
    x = rng.uniform(scale * (-134 - zp), scale * (133 - zp), shape).astype(np.float32)
    halves = rng.integers(-130, 130, shape) + 0.5 - zp
    return np.where(rng.random(shape) < 0.25, (scale * halves).astype(np.float32), x)


def _compare(graph: Graph, expected: dict, got: dict, n: int) -> VerifyResult:
    compared = mismatches = tensors = 0
    first = None
    for op_index, op in enumerate(graph.ops):
        for t in op.outputs:
            if t not in expected or t not in got:
                continue
            e, g = expected[t], got[t]
            if e.shape != g.shape or e.dtype != g.dtype:
                raise ValueError(f"tensor {t} {graph.tensors[t].name!r}: TFLM gives {e.dtype}{e.shape}, "
                                 f"the mirror {g.dtype}{g.shape}")
            bad = _bits(e) != _bits(g)
            tensors += 1
            compared += bad.size
            mismatches += int(bad.sum())
            if first is None and bad.any():
                flat = int(np.flatnonzero(bad)[0])
                where = np.unravel_index(flat, bad.shape)
                first = Mismatch(op_index, OpKind(op.kind).value, t, graph.tensors[t].name, int(where[0]),
                                 tuple(int(i) for i in where[1:]), e[where].item(), g[where].item())
    return VerifyResult(n, tensors, compared, mismatches, first)


def _bits(a: np.ndarray) -> np.ndarray:
    """Exact comparison: floats by their bit patterns (so NaN == NaN, -0.0 != 0.0)."""
    return a.view(np.uint32) if a.dtype == np.float32 else a


# -- command line ---------------------------------------------------------------------


def register(subparsers) -> argparse.ArgumentParser:
    """Add `verify tflm MODEL --samples N [--seed S] [--digits]` to an argparse subparsers object."""
    verify = subparsers.add_parser("verify", help="prove the Numba mirror equals a reference, tensor by tensor")
    targets = verify.add_subparsers(dest="verify_target", required=True)
    tflm = targets.add_parser("tflm", help="every activation tensor vs the TFLM interpreter")
    tflm.add_argument("model", type=Path, help=".tflite model")
    tflm.add_argument("--samples", type=int, default=100, help="random inputs (default 100)")
    tflm.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    tflm.add_argument("--digits", action="store_true",
                      help="also run the digits test images (for the project's own digits models)")
    verify.set_defaults(handler=run_cli)
    return verify


def run_cli(args) -> int:
    """Run `verify tflm`; the last line printed is `mismatches=<int> compared=<int>`.

    Returns 0 when every element matched, 1 on a mismatch, 2 when the model or
    the arguments cannot be used."""
    try:
        model = Path(args.model).read_bytes()
        data = _digits(model) if getattr(args, "digits", False) else None
        result = verify_tflm(model, args.samples, seed=args.seed, data=data)
    except (OSError, ValueError) as e:
        print(f"error: {e}")
        return 2
    print(f"model: {args.model}")
    print(f"inputs: {result.samples} ({args.samples} random, seed {args.seed}"
          f"{f', {result.samples - args.samples} digits' if data is not None else ''})")
    print(f"tensors compared per input: {result.tensors}")
    if result.first is not None:
        m = result.first
        print(f"first mismatch: op {m.op_index} ({m.op_kind}) tensor {m.tensor} {m.tensor_name!r} "
              f"sample {m.sample} element {m.element}: tflm={m.expected} numba={m.got}")
    print(f"mismatches={result.mismatches} compared={result.compared}")
    return 0 if result.ok else 1


def _digits(model: bytes) -> np.ndarray:
    """The digits test images in the model's input form (int8 quantized with its input scale)."""
    from edgehdc.data.digits import load_digits
    from edgehdc.data.quantize import quantize_input

    graph = from_tflite(model)
    t = graph.tensors[graph.inputs[0]]
    if len(t.shape) != 4 or t.shape[1] != t.shape[2] or t.shape[3] != 1:
        raise ValueError(f"--digits needs a [1, S, S, 1] image input, the model takes {t.shape}")
    x = load_digits(size=t.shape[1]).x_test
    if t.dtype == "float32":
        return x
    return quantize_input(x, float(t.quant.scale[0]), int(t.quant.zero_point[0]))


def main(argv: list[str] | None = None) -> int:
    """`python -m edgehdc.verify tflm MODEL --samples N`, the same as `edgehdc verify tflm ...`."""
    import sys

    parser = argparse.ArgumentParser(prog="python -m edgehdc.verify")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", *(sys.argv[1:] if argv is None else argv)])
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
