"""bench/embedding.py's arithmetic count, which its ceiling table (texts/s at the CPU's matrix-product peak)
rests on, equals what torch counts running the model itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from planfusion.embedding import model_dir

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from torch.utils.flop_counter import FlopCounterMode


def _bench():
    path = Path(__file__).parents[2] / "bench" / "embedding.py"
    spec = importlib.util.spec_from_file_location("bench_embedding", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_flops_equal_torch_flop_counter_on_the_model() -> None:
    # eager attention: its two (L, L) products run as matmuls the counter sees
    model = transformers.AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()
    counted, lengths = 0, []
    for length, rows in ((5, 2), (131, 3), (256, 1)):
        ids = torch.randint(1000, 2000, (rows, length))
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
        h = model.config.hidden_size
        counted += counter.get_total_flops() - 2 * rows * h * h  # less BERT's pooler, which the embedding drops
        lengths += [length] * rows
    assert _bench().model_flops(model.config, lengths) == counted
