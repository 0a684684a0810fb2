"""Oracles: reference interpreters the Numba mirror is compared with, and how to run one safely.

`Oracle` is the interface both oracles share (`edgehdc.quant.tflm.TflmOracle`,
`edgehdc.quant.litert.LiteRtOracle`): `run(x)` returns the model outputs,
`run_all(x)` every tensor by index; a batch of N samples is N invokes on the
model's batch-1 input, activations stacked along axis 0.

The interpreters are C++ and can crash or hang on unusual models, taking the
caller with them. `IsolatedOracle` runs one in a child process (spawned once,
reused across models): a crash becomes `OracleCrashed`, a hang past the time
limit `OracleTimeout` (the child is killed), an error the oracle raises itself
`OracleRefused` (a ValueError). Arrays travel as pickles over pipes. The
in-process classes stay for tests and for code that knows its model is safe.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ORACLE_NAMES = {"tflm": "TFLM", "tflite": "LiteRT"}


class Oracle:
    """Batch handling over a single-input interpreter; subclasses load the model, call
    `_describe` and implement `_invoke`, `_tensor` and `_output`."""

    input_shape: tuple[int, ...]
    input_dtype: np.dtype
    n_outputs: int
    n_tensors: int
    constants: frozenset[int]  # tensors backed by a non-empty buffer: the same for every sample

    def _describe(self, model, input_details: dict, n_outputs: int) -> None:
        """Set the model facts from the schema's ModelT and the interpreter's input details."""
        sub = model.subgraphs[0]
        self.input_shape = tuple(int(d) for d in input_details["shape"])
        self.input_dtype = np.dtype(input_details["dtype"])
        self.n_outputs = n_outputs
        self.n_tensors = len(sub.tensors)
        self.constants = frozenset(
            i for i, t in enumerate(sub.tensors)
            if t.buffer > 0 and model.buffers[t.buffer].data is not None and len(model.buffers[t.buffer].data)
        )

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Model outputs for one sample (input shape) or a batch [N, *input_shape[1:]]."""
        outs = []
        for sample in self._samples(x):
            self._invoke(sample)
            outs.append([self._output(i) for i in range(self.n_outputs)])
        return [np.concatenate([o[i] for o in outs]) for i in range(self.n_outputs)]

    def run_all(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """Every tensor by index after invoking on `x`: activations stacked over
        the batch, constants (weights, biases) once, as stored in the model."""
        acts = [i for i in range(self.n_tensors) if i not in self.constants]
        per_sample = []
        for sample in self._samples(x):
            self._invoke(sample)
            per_sample.append({i: self._tensor(i) for i in acts})
        result = {i: self._tensor(i) for i in sorted(self.constants)}
        result.update({i: _stack([s[i] for s in per_sample]) for i in acts})
        return dict(sorted(result.items()))

    def _invoke(self, sample: np.ndarray) -> None:
        """Run one sample; a ValueError naming the oracle if it fails."""
        raise NotImplementedError

    def _tensor(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def _output(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def _samples(self, x: np.ndarray) -> list[np.ndarray]:
        x = np.asarray(x)
        if x.dtype != self.input_dtype:
            raise ValueError(f"input must be {self.input_dtype}, got {x.dtype}")
        if tuple(x.shape) == self.input_shape:
            return [np.ascontiguousarray(x)]
        if x.ndim == len(self.input_shape) and tuple(x.shape[1:]) == self.input_shape[1:] and len(x):
            return [np.ascontiguousarray(x[i : i + 1]) for i in range(len(x))]
        raise ValueError(f"input shape {x.shape} does not match model input {self.input_shape}")


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    """Per-sample tensors joined along the batch axis; scalars (shape arithmetic) stacked."""
    return np.stack(arrays) if arrays[0].ndim == 0 else np.concatenate(arrays)


def create(kind: str, model_bytes: bytes) -> Oracle:
    """The in-process oracle `kind` ("tflm" or "tflite") over a model."""
    if kind == "tflm":
        from edgehdc.quant.tflm import TflmOracle

        return TflmOracle(model_bytes)
    if kind == "tflite":
        from edgehdc.quant.litert import LiteRtOracle

        return LiteRtOracle(model_bytes)
    raise ValueError(f"unknown oracle {kind!r}; expected one of {sorted(ORACLE_NAMES)}")


# -- isolation in a child process -------------------------------------------------------


class OracleRefused(ValueError):
    """The oracle itself rejected the model or the input (its own error message)."""


class OracleFailure(RuntimeError):
    """The oracle process died or hung; the message is one line naming oracle, cause and model."""


class OracleCrashed(OracleFailure):
    pass


class OracleTimeout(OracleFailure):
    pass


class IsolatedOracle:
    """An oracle in a child process, one model at a time, with a time limit per request.

    `load(kind, model_bytes, name)` (re)loads the child's oracle; `run_all(x)`
    and `run(x)` as on `Oracle`; `fresh=True` builds a new interpreter first
    (after freeing the old one, so its arena is recycled memory: a second run
    that shows uninitialised reads). A crash or timeout kills the child; the
    next `load` starts a new one. Use as a context manager, or `close()`.
    """

    def __init__(self, timeout: float = 120.0):
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._kind = self._name = None
        self.info: dict = {}

    def __enter__(self) -> IsolatedOracle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self, kind: str, model_bytes: bytes, name: str = "the model") -> dict:
        """Load a model; returns its input shape and dtype. Raises OracleRefused, OracleFailure."""
        if kind not in ORACLE_NAMES:
            raise ValueError(f"unknown oracle {kind!r}; expected one of {sorted(ORACLE_NAMES)}")
        self._kind, self._name = kind, name
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        self.info = self._request(("load", kind, bytes(model_bytes)))
        return self.info

    @property
    def pid(self) -> int | None:
        """The child's process id while one runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def run_all(self, x: np.ndarray, fresh: bool = False) -> dict[int, np.ndarray]:
        return self._request(("run_all", np.ascontiguousarray(x), fresh))

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        return self._request(("run", np.ascontiguousarray(x), False))

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    proc.stdin.close()
                    proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
                    proc.wait()
            for f in (proc.stdin, proc.stdout):
                f.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # -- internals --

    def _start(self) -> None:
        self.close()
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "edgehdc.quant.oracle"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        )

    def _request(self, message):
        if self._proc is None:
            raise RuntimeError("no model loaded: call load() first")
        oracle = ORACLE_NAMES[self._kind]
        try:
            _write_frame(self._proc.stdin, message)
            reply = _read_frame(self._proc.stdout, time.monotonic() + self.timeout)
        except TimeoutError:
            self._proc.kill()
            self._proc.wait()
            self.close()
            raise OracleTimeout(f"{oracle} did not finish within {self.timeout:g} s on {self._name} "
                                "(stopped); the model makes the oracle hang") from None
        except (EOFError, OSError):
            code = self._proc.wait()
            self.close()
            raise OracleCrashed(f"{oracle} crashed ({_describe_exit(code)}) on {self._name}; "
                                "the model makes the oracle fail") from None
        status, value = reply
        if status == "error":
            raise OracleRefused(value)
        return value


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"{signal.Signals(-code).name}, signal {-code}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _write_frame(f, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(len(data).to_bytes(8, "little") + data)
    f.flush()


def _read_frame(f, deadline: float | None = None):
    """One length-prefixed pickle; EOFError when the other side is gone, TimeoutError past `deadline`."""
    fd = f.fileno()
    header = _read_exact(fd, 8, deadline)
    return pickle.loads(_read_exact(fd, int.from_bytes(header, "little"), deadline))


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# -- the child ------------------------------------------------------------------------------


def _serve() -> None:
    """The child's loop: requests on stdin, replies on a private copy of stdout.

    The interpreters print diagnostics from C++ to fd 1, so fd 1 is pointed at
    stderr and the protocol keeps its own descriptor."""
    import gc

    requests = os.fdopen(0, "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    oracle, loaded = None, None
    while True:
        try:
            message = _read_frame(requests)
        except EOFError:
            return
        try:
            if message[0] == "load":
                _, kind, model = message
                oracle = None
                gc.collect()
                oracle, loaded = create(kind, model), (kind, model)
                value = {"input_shape": oracle.input_shape, "input_dtype": oracle.input_dtype.str,
                         "n_tensors": oracle.n_tensors}
            else:
                _, x, fresh = message
                if oracle is None:
                    raise ValueError("no model loaded")
                if fresh:
                    oracle = None
                    gc.collect()
                    oracle = create(*loaded)
                value = oracle.run_all(x) if message[0] == "run_all" else oracle.run(x)
            reply = ("ok", value)
        except Exception as e:  # the oracle's own errors go back as refusals
            reply = ("error", str(e) or type(e).__name__)
        _write_frame(replies, reply)


if __name__ == "__main__":
    _serve()
