"""The pipeline cuts windows from the model's tokenizer.json loaded alone (no sentence-transformers, no torch):
its word pieces must be exactly those of the sentence-transformers tokenizer, or the same text would get other
vectors under the same cache key."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from planfusion.embedding import TaskEmbedder
from planfusion.tasks import FAMILIES, get_family

AWKWARD = [
    "",
    "   ",
    "Café naïve résumé — “quoted” ‘text’ … ½ ² ©",
    "北京 東京 서울 emoji 🚀🔥 and ZWJ 👩‍💻",
    "tabs\tand\nnewlines\r\nand\u00a0no-break\u2009thin spaces",
    "UPPER lower MiXeD CamelCaseWords snake_case_words kebab-case-words",
    "numbers 3.14159 1,000,000 -42 1e-9 0x1F and urls https://example.com/a?b=c&d=e",
    "{\"json\": [1, 2, {\"nested\": null}], \"tool\": \"search_flights\"}",
    "[CLS] literal [SEP] and [MASK] [sep] [PAD] tokens",
    "cafe\u0301 combining, control \x07\x1b chars, \ufffd replacement, ｆｕｌｌ width, ﬁ ligature",
    "w" * 100 + " " + "w" * 101,  # the longest word WordPiece splits, and one past it
    "x" * 3000,  # one word far past any truncation length
    " ".join(["word"] * 2000),  # far past 512 word pieces
]


def _pipeline(tokenizer_json: str) -> dict:
    """A tokenizer.json's pipeline without its call settings (truncation, padding), which the two switch off."""
    return {k: v for k, v in json.loads(tokenizer_json).items() if k not in ("truncation", "padding")}


def test_the_tokenizer_is_the_sentence_transformers_one() -> None:
    """Same normalizer, pre-tokenizer, vocabulary and added tokens: the same ids for any text."""
    embedder = TaskEmbedder(backend="torch", precision="fp32")
    assert _pipeline(embedder.tokenizer.to_str()) == _pipeline(embedder.model.tokenizer.backend_tokenizer.to_str())


def test_word_pieces_equal_the_sentence_transformers_tokenizer() -> None:
    embedder = TaskEmbedder(backend="torch", precision="fp32")
    texts = [r["text"] for family in FAMILIES for r in get_family(family).generate(15, seed=77)] + AWKWARD
    reference = embedder.model.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    assert embedder._word_pieces(texts) == reference
    assert embedder._cls_sep == (embedder.model.tokenizer.cls_token_id, embedder.model.tokenizer.sep_token_id)
    assert max(len(ids) for ids in reference) == 2000  # "word" x 2000: nothing truncated


def test_openvino_embeds_without_loading_torch_once_converted(tmp_path) -> None:
    """A run worker that embeds with the converted model starts in a fraction of a second, not 7 s."""
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["PLANFUSION_MODEL_CACHE"] = {str(tmp_path)!r}
        from planfusion.embedding import TaskEmbedder
        TaskEmbedder(backend="openvino", precision="fp32").embed(["convert once"])  # loads torch to convert
        """)
    subprocess.run([sys.executable, "-c", script], check=True)
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["PLANFUSION_MODEL_CACHE"] = {str(tmp_path)!r}
        from planfusion.embedding import TaskEmbedder
        vectors = TaskEmbedder(backend="openvino", precision="fp32").embed(["plan the trip", "book the room"])
        assert vectors.shape == (2, 384)
        print(sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules))
        """)
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"
