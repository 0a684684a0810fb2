"""Rung 1 of the parity ladder for any .tflite model: an oracle == the Numba mirror, every tensor.

`verify(model_bytes, samples, oracle="tflm" | "tflite")` imports the model
(`from_tflite`, which keeps the file's tensor indices and refuses what no
interpreter runs sensibly), runs the Numba interpreter keeping all
activations, then the oracle in a child process (`IsolatedOracle`: a crash or
a hang there is an `OracleFailure`, never the caller's death), and compares
every activation an op of the imported graph produces, element by element
(float32 tensors bit for bit). Inputs are random over the model's input range
(int8, or float32 for a model that starts with QUANTIZE) plus optional real
data.

The oracles and where they depart from TFLite's definition (docs/parity.md):
- `tflm`: the TFLM interpreter, run twice (the second time in a new
  interpreter on recycled memory). Ops where TFLM is known to be wrong
  (`tflm.known_defects`) or whose TFLM output differed between the two runs
  on equal inputs are checked against LiteRT's reference kernels instead;
  then every op is checked on its own oracle's inputs ("op by op"), since
  tensors after such an op legitimately differ between the two oracles.
- `tflite`: LiteRT's reference kernels, end to end. Its FULLY_CONNECTED rounds
  once where TFLM and the device round twice, so the mirror's
  FULLY_CONNECTED rounds once for this comparison (`interpreter.litert_runners`).

The CLI is `edgehdc verify tflm|tflite MODEL.tflite --samples N`.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgehdc.kernels import interpreter
from edgehdc.quant.ir import Graph, OpKind
from edgehdc.quant.oracle import ORACLE_NAMES, IsolatedOracle, OracleFailure
from edgehdc.quant.tflite_io import from_tflite
from edgehdc.quant.tflm import known_defects

RERUN_SAMPLES = 2  # inputs TFLM runs a second time to catch reads of uninitialised memory
DEFAULT_TIMEOUT = 300.0  # seconds per oracle request


@dataclass(frozen=True)
class Mismatch:
    """The first element where the mirror left its oracle, in execution order."""

    op_index: int  # index into the imported graph's ops
    op_kind: str
    tensor: int  # tensor index, the same in the file, the oracles and the graph
    tensor_name: str
    sample: int
    element: tuple[int, ...]  # index inside the per-sample tensor
    expected: float
    got: float
    oracle: str = "TFLM"  # the oracle this op was compared with


@dataclass(frozen=True)
class VerifyResult:
    samples: int  # inputs run (random + real)
    tensors: int  # activation tensors compared per input
    compared: int  # elements compared in all
    mismatches: int
    first: Mismatch | None = None
    notes: tuple[str, ...] = ()  # where and why the comparison is not plain end to end
    op_by_op: bool = False  # every op fed its oracle's inputs instead of the mirror's own chain
    checked_by: dict[int, str] = field(default_factory=dict)  # op index -> oracle, where not the default

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


def verify(model_bytes: bytes, samples: int, seed: int = 0, data: np.ndarray | None = None,
           oracle: str = "tflm", name: str = "the model", timeout: float = DEFAULT_TIMEOUT,
           process: IsolatedOracle | None = None, log: Callable[[str], None] | None = None) -> VerifyResult:
    """Compare an oracle and the Numba mirror on `samples` random inputs (and `data`, real inputs).

    `data` is a batch [N, *input_shape[1:]] of the model's input dtype. `process`
    reuses a running `IsolatedOracle` (else one is started and closed here);
    `log` receives the mirror's summary before any oracle runs. Raises
    ValueError for a model that cannot be imported, inputs that do not fit or a
    model the oracle refuses, and `OracleFailure` when the oracle crashes or hangs.
    """
    if oracle not in ORACLE_NAMES:
        raise ValueError(f"unknown oracle {oracle!r}; expected one of {sorted(ORACLE_NAMES)}")
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples}")
    graph = from_tflite(model_bytes)
    x = _inputs(graph, samples, seed, data)
    mirror = interpreter.Interpreter(graph, interpreter.litert_runners() if oracle == "tflite" else None)
    got = mirror.run(x, keep_all=True)
    if log is not None:
        rounds_once = oracle == "tflite" and any(OpKind(op.kind) is OpKind.FULLY_CONNECTED for op in graph.ops)
        log(mirror_summary(graph, got, "mirror (FULLY_CONNECTED rounding once, as LiteRT)" if rounds_once else "mirror"))
    own = process is None
    process = IsolatedOracle(timeout) if own else process
    try:
        if oracle == "tflite":
            expected = _run(process, "tflite", model_bytes, name, x)
            notes = _fully_connected_note(graph)
            return _compare(graph, {i: expected for i in range(len(graph.ops))}, got, len(x), notes, "LiteRT")
        return _verify_tflm(graph, model_bytes, name, x, mirror, got, process)
    finally:
        if own:
            process.close()


def verify_tflm(model_bytes: bytes, samples: int, seed: int = 0, data: np.ndarray | None = None,
                **kwargs) -> VerifyResult:
    """`verify(..., oracle="tflm")`."""
    return verify(model_bytes, samples, seed, data, oracle="tflm", **kwargs)


def verify_tflite(model_bytes: bytes, samples: int, seed: int = 0, data: np.ndarray | None = None,
                  **kwargs) -> VerifyResult:
    """`verify(..., oracle="tflite")`: LiteRT's reference kernels as the oracle."""
    return verify(model_bytes, samples, seed, data, oracle="tflite", **kwargs)


