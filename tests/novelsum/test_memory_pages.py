"""The selection's (N, B) arrays, which fill a few columns per pick, are on small pages: numpy's
transparent huge pages made the first flush of a 100,000 x 5,000 matrix fault in all of it at once
(2-7 s of compaction) and the whole selection about a third slower."""

from pathlib import Path

import numpy as np
import pytest

from planfusion.novelsum import embedding_density
from planfusion.novelsum.select import _LazyGreedy, _PoolDistances
from planfusion.novelsum.synthetic import clustered_embeddings

SMAPS = Path("/proc/self/smaps")
pytestmark = pytest.mark.skipif(
    not SMAPS.exists() or not Path("/sys/kernel/mm/transparent_hugepage").exists(),
    reason="needs Linux with transparent huge pages",
)


def vm_flags(a: np.ndarray) -> set[str]:
    """The kernel's flags of the mapping that holds a's first byte ("nh": no huge pages)."""
    address, mapping = a.ctypes.data, None
    for line in SMAPS.read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            lo, hi = (int(part, 16) for part in head.split("-"))
            mapping = lo <= address < hi
        elif head == "VmFlags:" and mapping:
            return set(line.split()[1:])
    raise AssertionError(f"no mapping holds {address:#x}")


def test_the_pick_matrix_and_key_orders_are_on_small_pages():
    x = clustered_embeddings(4000, 64, random_state=0)
    greedy = _LazyGreedy(_PoolDistances(x, "cosine"), embedding_density(x, 5), 2000, 1.0, 0.5, "magicagent", 3, None)
    for name, a in (("matrix", greedy.dist.matrix), ("sorted_picks", greedy.sorted_picks)):
        assert a.shape == (4000, 2000) and a.flags.c_contiguous and a.flags.writeable, name
        assert "nh" in vm_flags(a), name  # before: numpy's memory, where huge pages may back it
    assert "nh" not in vm_flags(np.empty((4000, 2000), dtype=np.float32))
