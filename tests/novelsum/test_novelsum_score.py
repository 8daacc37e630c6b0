import numpy as np

from planfusion.novelsum import embedding_density, novelsum
from planfusion.novelsum.synthetic import clustered_embeddings


def test_dataset_novelsum_matches_definition():
    x = clustered_embeddings(60, 8, n_clusters=4, random_state=0)
    sigma = embedding_density(x, 5).sigma
    u = x.astype(np.float64) / np.linalg.norm(x, axis=1, keepdims=True)
    d = np.clip(1 - u @ u.T, 0, 2)
    w = sigma**0.5
    expected = 0.0
    for i in range(len(x)):
        others = [j for j in range(len(x)) if j != i]
        ranked = sorted(others, key=lambda j: d[i, j])
        expected += sum(w[j] * d[i, j] / (r + 1) for r, j in enumerate(ranked))
    assert novelsum(x, sigma) == np.float64(expected) or abs(novelsum(x, sigma) - expected) < 1e-6 * expected


def test_novelsum_of_duplicates_counts_nothing_new():
    x = clustered_embeddings(40, 8, n_clusters=4, random_state=2)
    sigma = embedding_density(x, 5).sigma
    doubled = novelsum(np.vstack([x[:1], x[:1]]), sigma[[0, 0]])
    assert doubled == 0.0
    assert novelsum(x[:10], sigma[:10]) > 0.0
