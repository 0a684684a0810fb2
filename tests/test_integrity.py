"""Table format version and CRC-32 of the generated model and HDC tables, checked at boot.

The host computes the CRCs over the constants it generates (edgehdc.export.integrity);
the firmware recomputes them over what it holds. A corrupt table is reported by
INFO and every other request is refused with INTEGRITY, on the firmware compiled
for this machine and on the emulated Cortex-M4.
"""

import ctypes
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from edgehdc.device import DeviceError, EmulatedBoard, ErrorCode, MsgType
from edgehdc.device import protocol as p
from edgehdc.export import csource
from edgehdc.export.firmware import SOURCE_NAME
from edgehdc.export.integrity import TABLE_FORMAT_VERSION, tables
from edgehdc.export.layer_params import c_array, c_float
from edgehdc.hdc import IdLevel, SignProjection

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
import tiny_device as tiny  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def on_emulator(test):
    for mark in (pytest.mark.emulator, pytest.mark.slow,
                 pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                                    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)")):
        test = mark(test)
    return test


# --- the host side: what the generated source holds ---------------------------------------------


@pytest.mark.parametrize("ctype,dtype", [("int8_t", np.int8), ("uint8_t", np.uint8), ("int16_t", np.int16),
                                         ("int32_t", np.int32), ("uint32_t", np.uint32)])
def test_arrays_read_back_as_the_firmware_lays_them_out(ctype, dtype):
    info = np.iinfo(dtype)
    values = np.random.default_rng(3).integers(info.min, info.max, 40, endpoint=True).astype(dtype)
    values[:2] = info.min, info.max  # INT32_MIN needs its own spelling in C
    (c,) = csource.constants(c_array(ctype, "t", values))
    assert (c.name, c.ctype, c.pointers) == ("t", ctype, 0)
    assert c.data == values.astype(np.dtype(dtype).newbyteorder("<")).tobytes()


def test_params_struct_hashes_its_fields_after_the_pointers():
    src = ("static const ehd_conv_params l_params = {\n    l_weights, NULL, l_multiplier, l_shift, "
           "{4, 3, 3, 2}, 1, 1, (-2147483647 - 1), 0, 1, 1, 1, -128, 127,\n};\n"
           f"static const ehd_quantize_params q_params = {{\n    {c_float(0.0123)}, -7,\n}};\n")
    conv, quant = csource.constants(src)
    assert conv.pointers == 4
    assert conv.data == np.array([4, 3, 3, 2, 1, 1, -2**31, 0, 1, 1, 1, -128, 127], "<i4").tobytes()
    assert quant.pointers == 0
    assert quant.data == np.float32(0.0123).tobytes() + np.int32(-7).tobytes()


def test_unsized_arrays_and_one_line_designated_initializers():
    (c,) = csource.constants("static const uint16_t outputs[] = {3, 258};\n")
    assert (c.name, c.data) == ("outputs", bytes([3, 0, 2, 1]))
    header = (ROOT / "firmware" / "include" / "ehd" / "ehd_hdc.h").read_text()
    fields = csource.designated_fields("const ehd_hdc_model ehd_generated_hdc = {.encoder = EHD_HDC_ID_LEVEL, "
                                       ".n_classes = 3u};\n", "ehd_hdc_model", "ehd_generated_hdc", header)
    assert fields[0].name == "ehd_generated_hdc.dim" and fields[0].data == bytes(2)  # not set: 0, as in C
    assert fields[-1].name == "ehd_generated_hdc.n_classes" and fields[-1].data == bytes([3, 0])


def test_a_pointer_after_data_fields_is_refused():
    with pytest.raises(ValueError, match="pointer field w after data"):
        csource.constants("static const ehd_fc_params f_params = {\n    1, w,\n};\n")


