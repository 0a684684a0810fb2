"""Firmware C on the host (bindings) == Numba mirror, exactly: kernels, runtime, HDC."""

import ctypes as C
import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import edgehdc_bindings as fw
except ImportError:  # an editable install made before bindings/ existed does not map it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings"))
    import edgehdc_bindings as fw

from edgehdc import kernels as nb
from edgehdc.hdc import Centroid, SignProjection
from edgehdc.hdc.export import hdc_source
from edgehdc.kernels.hdc import hdc_encode
from edgehdc.quant.arith import ConvParams, FullyConnectedParams, PoolParams
from edgehdc_bindings import structs as S


def _int8(rng, shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def _out_size(rng, size, kernel, stride, dilation):
    """A padding in [0, effective kernel) and the output size it gives (always >= 1)."""
    eff = (kernel - 1) * dilation + 1
    pad = int(rng.integers(0, eff))
    if size + 2 * pad < eff:
        pad = eff - 1
    return pad, (size + 2 * pad - eff) // stride + 1


def _act(rng, zp):
    lo, hi = [(-128, 127), (zp, 127), (zp, min(127, zp + 60))][rng.integers(3)]
    return int(lo), int(max(lo, hi))


def conv_case(rng, depthwise):
    n, h, w, c = (int(v) for v in rng.integers(1, [3, 10, 10, 6]))
    kh, kw, sh, sw, dh, dw = (int(v) for v in rng.integers(1, [4, 4, 3, 3, 3, 3]))
    m = int(rng.integers(1, 3)) if depthwise else 1
    out_c = c * m if depthwise else int(rng.integers(1, 8))
    pad_h, out_h = _out_size(rng, h, kh, sh, dh)
    pad_w, out_w = _out_size(rng, w, kw, sw, dw)
    out_zp = int(rng.integers(-128, 128))
    act_min, act_max = _act(rng, out_zp)
    p = ConvParams(
        input_offset=-int(rng.integers(-128, 128)), output_offset=out_zp,
        multiplier=rng.integers(1 << 30, 1 << 31, out_c).astype(np.int32),
        shift=rng.integers(-14, 2, out_c).astype(np.int32),
        stride_h=sh, stride_w=sw, pad_h=pad_h, pad_w=pad_w, dilation_h=dh, dilation_w=dw,
        depth_multiplier=m, act_min=act_min, act_max=act_max, out_h=out_h, out_w=out_w)
    weights = _int8(rng, (1, kh, kw, out_c) if depthwise else (out_c, kh, kw, c))
    weights[weights == -128] = -127  # symmetric weights
    bias = None if rng.integers(4) == 0 else rng.integers(-20000, 20000, out_c).astype(np.int32)
    return _int8(rng, (n, h, w, c)), weights, bias, p


def pool_case(rng):
    n, h, w, c = (int(v) for v in rng.integers(1, [3, 10, 10, 6]))
    fh, fw_, sh, sw = (int(v) for v in rng.integers(1, [4, 4, 4, 4]))
    pad_h, out_h = _out_size(rng, h, fh, sh, 1)
    pad_w, out_w = _out_size(rng, w, fw_, sw, 1)
    act_min, act_max = _act(rng, int(rng.integers(-128, 128)))
    p = PoolParams(filter_h=fh, filter_w=fw_, stride_h=sh, stride_w=sw, pad_h=pad_h, pad_w=pad_w,
                   act_min=act_min, act_max=act_max, out_h=out_h, out_w=out_w)
    return _int8(rng, (n, h, w, c)), p


def fc_case(rng):
    n, n_in, n_out = (int(v) for v in rng.integers(1, [4, 70, 20]))
    out_zp = int(rng.integers(-128, 128))
    act_min, act_max = _act(rng, out_zp)
    p = FullyConnectedParams(
        input_offset=-int(rng.integers(-128, 128)), output_offset=out_zp,
        multiplier=int(rng.integers(1 << 30, 1 << 31)), shift=int(rng.integers(-14, 2)),
        act_min=act_min, act_max=act_max)
    weights = _int8(rng, (n_out, n_in))
    bias = None if rng.integers(4) == 0 else rng.integers(-20000, 20000, n_out).astype(np.int32)
    return _int8(rng, (n, n_in)), weights, bias, p


SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv2d_matches_numba(seed):
    x, weights, bias, p = conv_case(np.random.default_rng(seed), depthwise=False)
    np.testing.assert_array_equal(fw.conv2d_s8(x, weights, bias, p), nb.conv2d_s8(x, weights, bias, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_depthwise_conv2d_matches_numba(seed):
    x, weights, bias, p = conv_case(np.random.default_rng(100 + seed), depthwise=True)
    np.testing.assert_array_equal(fw.depthwise_conv2d_s8(x, weights, bias, p),
                                  nb.depthwise_conv2d_s8(x, weights, bias, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_fully_connected_matches_numba(seed):
    x, weights, bias, p = fc_case(np.random.default_rng(200 + seed))
    np.testing.assert_array_equal(fw.fully_connected_s8(x, weights, bias, p),
                                  nb.fully_connected_s8(x, weights, bias, p))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_pooling_matches_numba(seed, kind):
    x, p = pool_case(np.random.default_rng(300 + seed))
    name = f"{kind}_pool2d_s8"
    np.testing.assert_array_equal(getattr(fw, name)(x, p), getattr(nb, name)(x, p))


def test_outputs_are_not_all_clamped():
    # Guards the generators above: the parity tests must exercise the requantization, not only the clamp.
    inside = []
    for seed in SEEDS:
        x, weights, bias, p = conv_case(np.random.default_rng(seed), depthwise=False)
        y = fw.conv2d_s8(x, weights, bias, p)
        inside.append(((y > p.act_min) & (y < p.act_max)).mean())
    assert np.mean(inside) > 0.2


def test_requantize_double_rounding():
    # FC with one input, weight 1 and no offsets: acc = x, scaled by 2^30 / 2^31 then 2^-1 (x / 4).
    # The doubling high multiply rounds ties up (2.5 -> 3, -2.5 -> -2), the divide by 2 rounds
    # halves away from zero: 5 / 4 gives 2 where single rounding would give 1 (TFLM default).
    p = FullyConnectedParams(input_offset=0, output_offset=0, multiplier=1 << 30, shift=-1,
                             act_min=-128, act_max=127)
    x = np.array([[2], [-2], [6], [-6], [5], [-5], [7], [-7]], np.int8)
    y = fw.fully_connected_s8(x, np.ones((1, 1), np.int8), None, p)
    assert y.ravel().tolist() == [1, -1, 2, -2, 2, -1, 2, -2]
    np.testing.assert_array_equal(y, nb.fully_connected_s8(x, np.ones((1, 1), np.int8), None, p))


def test_kernel_status_becomes_firmware_error():
    p = ConvParams(0, 0, np.full(2, 1 << 30, np.int32), np.zeros(2, np.int32), 1, 1, 0, 0, 1, 1, 1,
                   -128, 127, 2, 2)
    x, weights = np.zeros((1, 4, 4, 3), np.int8), np.zeros((2, 3, 3, 2), np.int8)
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_SHAPE") as err:
        fw.conv2d_s8(x, weights, None, p)  # the filter reads 2 input channels, the input has 3
    assert err.value.status == fw.Status.ERR_SHAPE
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_ARG"):
        fw.conv2d_s8(x, np.zeros((2, 3, 3, 3), np.int8), None, ConvParams(**{**p.__dict__, "shift": np.full(2, 31)}))
    x, p = pool_case(np.random.default_rng(1))
    bad = PoolParams(**{**p.__dict__, "stride_h": 0})
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_ARG"):
        fw.max_pool2d_s8(x, bad)
    with pytest.raises(ValueError, match="int8"):
        fw.avg_pool2d_s8(x.astype(np.int16), p)


@pytest.mark.parametrize("n_features,dim,zp", [(1, 32, 0), (50, 256, -7), (64, 2048, 12)])
def test_hdc_matches_numba(n_features, dim, zp):
    rng = np.random.default_rng(n_features)
    x = _int8(rng, (8, n_features))
    enc = SignProjection(n_features, dim=dim, zero_point=zp)
    hv = fw.hdc_encode(enc, x)
    np.testing.assert_array_equal(hv, hdc_encode(x, zp, enc.projection))
    labels = np.arange(8) % 3
    model = Centroid(3, dim).fit(hv, labels)
    fw_labels, fw_conf, fw_d = fw.hdc_classify(hv, model.prototypes)
    nb_labels, nb_conf, nb_d = model.classify(hv)
    np.testing.assert_array_equal(fw_d, nb_d)
    np.testing.assert_array_equal(fw_labels, nb_labels)
    np.testing.assert_array_equal(fw_conf, nb_conf)


def test_hdc_classify_ties_go_to_lowest_class():
    protos = np.array([[0b110], [0b011], [0b101]], np.uint32)
    labels, conf, d = fw.hdc_classify(np.array([[0b111], [0b001]], np.uint32), protos)
    assert d.tolist() == [[1, 1, 1], [3, 1, 1]]
    assert labels.tolist() == [0, 1] and conf.tolist() == [0, 0]
    labels, conf, _ = fw.hdc_classify(np.array([[0b111]], np.uint32), protos[:1])
    assert labels.tolist() == [0] and conf.tolist() == [0]  # one class: no runner-up


# --- the runtime: a small CNN as a layer table ------------------------------------------------


def tiny_net(seed=0):
    """conv 3x3 -> depthwise 3x3 /2 (x2) -> max pool 2x2 -> avg pool 2x2 -> FC 8->24, in NHWC int8."""
    rng = np.random.default_rng(seed)
    zps = [int(v) for v in rng.integers(-20, 20, 6)]
    shapes = [(1, 8, 8, 2), (1, 8, 8, 4), (1, 4, 4, 8), (1, 2, 2, 8), (1, 1, 1, 8), (1, 1, 1, 24)]
    w_conv = _int8(rng, (4, 3, 3, 2))
    w_dw = _int8(rng, (1, 3, 3, 8))
    w_fc = _int8(rng, (24, 8))

    def conv_p(ch, stride, pad, out, m, i):
        return ConvParams(-zps[i], zps[i + 1], rng.integers(1 << 30, 1 << 31, ch).astype(np.int32),
                          rng.integers(-9, -5, ch).astype(np.int32), stride, stride, pad, pad, 1, 1,
                          m, zps[i + 1], 127, out, out)

    pool = PoolParams(2, 2, 2, 2, 0, 0, -128, 127, 0, 0)
    layers = [
        (S.Op.CONV_2D, w_conv, rng.integers(-500, 500, 4).astype(np.int32), conv_p(4, 1, 1, 8, 1, 0)),
        (S.Op.DEPTHWISE_CONV_2D, w_dw, None, conv_p(8, 2, 0, 4, 2, 1)),
        (S.Op.MAX_POOL_2D, None, None, PoolParams(**{**pool.__dict__, "out_h": 2, "out_w": 2})),
        (S.Op.AVERAGE_POOL_2D, None, None, PoolParams(**{**pool.__dict__, "out_h": 1, "out_w": 1})),
        (S.Op.FULLY_CONNECTED, w_fc, rng.integers(-500, 500, 24).astype(np.int32),
         FullyConnectedParams(-zps[4], zps[5], int(rng.integers(1 << 30, 1 << 31)), -7, -128, 127)),
    ]
    return shapes, zps, layers


def numba_forward(x, layers):
    for op, w, b, p in layers:
        if op == S.Op.CONV_2D:
            x = nb.conv2d_s8(x, w, b, p)
        elif op == S.Op.DEPTHWISE_CONV_2D:
            x = nb.depthwise_conv2d_s8(x, w, b, p)
        elif op == S.Op.MAX_POOL_2D:
            x = nb.max_pool2d_s8(x, p)
        elif op == S.Op.AVERAGE_POOL_2D:
            x = nb.avg_pool2d_s8(x, p)
        else:
            x = nb.fully_connected_s8(x.reshape(x.shape[0], -1), w, b, p)
    return x.reshape(-1)


def ctypes_model(shapes, zps, layers, offsets=None):
    """An ehd_model over ctypes structs; returns (model, keepalive, arena size)."""
    if offsets is None:
        offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    keep = []
    tensors = (S.Tensor * len(shapes))(*[S.Tensor(int(o), S.Dims.of(s), zp)
                                         for o, s, zp in zip(offsets, shapes, zps)])
    table = (S.Layer * len(layers))()
    for i, (op, w, b, p) in enumerate(layers):
        if op in (S.Op.CONV_2D, S.Op.DEPTHWISE_CONV_2D):
            arrays = [w, b, np.ascontiguousarray(p.multiplier), np.ascontiguousarray(p.shift)]
            params = S.ConvParams(S.ptr(w, C.c_int8), S.ptr(b, C.c_int32), S.ptr(arrays[2], C.c_int32),
                                  S.ptr(arrays[3], C.c_int32), S.Dims.of(w.shape), p.stride_h,
                                  p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w,
                                  p.depth_multiplier, p.act_min, p.act_max)
            keep += arrays
        elif op == S.Op.FULLY_CONNECTED:
            quant = [np.array([p.multiplier], np.int32), np.array([p.shift], np.int32)]
            params = S.FcParams(S.ptr(w, C.c_int8), S.ptr(b, C.c_int32), S.ptr(quant[0], C.c_int32),
                                S.ptr(quant[1], C.c_int32), 0, S.Dims(*w.shape[:1], 1, 1, w.shape[1]),
                                p.act_min, p.act_max)
            keep += quant
        else:
            params = S.PoolParams(p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                                  p.act_min, p.act_max)
        keep.append(params)
        table[i] = S.Layer(int(op), (C.c_uint16 * 2)(i, S.UNUSED_INPUT), (C.c_uint16 * 1)(i + 1), C.addressof(params))
    arena = int(offsets[-1]) if len(offsets) > len(shapes) else int(offsets[-1] + np.prod(shapes[-1]))
    model = S.Model(table, len(layers), tensors, len(shapes), 0, len(shapes) - 1, arena)
    keep += [tensors, table]
    return model, keep, arena


def invoke(model, arena_size, x):
    lib = fw.default_library()
    arena = np.zeros(arena_size, np.int8)
    dst = lib.ehd_model_tensor(C.byref(model), S.ptr(arena, C.c_int8), model.input)
    assert dst == arena.ctypes.data + model.tensors[model.input].offset
    arena[:x.size] = x.reshape(-1)
    status = lib.ehd_model_invoke(C.byref(model), S.ptr(arena, C.c_int8))
    feature = model.tensors[model.feature]
    return status, arena[feature.offset:feature.offset + 24]


def test_runtime_runs_the_layer_table_like_numba():
    shapes, zps, layers = tiny_net()
    model, _keep, arena = ctypes_model(shapes, zps, layers)
    for seed in range(3):
        x = _int8(np.random.default_rng(seed), shapes[0])
        status, features = invoke(model, arena, x)
        assert status == S.Status.OK
        np.testing.assert_array_equal(features, numba_forward(x, layers))


def test_runtime_rejects_bad_tables():
    shapes, zps, layers = tiny_net()
    x = np.zeros(shapes[0], np.int8)
    model, _keep, arena = ctypes_model(shapes, zps, layers)
    model.arena_size = arena - 1  # the last tensor sticks out of the arena
    assert invoke(model, arena, x)[0] == S.Status.ERR_ARENA
    lib = fw.default_library()
    assert lib.ehd_model_tensor(C.byref(model), S.ptr(np.zeros(arena, np.int8), C.c_int8), 99) is None

    model, _keep, arena = ctypes_model(shapes, zps, layers)
    model.layers[2].outputs[0] = 77  # no such tensor
    assert invoke(model, arena, x)[0] == S.Status.ERR_ARG

    model, _keep, arena = ctypes_model(shapes, zps, layers)
    model.layers[4].op = 42
    assert invoke(model, arena, x)[0] == S.Status.ERR_UNSUPPORTED

    model, _keep, arena = ctypes_model(shapes, zps, layers)
    model.tensors[1].offset = 100  # overlaps the input: the kernel would read what it writes
    assert invoke(model, arena, x)[0] == S.Status.ERR_ARENA

    model, _keep, arena = ctypes_model(shapes, zps, layers)
    model.tensors[2].dims.c = 5  # depthwise output no longer C * M channels
    assert invoke(model, arena, x)[0] == S.Status.ERR_SHAPE


# --- a generated model compiled in, run through FirmwareModel ----------------------------------


def _c_array(ctype, name, values):
    body = ", ".join(str(int(v)) + ("u" if ctype.startswith("uint") else "") for v in np.ravel(values))
    return f"static const {ctype} {name}[] = {{{body}}};\n"


def write_generated_model(folder, shapes, zps, layers, enc, prototypes):
    """A stand-in for the exporter's output: ehd_generated.h + model.c."""
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    (folder / "ehd_generated.h").write_text(
        '#include "ehd/ehd_hdc.h"\n#include "ehd/ehd_model.h"\n'
        f"#define EHD_GENERATED_ARENA_SIZE {int(offsets[-1])}u\n"
        "extern const ehd_model ehd_generated_model;\nextern const ehd_hdc_model ehd_generated_hdc;\n")
    src, table = ['#include "ehd_generated.h"\n'], []
    for i, (op, w, b, p) in enumerate(layers):
        if w is not None:
            src.append(_c_array("int8_t", f"w{i}", w))
        if b is not None:
            src.append(_c_array("int32_t", f"b{i}", b))
        bias = f"b{i}" if b is not None else "0"
        if op in (S.Op.CONV_2D, S.Op.DEPTHWISE_CONV_2D):
            src.append(_c_array("int32_t", f"m{i}", p.multiplier) + _c_array("int32_t", f"s{i}", p.shift))
            src.append(f"static const ehd_conv_params p{i} = {{w{i}, {bias}, m{i}, s{i}, "
                       f"{{{', '.join(map(str, w.shape))}}}, {p.stride_h}, {p.stride_w}, {p.pad_h}, "
                       f"{p.pad_w}, {p.dilation_h}, {p.dilation_w}, {p.depth_multiplier}, "
                       f"{p.act_min}, {p.act_max}}};\n")
        elif op == S.Op.FULLY_CONNECTED:
            src.append(_c_array("int32_t", f"m{i}", [p.multiplier]) + _c_array("int32_t", f"s{i}", [p.shift]))
            src.append(f"static const ehd_fc_params p{i} = {{w{i}, {bias}, m{i}, s{i}, 0, "
                       f"{{{w.shape[0]}, 1, 1, {w.shape[1]}}}, {p.act_min}, {p.act_max}}};\n")
        else:
            src.append(f"static const ehd_pool_params p{i} = {{{p.filter_h}, {p.filter_w}, {p.stride_h}, "
                       f"{p.stride_w}, {p.pad_h}, {p.pad_w}, {p.act_min}, {p.act_max}}};\n")
        table.append(f"{{(ehd_op){int(op)}, {{{i}, 0xFFFF}}, {{{i + 1}}}, &p{i}, 0u, 0u}}")
    tensors = [f"{{{int(o)}u, {{{', '.join(map(str, s))}}}, {zp}, EHD_DTYPE_INT8, 0}}"
               for o, s, zp in zip(offsets, shapes, zps)]
    src.append(f"static const ehd_layer layers[] = {{{', '.join(table)}}};\n")
    src.append(f"static const uint16_t outputs[] = {{{len(shapes) - 1}}};\n")
    src.append(f"static const ehd_tensor tensors[] = {{{', '.join(tensors)}}};\n")
    src.append(f"const ehd_model ehd_generated_model = {{layers, {len(layers)}, tensors, {len(shapes)}, "
               f"0, {len(shapes) - 1}, {int(offsets[-1])}u, {{1, 2, 3, 4, 5, 6, 7, 8}}, outputs, 1}};\n")
    src.append(hdc_source(enc, prototypes))
    (folder / "model.c").write_text("".join(src))
    return folder / "model.c"


def test_firmware_model_matches_host_pipeline(tmp_path):
    shapes, zps, layers = tiny_net(seed=5)
    rng = np.random.default_rng(5)
    xs = _int8(rng, (12, *shapes[0][1:]))
    features = np.stack([numba_forward(x[None], layers) for x in xs])
    enc = SignProjection(24, dim=256, zero_point=zps[-1])
    hv = enc.encode(features)
    clf = Centroid(4, 256).fit(hv, np.arange(12) % 4)
    labels, confidence, distances = clf.classify(hv)

    source = write_generated_model(tmp_path, shapes, zps, layers, enc, clf.prototypes)
    device = fw.FirmwareModel(fw.build_library([source], [tmp_path]))
    assert device.input_shape == shapes[0] and device.model_id == bytes(range(1, 9))
    assert (device.n_features, device.dim, device.n_classes) == (24, 256, 4)
    for i, x in enumerate(xs):
        out = device.invoke(x)
        np.testing.assert_array_equal(out.features, features[i])
        np.testing.assert_array_equal(out.hv, hv[i])
        np.testing.assert_array_equal(out.distances, distances[i])
        assert (out.label, out.confidence) == (labels[i], confidence[i])
    with pytest.raises(ValueError, match="input must be int8"):
        device.invoke(xs[0][:4])


def test_build_is_cached_and_reports_compiler_errors(tmp_path):
    assert fw.build_library()._name == fw.build_library()._name
    assert all(p.suffix == ".c" and "boards" not in p.parts for p in fw.firmware_sources())
    bad = tmp_path / "bad.c"
    bad.write_text("int broken(void) { return undeclared_name; }\n")
    with pytest.raises(fw.BuildError, match="undeclared_name"):
        fw.build_library([bad])
    with pytest.raises(ValueError, match="no generated model"):
        fw.FirmwareModel(fw.build_library())
