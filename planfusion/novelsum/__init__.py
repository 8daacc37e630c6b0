"""NovelSum and NovelSelect (MagicAgent Eq. 1 and the authors' released variant), exact and fast.

Semantics: ``shared/reference/novelsum.md``. Library API in the numpy style: plain arrays in,
documented shapes, explicit random state.
"""

from planfusion.novelsum.dataset import novelsum
from planfusion.novelsum.density import Density, embedding_density, precomputed_density
from planfusion.novelsum.scoring import candidate_scores, ranked_terms
from planfusion.novelsum.select import Selection, novel_select

__all__ = [
    "Density",
    "Selection",
    "candidate_scores",
    "embedding_density",
    "novel_select",
    "novelsum",
    "precomputed_density",
    "ranked_terms",
]