def test_tables_split_model_and_hdc_and_crc_is_zlib(tmp_path):
    tiny.export(tmp_path)
    model, hdc = tables((tmp_path / SOURCE_NAME).read_text())
    # (a runtime with several model outputs adds their index list, `outputs`, after the layers)
    assert [c.name for c in model.regions if c.name != "outputs"] == [
        "layer0_weights", "layer0_bias", "layer0_multiplier", "layer0_shift", "layer0_params",
        "layer1_params", "layer2_weights", "layer2_bias", "layer2_multiplier", "layer2_shift", "layer2_params"]
    config = ["dim", "n_features", "feature_zero_point", "seed", "n_levels", "level_lo", "level_hi", "n_classes"]
    assert [c.name for c in hdc.regions] == ["hdc_projection", "hdc_prototypes"] + [
        f"ehd_generated_hdc.{f}" for f in config]
    assert model.crc == zlib.crc32(b"".join(c.data for c in model.regions))
    assert hdc.bytes == 4 * (tiny.DIM * 1 + tiny.N_CLASSES * tiny.DIM // 32) + 2 * 4 + 4 * 4
    fields = {c.name.split(".")[1]: c.data for c in hdc.regions[2:]}
    assert fields["dim"] == tiny.DIM.to_bytes(2, "little") and fields["level_lo"] == bytes(4)  # unset: 0
    assert fields["feature_zero_point"] == (5).to_bytes(4, "little", signed=True)


# --- the firmware's CRC-32 and boot check, compiled for this machine ------------------------------


def test_firmware_crc32_is_zlib_crc32(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lib = tmp_path / "libcrc.so"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC",
                    f"-I{ROOT / 'firmware' / 'include'}", str(ROOT / "firmware" / "src" / "runtime" / "ehd_integrity.c"),
                    "-o", str(lib)], check=True, capture_output=True)
    crc32 = ctypes.CDLL(str(lib)).ehd_crc32_update
    crc32.restype = ctypes.c_uint32
    crc32.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
    assert crc32(0, b"123456789", 9) == 0xCBF43926  # the CRC-32/ISO-HDLC check value
    data = np.random.default_rng(0).integers(0, 256, 5000).astype(np.uint8).tobytes()
    assert crc32(0, data, len(data)) == zlib.crc32(data)
    assert crc32(crc32(0, data[:1234], 1234), data[1234:], len(data) - 1234) == zlib.crc32(data)
    assert crc32(0, b"", 0) == 0


@pytest.fixture()
def model_dir(tmp_path):
    out = tmp_path / "model"
    tiny.export(out)
    return out


def _info(send) -> p.InfoReply:
    return p.InfoReply.from_body(tiny.request(send, MsgType.INFO).body)


def test_intact_tables_report_the_host_crcs(model_dir, tmp_path):
    send = tiny.service(model_dir, tmp_path)
    model, hdc = tables((model_dir / SOURCE_NAME).read_text())
    info = _info(send)
    assert info.intact and info.table_format == TABLE_FORMAT_VERSION
    assert (info.model_crc, info.hdc_crc) == (model.crc, hdc.crc)
    x = np.zeros(info.input_bytes, np.int8).tobytes()
    assert tiny.request(send, MsgType.INFER, x).type == MsgType.INFER | p.REPLY


@pytest.mark.parametrize("encoder,capacity,hdc_arrays", [
    (SignProjection(tiny.N_FEATURES, tiny.DIM, zero_point=5, stored=False), None, ["hdc_prototypes"]),
    (IdLevel(tiny.N_FEATURES, tiny.DIM, n_levels=8, zero_point=5), None, ["hdc_items", "hdc_levels", "hdc_prototypes"]),
    (None, 6, ["hdc_projection", "hdc_prototypes", "hdc_flash_accumulators"]),
], ids=["regenerated-projection", "id-level", "learner"])
def test_every_hdc_head_boots_intact(tmp_path, encoder, capacity, hdc_arrays):
    tiny.export(tmp_path / "model", encoder=encoder, learner_capacity=capacity)
    model, hdc = tables((tmp_path / "model" / SOURCE_NAME).read_text())
    assert [c.name for c in hdc.regions if not c.field] == hdc_arrays
    info = _info(tiny.service(tmp_path / "model", tmp_path))
    assert info.intact and (info.model_crc, info.hdc_crc) == (model.crc, hdc.crc)


