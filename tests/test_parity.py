import numpy as np

from edgehdc.parity import Parity


def test_counts_every_element_and_names_the_first_mismatch():
    p = Parity()
    a = np.arange(10, dtype=np.int8)
    assert p.compare("r", "features", 0, a, a.copy()) == 0
    b = a.copy()
    b[3] = -1
    b[7] = -2
    assert p.compare("r", "features", 1, b, a) == 2
    assert p.compare("r", "features", 2, b, a) == 2
    assert (p.compared, p.mismatches) == (30, 4)
    assert p.rungs["r"].first_mismatch == "features[3] of sample 1: -1 != 3"


def test_shape_mismatch_counts_as_all_elements_wrong():
    p = Parity()
    assert p.compare("r", "hv", 0, np.zeros(4), np.zeros(6)) == 6
    assert "shape" in p.as_dict()["rungs"]["r"]["first_mismatch"]


def test_unsigned_and_signed_compare_by_value():
    p = Parity()
    assert p.compare("r", "d", 0, np.array([200], np.uint16), np.array([200], np.int32)) == 0