def _verify_tflm(graph: Graph, model_bytes: bytes, name: str, x: np.ndarray, mirror, got, process) -> VerifyResult:
    tflm = _run(process, "tflm", model_bytes, name, x)
    k = min(RERUN_SAMPLES, len(x))
    rerun = process.run_all(x[:k], fresh=True)
    defects = known_defects(model_bytes, graph)
    for i in _unstable_ops(graph, tflm, rerun, k):
        defects.setdefault(i, "TFLM gave different outputs on two runs of the same model inputs")
    if not defects:
        return _compare(graph, {i: tflm for i in range(len(graph.ops))}, got, len(x), (), "TFLM")
    notes = [f"op {i} ({OpKind(graph.ops[i].kind).value}): {why}; checked against LiteRT's reference kernels"
             for i, why in defects.items()]
    try:
        litert = _run(process, "tflite", model_bytes, name, x)
    except ValueError as e:
        raise ValueError(f"{notes[0]}, but LiteRT refused the model: {e}") from None
    litert_mirror = interpreter.Interpreter(graph, interpreter.litert_runners())
    values, ours = {}, {}
    for i, op in enumerate(graph.ops):
        source, runner = (litert, litert_mirror) if i in defects else (tflm, mirror)
        values[i] = source
        ours[op.outputs[0]] = runner.run_op(i, source)
    notes.append("every op is fed its oracle's own inputs (op by op): TFLM's and TFLite's "
                 "tensors after those ops legitimately differ")
    if any(OpKind(graph.ops[i].kind) is OpKind.FULLY_CONNECTED for i in defects):
        notes.extend(_fully_connected_note(graph, only=defects))
    return _compare(graph, values, ours, len(x), tuple(notes), "TFLM", {i: "LiteRT" for i in defects})


def _run(process: IsolatedOracle, oracle: str, model_bytes: bytes, name: str, x: np.ndarray) -> dict:
    process.load(oracle, model_bytes, name)
    return process.run_all(x)


def _unstable_ops(graph: Graph, first: dict, second: dict, k: int) -> list[int]:
    """Ops whose output differs between two TFLM runs of the same model inputs (the op itself
    read uninitialised memory, or an op before it did: either way TFLM's value is not a result)."""
    return [i for i, op in enumerate(graph.ops)
            if op.outputs[0] in first and op.outputs[0] in second
            and not np.array_equal(_bits(first[op.outputs[0]][:k]), _bits(second[op.outputs[0]]))]


def _fully_connected_note(graph: Graph, only=None) -> tuple[str, ...]:
    ops = [i for i, op in enumerate(graph.ops)
           if OpKind(op.kind) is OpKind.FULLY_CONNECTED and (only is None or i in only)]
    if not ops:
        return ()
    return (f"FULLY_CONNECTED (op{'s' if len(ops) > 1 else ''} {', '.join(map(str, ops))}): LiteRT's "
            "reference kernel rounds once, TFLM and the device twice; the mirror rounds once "
            "for this comparison",)


def _inputs(graph: Graph, samples: int, seed: int, data: np.ndarray | None) -> np.ndarray:
    x = random_inputs(graph, samples, seed)
    if data is not None:
        data = np.asarray(data)
        if data.dtype != x.dtype or data.shape[1:] != x.shape[1:]:
            raise ValueError(f"data must be {x.dtype} [N, {', '.join(map(str, x.shape[1:]))}], "
                             f"got {data.dtype} {data.shape}")
        x = np.concatenate([x, data])
    if len(x) == 0:
        raise ValueError("nothing to verify: samples is 0 and no data was given")
    return x


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


def mirror_summary(graph: Graph, values: dict[int, np.ndarray], label: str = "mirror") -> str:
    """One line on the mirror's own result: its outputs and a digest, printed before any oracle runs."""
    outs = []
    digest = hashlib.sha256()
    for t in graph.outputs:
        v = values[t]
        digest.update(np.ascontiguousarray(v).tobytes())
        outs.append(f"{graph.tensors[t].name!r} {v.dtype}{list(v.shape)}")
    n = len(values[graph.inputs[0]])
    return f"{label}: {n} inputs through {len(graph.ops)} ops; outputs {', '.join(outs)}; sha256 {digest.hexdigest()[:16]}"


