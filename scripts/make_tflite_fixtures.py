"""Make the converter-written .tflite test fixtures in tests/data (needs TensorFlow; the tests do not).

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tf/bin/python scripts/make_tflite_fixtures.py [OUT_DIR]   # default tests/data

Both models are Keras models converted by TF 2.21's TFLiteConverter to int8
(inputs and outputs int8, a seeded representative dataset), so they carry
exactly what the converter writes where TFLM departs from TFLite:

- keras_dilated_same.tflite: Conv2D(8, 3, dilation_rate=2, padding="same") ->
  DepthwiseConv2D(3, dilation_rate=2, padding="same", activation="relu") on
  12x12x3 with an unknown batch size. The converter writes each dilated
  convolution as SPACE_TO_BATCH_ND (with padding) + conv + BATCH_TO_SPACE_ND,
  and the ReLU as a separate RELU that requantizes. (With batch_size=1 it
  writes natively dilated convolutions instead.)
- keras_relu6.tflite: ReLU(6) on the 8x8x3 input (nothing to fuse it into,
  so a RELU6 op whose output scale differs from its input's), Conv2D,
  ReLU, Add, ReLU6, Flatten, Dense(10): RELU6 and RELU ops that requantize
  next to a FULLY_CONNECTED.
"""

import os
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf


def convert(model: tf.keras.Model, shape: tuple[int, ...], path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(64):
            yield [rng.uniform(-4, 4, (1, *shape)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(converter.convert())
    os.replace(tmp, path)


def dilated_same() -> tf.keras.Model:
    x = tf.keras.Input((12, 12, 3))
    y = tf.keras.layers.Conv2D(8, 3, dilation_rate=2, padding="same")(x)
    y = tf.keras.layers.DepthwiseConv2D(3, dilation_rate=2, padding="same", activation="relu")(y)
    return tf.keras.Model(x, y)


def relu6() -> tf.keras.Model:
    x = tf.keras.Input((8, 8, 3), batch_size=1)
    c = tf.keras.layers.Conv2D(4, 3, padding="same")(tf.keras.layers.ReLU(6.0)(x))
    y = tf.keras.layers.Add()([c, tf.keras.layers.ReLU()(c)])
    y = tf.keras.layers.Flatten()(tf.keras.layers.ReLU(6.0)(y))
    return tf.keras.Model(x, tf.keras.layers.Dense(10)(y))


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "tests" / "data"
    out.mkdir(parents=True, exist_ok=True)
    tf.keras.utils.set_random_seed(0)
    convert(dilated_same(), (12, 12, 3), out / "keras_dilated_same.tflite", seed=0)
    convert(relu6(), (8, 8, 3), out / "keras_relu6.tflite", seed=1)
    for name in ("keras_dilated_same.tflite", "keras_relu6.tflite"):
        print(out / name, (out / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
