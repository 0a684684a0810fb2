"""edgehdc: fine-tuned int8 CNN + binary HDC classifiers on Cortex-M, bit-exact with the host."""

__version__ = "0.1.0"
