"""Artifacts for the device: firmware model/HDC sources, arena plan, manifest."""