@pytest.mark.parametrize("array,flag", [("layer0_weights", p.Integrity.MODEL_CORRUPT),
                                        ("layer2_shift", p.Integrity.MODEL_CORRUPT),
                                        ("hdc_prototypes", p.Integrity.HDC_CORRUPT),
                                        ("hdc_projection", p.Integrity.HDC_CORRUPT)])
def test_corrupt_table_answers_info_and_refuses_the_rest(model_dir, tmp_path, array, flag):
    expected = tables((model_dir / SOURCE_NAME).read_text())
    tiny.corrupt(model_dir, array)
    held = tables((model_dir / SOURCE_NAME).read_text())  # what the corrupt flash holds
    send = tiny.service(model_dir, tmp_path)
    info = _info(send)
    assert info.integrity == flag and not info.intact
    # The device hashes exactly the bytes the host describes: its CRC is that of the corrupt bytes.
    assert (info.model_crc, info.hdc_crc) == (held[0].crc, held[1].crc)
    assert (info.model_crc != expected[0].crc) == (flag == p.Integrity.MODEL_CORRUPT)
    x = np.zeros(info.input_bytes, np.int8).tobytes()
    for type_, body in ((MsgType.INFER, x), (MsgType.PROFILE, x), (MsgType.HDC_CLASSIFY, bytes(info.n_features)),
                        (MsgType.LEARN_INFO, b""), (0x55, b"")):
        err = DeviceError.from_packet(tiny.request(send, type_, body, seq=9))
        assert (err.code, err.detail, err.seq) == (ErrorCode.INTEGRITY, int(flag), 9)
    assert _info(send).integrity == flag  # still answering


def test_corrupt_hdc_seed_is_caught(model_dir, tmp_path):
    """The seed is the whole projection of an encoder regenerated on the device: it is covered too."""
    path = model_dir / SOURCE_NAME
    text = path.read_text()
    seed = text.split(".seed = ")[1].split(",")[0]
    path.write_text(text.replace(f".seed = {seed},", f".seed = 0x{int(seed.rstrip('u'), 16) ^ 0x100:08x}u,"))
    info = _info(tiny.service(model_dir, tmp_path))
    assert info.integrity == p.Integrity.HDC_CORRUPT
    assert info.hdc_crc == tables(path.read_text())[1].crc


def test_tables_of_another_format_version_are_refused(model_dir, tmp_path):
    path = model_dir / SOURCE_NAME
    text = path.read_text()
    path.write_text(text.replace(f"const ehd_integrity ehd_generated_integrity = {{\n    {TABLE_FORMAT_VERSION}u,",
                                 "const ehd_integrity ehd_generated_integrity = {\n    99u,"))
    send = tiny.service(model_dir, tmp_path)
    info = _info(send)
    assert (info.table_format, info.integrity) == (99, p.Integrity.BAD_FORMAT)
    err = DeviceError.from_packet(tiny.request(send, MsgType.INFER, bytes(info.input_bytes)))
    assert (err.code, err.detail) == (ErrorCode.INTEGRITY, int(p.Integrity.BAD_FORMAT))


# --- on the emulated Cortex-M4 ------------------------------------------------------------------


@on_emulator
def test_corrupt_flash_boots_reports_and_refuses_on_the_emulator(model_dir):
    tiny.corrupt(model_dir, "layer2_weights")  # one bit of one FC weight
    held_model, held_hdc = tables((model_dir / SOURCE_NAME).read_text())
    with EmulatedBoard("qemu_m4", model_dir=model_dir) as board:
        link = board.link
        info = link.expect_model(tiny.MODEL_ID)
        assert info.integrity == p.Integrity.MODEL_CORRUPT and info.table_format == TABLE_FORMAT_VERSION
        assert (info.model_crc, info.hdc_crc) == (held_model.crc, held_hdc.crc)
        x = np.random.default_rng(2).integers(-128, 128, tiny.IN_SHAPE).astype(np.int8)
        for _ in range(2):  # refused every time, and the device keeps answering
            with pytest.raises(DeviceError) as exc:
                link.infer(x)
            assert (exc.value.code, exc.value.detail) == (ErrorCode.INTEGRITY, int(p.Integrity.MODEL_CORRUPT))
            assert link.info().integrity == p.Integrity.MODEL_CORRUPT