def _compare(graph: Graph, expected: dict[int, dict], got: dict, n: int, notes: tuple[str, ...],
             default: str, checked_by: dict[int, str] | None = None) -> VerifyResult:
    """`expected[op_index]` is the tensors of the oracle that checks that op."""
    checked_by = checked_by or {}
    compared = mismatches = tensors = 0
    first = None
    for op_index, op in enumerate(graph.ops):
        oracle = checked_by.get(op_index, default)
        for t in op.outputs:
            if t not in expected[op_index] or t not in got:
                continue
            e, g = expected[op_index][t], got[t]
            if e.shape != g.shape or e.dtype != g.dtype:
                raise ValueError(f"tensor {t} {graph.tensors[t].name!r}: {oracle} gives {e.dtype}{e.shape}, "
                                 f"the mirror {g.dtype}{g.shape}")
            bad = _bits(e) != _bits(g)
            tensors += 1
            compared += bad.size
            mismatches += int(bad.sum())
            if first is None and bad.any():
                flat = int(np.flatnonzero(bad)[0])
                where = np.unravel_index(flat, bad.shape)
                first = Mismatch(op_index, OpKind(op.kind).value, t, graph.tensors[t].name, int(where[0]),
                                 tuple(int(i) for i in where[1:]), e[where].item(), g[where].item(), oracle)
    return VerifyResult(n, tensors, compared, mismatches, first, notes, bool(checked_by), dict(checked_by))


def _bits(a: np.ndarray) -> np.ndarray:
    """Exact comparison: floats by their bit patterns (so NaN == NaN, -0.0 != 0.0)."""
    return a.view(np.uint32) if a.dtype == np.float32 else a


# -- command line ---------------------------------------------------------------------

EXIT_MATCH, EXIT_MISMATCH, EXIT_REFUSED, EXIT_ORACLE_FAILED = 0, 1, 2, 3


def register(subparsers) -> argparse.ArgumentParser:
    """Add `verify tflm|tflite MODEL --samples N [--seed S] [--digits]` to an argparse subparsers object."""
    verify_parser = subparsers.add_parser(
        "verify", help="prove the Numba mirror equals a reference interpreter, tensor by tensor")
    targets = verify_parser.add_subparsers(dest="verify_target", required=True)
    for target, help_text in (("tflm", "every activation tensor vs the TFLM interpreter"),
                              ("tflite", "every activation tensor vs LiteRT's reference kernels")):
        p = targets.add_parser(target, help=help_text)
        p.add_argument("model", type=Path, help=".tflite model")
        p.add_argument("--samples", type=int, default=100, help="random inputs (default 100)")
        p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
        p.add_argument("--digits", action="store_true",
                       help="also run the digits test images (for the project's own digits models)")
        p.add_argument("--oracle-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"stop the oracle after this long per step (default {DEFAULT_TIMEOUT:g})")
    verify_parser.set_defaults(handler=run_cli)
    verify_parser.targets = targets  # other modules add targets here (verify device)
    return verify_parser


def run_cli(args, process: IsolatedOracle | None = None) -> int:
    """Run `verify tflm|tflite`; the last line printed is `mismatches=<int> compared=<int>`
    when the comparison ran.

    Returns 0 when every element matched, 1 on a mismatch, 2 when the model or
    the arguments cannot be used, 3 when the oracle crashed or hung (after the
    mirror's own result was printed)."""
    oracle = getattr(args, "verify_target", None) or "tflm"
    try:
        model = Path(args.model).read_bytes() if isinstance(args.model, str) else args.model.read_bytes()
        data = _digits(model) if getattr(args, "digits", False) else None
        result = verify(model, args.samples, seed=args.seed, data=data, oracle=oracle, name=str(args.model),
                        timeout=getattr(args, "oracle_timeout", DEFAULT_TIMEOUT), process=process,
                        log=lambda line: print(f"model: {args.model}\n{line}", flush=True))
    except OracleFailure as e:
        print(f"error: {e}")
        return EXIT_ORACLE_FAILED
    except (OSError, ValueError) as e:
        print(f"error: {e}")
        return EXIT_REFUSED
    print(f"oracle: {ORACLE_NAMES[oracle]}")
    print(f"inputs: {result.samples} ({args.samples} random, seed {args.seed}"
          f"{f', {result.samples - args.samples} digits' if data is not None else ''})")
    for note in result.notes:
        print(f"note: {note}")
    print(f"tensors compared per input: {result.tensors}")
    if result.first is not None:
        m = result.first
        print(f"first mismatch: op {m.op_index} ({m.op_kind}) tensor {m.tensor} {m.tensor_name!r} "
              f"sample {m.sample} element {m.element}: {m.oracle.lower()}={m.expected} numba={m.got}")
    print(f"mismatches={result.mismatches} compared={result.compared}")
    return EXIT_MATCH if result.ok else EXIT_MISMATCH


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
    """`python -m edgehdc.verify tflm|tflite MODEL --samples N`, the same as `edgehdc verify ...`."""
    import sys

    parser = argparse.ArgumentParser(prog="python -m edgehdc.verify")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", *(sys.argv[1:] if argv is None else argv)])
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
