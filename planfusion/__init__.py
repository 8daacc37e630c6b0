"""planfusion: diverse, verified, traceable training mixes of synthetic planning tasks.

The library layer: task generators and verifiers, NovelSum selection, embeddings, the warehouse.
It never imports Dagster; the Dagster assets in ``assets/`` call into it.
"""

__version__ = "0.1.0"
