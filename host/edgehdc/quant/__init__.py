"""Int8 model form (TFLite int8 spec), quantization from PyTorch, .tflite import/export."""
