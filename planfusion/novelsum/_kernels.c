/* NovelSelect's per-candidate loops, compiled: numpy would spend one pass over the pool per
 * arithmetic step, these run each candidate's whole update in one pass.
 *
 * Plain C called through ctypes (planfusion/novelsum/kernels.py holds the signatures and the why).
 * The module init below only lets setuptools build and locate this file as an extension; it has
 * no Python-level functions. Arrays are C-contiguous; shapes are given in the comments.
 *
 * kernels.py checks every argument's shape, dtype and range before a call. Indices read from array
 * contents that Python keeps between calls (key counts, ranks, remembered key orders) and the
 * bucket of a key (NaN casts to no integer) are clamped to their arrays here, where a stray value
 * costs one comparison instead of a scan per call; valid values are never changed by the clamps.
 */
#include <Python.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Cosine distances clip(1 - <x_i, v>, 0, 2) of unit rows x_i to v, rows lo..hi-1 of x (n, dim). */
static void distances_portable(const float *x, int64_t dim, const float *v, int64_t lo, int64_t hi,
                               float *out)
{
    for (int64_t i = lo; i < hi; i++) {
        const float *row = x + i * dim;
        float sum[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        int64_t k = 0;
        for (; k + 4 <= dim; k += 4)
            for (int l = 0; l < 4; l++)
                sum[l] += row[k + l] * v[k + l];
        float dot = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        for (; k < dim; k++)
            dot += row[k] * v[k];
        const float d = 1.0f - dot;
        out[i] = d < 0.0f ? 0.0f : (d > 2.0f ? 2.0f : d);
    }
}

#if defined(__x86_64__)
/* The same with AVX2 and FMA: four 8-wide accumulators keep the loads streaming. */
__attribute__((target("avx2,fma"))) static void distances_avx2(const float *x, int64_t dim,
                                                               const float *v, int64_t lo,
                                                               int64_t hi, float *out)
{
    for (int64_t i = lo; i < hi; i++) {
        const float *row = x + i * dim;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        int64_t k = 0;
        for (; k + 32 <= dim; k += 32) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + k), _mm256_loadu_ps(v + k), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + k + 8), _mm256_loadu_ps(v + k + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(row + k + 16), _mm256_loadu_ps(v + k + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(row + k + 24), _mm256_loadu_ps(v + k + 24), a3);
        }
        const __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        float dot = _mm_cvtss_f32(s);
        for (; k < dim; k++)
            dot += row[k] * v[k];
        const float d = 1.0f - dot;
        out[i] = d < 0.0f ? 0.0f : (d > 2.0f ? 2.0f : d);
    }
}
#endif

/* Passes over at least this many rows split them over two threads (a thread start costs tens of
 * microseconds; the passes are memory-bound, and two cores draw more bandwidth than one). */
#define SPLIT_ROWS 8192

/* work(first) here and work(second) on a new thread; both here, in turn, if none can start. */
static void run_halves(void *(*work)(void *), void *first, void *second)
{
    pthread_t helper;
    const int started = pthread_create(&helper, NULL, work, second) == 0;
    work(first);
    if (started)
        pthread_join(helper, NULL);
    else
        work(second);
}

/* work over the rows of lower (0..n), in halves on two threads (lower up to *lower_hi = n / 2, upper
 * from *upper_lo = n / 2) when threads > 1 and n >= SPLIT_ROWS; else all of them here. */
static void run_rows(void *(*work)(void *), void *lower, void *upper, int64_t *lower_hi,
                     int64_t *upper_lo, int64_t n, int64_t threads)
{
    if (threads > 1 && n >= SPLIT_ROWS) {
        *lower_hi = *upper_lo = n / 2;
        run_halves(work, lower, upper);
    } else {
        work(lower);
    }
}

typedef struct {
    const float *x;
    int64_t dim;
    const float *v;
    int64_t lo, hi;
    float *out;
    int avx2;
} distance_rows;

static void *distances_of_rows(void *job)
{
    const distance_rows *r = job;
#if defined(__x86_64__)
    if (r->avx2) {
        distances_avx2(r->x, r->dim, r->v, r->lo, r->hi, r->out);
        return NULL;
    }
#endif
    distances_portable(r->x, r->dim, r->v, r->lo, r->hi, r->out);
    return NULL;
}

static int has_avx2_fma(void)
{
#if defined(__x86_64__)
    static int known = -1; /* the CPU does not change: ask once */
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return known;
#else
    return 0;
#endif
}

/* Cosine distances of all n unit rows of x (n, dim) to v, into out (n,), float32 throughout:
 * the floor of every pick, one read of the pool; rows split over two threads when threads > 1
 * and n >= SPLIT_ROWS. */
void pf_distances(int64_t n, int64_t dim, const float *x, const float *v, float *out,
                  int64_t threads)
{
    distance_rows lower = {x, dim, v, 0, n, out, has_avx2_fma()}, upper = lower;
    run_rows(distances_of_rows, &lower, &upper, &lower.hi, &upper.lo, n, threads);
}

/* g's index + 1 for a count of earlier picks: at least h (the head is exact), at most t (a count
 * of the t earlier picks cannot exceed t; below is writable from Python). */
static inline int64_t count_rank(int64_t count, int64_t h, int64_t t)
{
    return count < h ? h : (count > t ? t : count);
}

/* One pick's upper bound on every candidate's score rise, with the candidate's head and key counts
 * updated for the pick. See select.py (_LazyGreedy._add_bounds) for the derivation.
 *   column: (n,) every candidate's distance to the new pick (float32 or float64)
 *   weight: (n,) sigma^kappa2; pick_weight: the new pick's
 *   head_keys, head_terms: (n, h) each candidate's h lowest keys (sorted) and their terms
 *   head_last: (n,) head_keys[:, h - 1]
 *   below: (n, buckets + 1) picks with a key in a bucket lower than b, per candidate
 *   edges: (buckets + 1,) lower bucket edges (nudged down), edges[buckets] the largest key
 *   g: (budget + 2,) rank weights, g[r] = r^-kappa1, g[0] = 0
 *   stairs: (n_stairs,) bucket steps of the released variant's tail staircase
 *   score: (n,) bounds, raised in place
 */
#define PF_ADD_BOUNDS(NAME, DIST)                                                                   \
    static void NAME(int64_t lo, int64_t hi, int64_t t, int64_t h, int32_t released, const DIST *column, \
                     const double *weight, double pick_weight, double *head_keys, double *head_terms, \
                     double *head_last, int32_t *below, int64_t buckets, double bucket_scale,       \
                     double bucket_offset, const double *edges, const double *g, double w_low,      \
                     const int64_t *stairs, int64_t n_stairs, double *score)                        \
    {                                                                                               \
        const int64_t last = t < h ? t : h;                                                         \
        const double g_end = g[t + 1];                                                              \
        for (int64_t i = lo; i < hi; i++) {                                                         \
            const double d = (double)column[i];                                                     \
            const double term = released ? (weight[i] + pick_weight) * d : pick_weight * d;         \
            const double key = released ? term : d;                                                 \
            double rise = g_end * term;                                                             \
            if (key < head_last[i]) { /* the new key enters the head: the swaps there are exact */  \
                double *hk = head_keys + i * h, *ht = head_terms + i * h;                           \
                int64_t before = 0;                                                                 \
                while (before < h && hk[before] <= key)                                             \
                    before++;                                                                       \
                rise += term * (g[before + 1] - g[last + 1]);                                       \
                for (int64_t j = before; j < last; j++)                                             \
                    rise -= ht[j] * (g[j + 1] - g[j + 2]);                                          \
                memmove(hk + before + 1, hk + before, (size_t)(h - 1 - before) * sizeof(double));   \
                memmove(ht + before + 1, ht + before, (size_t)(h - 1 - before) * sizeof(double));   \
                hk[before] = key;                                                                   \
                ht[before] = term;                                                                  \
                head_last[i] = hk[h - 1];                                                           \
            }                                                                                       \
            double x = key * bucket_scale + bucket_offset;                                          \
            /* NaN fails x >= 0 and lands in bucket 0 */                                            \
            x = x >= 0.0 ? (x < (double)(buckets - 1) ? x : (double)(buckets - 1)) : 0.0;           \
            const int64_t b = (int64_t)x;                                                           \
            int32_t *counts = below + i * (buckets + 1);                                            \
            if (t > h) { /* beyond the head: rank bounds from the key counts */                     \
                const int64_t n_lt = counts[b], n_le = counts[b + 1];                               \
                const double edge = edges[b + 1];                                                   \
                const double g_mid = g[count_rank(n_lt, h, t) + 1];                                 \
                const double g_tail = g[count_rank(n_le, h, t) + 1];                                \
                if (!released) {                                                                    \
                    const double excess = term - w_low * key;                                       \
                    rise += (g_mid - g_tail) * (excess > 0.0 ? excess : 0.0);                       \
                    rise += (g_tail - g_end) * (term - w_low * edge);                               \
                } else {                                                                            \
                    double lower = 0.0, prev = edge;                                                \
                    for (int64_t s = 0; s < n_stairs; s++) {                                        \
                        const int64_t c = b + stairs[s] < buckets ? b + stairs[s] : buckets;        \
                        const int64_t count = counts[c];                                            \
                        lower += (edges[c] - prev) * (g[count_rank(count, h, t) + 1] - g_end);      \
                        prev = edges[c];                                                            \
                    }                                                                               \
                    rise += (g_tail - g_end) * (term - edge) - lower;                               \
                }                                                                                   \
            }                                                                                       \
            for (int64_t c = b + 1; c <= buckets; c++)                                              \
                counts[c] += 1;                                                                     \
            score[i] += rise;                                                                       \
        }                                                                                           \
    }

PF_ADD_BOUNDS(add_bounds_f32, float)
PF_ADD_BOUNDS(add_bounds_f64, double)

typedef struct {
    int64_t lo, hi, t, h;
    int32_t released;
    const void *column;
    int32_t dist_bytes;
    const double *weight;
    double pick_weight;
    double *head_keys, *head_terms, *head_last;
    int32_t *below;
    int64_t buckets;
    double bucket_scale, bucket_offset;
    const double *edges, *g;
    double w_low;
    const int64_t *stairs;
    int64_t n_stairs;
    double *score;
} bound_rows;

static void *bounds_of_rows(void *job)
{
    const bound_rows *a = job;
    if (a->dist_bytes == 4)
        add_bounds_f32(a->lo, a->hi, a->t, a->h, a->released, a->column, a->weight, a->pick_weight,
                       a->head_keys, a->head_terms, a->head_last, a->below, a->buckets,
                       a->bucket_scale, a->bucket_offset, a->edges, a->g, a->w_low, a->stairs,
                       a->n_stairs, a->score);
    else
        add_bounds_f64(a->lo, a->hi, a->t, a->h, a->released, a->column, a->weight, a->pick_weight,
                       a->head_keys, a->head_terms, a->head_last, a->below, a->buckets,
                       a->bucket_scale, a->bucket_offset, a->edges, a->g, a->w_low, a->stairs,
                       a->n_stairs, a->score);
    return NULL;
}

/* The bound pass over all n candidates (dist_bytes 4: float32 distances, 8: float64), rows split
 * over two threads as in pf_distances. */
int pf_add_bounds(int64_t n, int64_t t, int64_t h, int32_t released, const void *column,
                  int32_t dist_bytes, const double *weight, double pick_weight, double *head_keys,
                  double *head_terms, double *head_last, int32_t *below, int64_t buckets,
                  double bucket_scale, double bucket_offset, const double *edges, const double *g,
                  double w_low, const int64_t *stairs, int64_t n_stairs, double *score,
                  int64_t threads)
{
    if (dist_bytes != 4 && dist_bytes != 8)
        return -2;
    bound_rows lower = {0, n, t, h, released, column, dist_bytes, weight, pick_weight, head_keys,
                        head_terms, head_last, below, buckets, bucket_scale, bucket_offset, edges,
                        g, w_low, stairs, n_stairs, score};
    bound_rows upper = lower;
    run_rows(bounds_of_rows, &lower, &upper, &lower.hi, &upper.lo, n, threads);
    return 0;
}

/* Rows per block of the fused pass: their distances (one L1-resident float each) are used by the
 * bound update right after they are computed. */
#define FUSED_ROWS 256

typedef struct {
    distance_rows dist; /* out is the column the bounds read */
    bound_rows bounds;
} fused_rows;

static void *fused_of_rows(void *job)
{
    const fused_rows *f = job;
    for (int64_t lo = f->dist.lo; lo < f->dist.hi; lo += FUSED_ROWS) {
        distance_rows d = f->dist;
        bound_rows b = f->bounds;
        d.lo = b.lo = lo;
        d.hi = b.hi = lo + FUSED_ROWS < f->dist.hi ? lo + FUSED_ROWS : f->dist.hi;
        distances_of_rows(&d);
        bounds_of_rows(&b);
    }
    return NULL;
}

/* pf_distances and then pf_add_bounds for the same pick (float32 distances into column), in one pass
 * over the pool: a block's bound updates run while its distances are in L1, and their arithmetic
 * overlaps the loads of the pool, which bound the distance pass (it is memory-bound; the bound
 * update alone cost a third of it in its own pass). Results equal the two calls in turn. */
void pf_distances_and_bounds(int64_t n, int64_t dim, const float *x, const float *v, float *column,
                             int64_t t, int64_t h, int32_t released, const double *weight,
                             double pick_weight, double *head_keys, double *head_terms,
                             double *head_last, int32_t *below, int64_t buckets,
                             double bucket_scale, double bucket_offset, const double *edges,
                             const double *g, double w_low, const int64_t *stairs, int64_t n_stairs,
                             double *score, int64_t threads)
{
    fused_rows lower = {{x, dim, v, 0, n, column, has_avx2_fma()},
                        {0, n, t, h, released, column, 4, weight, pick_weight, head_keys, head_terms,
                         head_last, below, buckets, bucket_scale, bucket_offset, edges, g, w_low,
                         stairs, n_stairs, score}};
    fused_rows upper = lower;
    run_rows(fused_of_rows, &lower, &upper, &lower.dist.hi, &upper.dist.lo, n, threads);
}

/* Stable sort of the indices idx[0..len) by key[idx]: insertion sort of runs of 16, then merge
 * passes through buffer (len entries); the result ends in idx. */
static void sort_by_key(int64_t *idx, int64_t len, const double *key, int64_t *buffer)
{
    const int64_t run = 16;
    for (int64_t lo = 0; lo < len; lo += run) {
        const int64_t hi = lo + run < len ? lo + run : len;
        for (int64_t x = lo + 1; x < hi; x++) {
            const int64_t j = idx[x];
            int64_t y = x;
            for (; y > lo && key[j] < key[idx[y - 1]]; y--)
                idx[y] = idx[y - 1];
            idx[y] = j;
        }
    }
    int64_t *from = idx, *to = buffer;
    for (int64_t width = run; width < len; width *= 2) {
        for (int64_t lo = 0; lo < len; lo += 2 * width) {
            const int64_t mid = lo + width < len ? lo + width : len;
            const int64_t hi = lo + 2 * width < len ? lo + 2 * width : len;
            int64_t x = lo, y = mid, out = lo;
            while (x < mid && y < hi) /* equal keys: the left one first */
                to[out++] = key[from[y]] < key[from[x]] ? from[y++] : from[x++];
            while (x < mid)
                to[out++] = from[x++];
            while (y < hi)
                to[out++] = from[y++];
        }
        int64_t *swap = from;
        from = to, to = swap;
    }
    if (from != idx)
        memcpy(idx, from, (size_t)len * sizeof(int64_t));
}

/* gap[j] = how many of the sorted a[0..n) are <= x[j], for j < m. Eight branchless searches
 * advance together (same probe depths), so their dependent loads overlap. */
static void count_not_above(const double *a, int64_t n, const double *x, int64_t m, int64_t *gap)
{
    for (int64_t j0 = 0; j0 < m; j0 += 8) {
        const int64_t group = m - j0 < 8 ? m - j0 : 8;
        const double *base[8];
        for (int64_t l = 0; l < group; l++)
            base[l] = a;
        for (int64_t len = n; len > 1; len -= len / 2)
            for (int64_t l = 0; l < group; l++)
                base[l] = base[l][len / 2] <= x[j0 + l] ? base[l] + len / 2 : base[l];
        for (int64_t l = 0; l < group; l++)
            gap[j0 + l] = n ? (base[l] - a) + (*base[l] <= x[j0 + l]) : 0;
    }
}

/* Exact scores of the given candidates from their distances to the first t picks.
 * Each candidate's picks sorted by key (equal keys in pick order) are remembered in sorted_picks
 * (first known[i] entries), and keys never change, so a candidate promoted again only places the
 * picks made since: each by binary search among the remembered keys, then a counting sort by that
 * position (about O(t + f log t) for f new picks, instead of sorting all t).
 *   rows: (m,) candidates; matrix: (n, budget) distances to picks 0..flushed-1 (float32 or float64)
 *   staged: (stage, n) distances to picks flushed..t-1; weight: (n,) sigma^kappa2;
 *   pick_weight: (t,) the picks' weights; sorted_picks: (n, budget) int16 or int32; known: (n,) int64;
 *   g: (budget + 2,) rank weights; exact: (m,) out
 */
#define PF_PROMOTE(NAME, DIST, INDEX)                                                               \
    static int NAME(int64_t m, const int64_t *rows, int64_t t, const DIST *matrix, int64_t budget,  \
                    int64_t flushed, const DIST *staged, int64_t n, const double *weight,           \
                    const double *pick_weight, int32_t released, INDEX *sorted_picks,               \
                    int64_t *known, const double *g, double *exact)                                 \
    {                                                                                               \
        double *key = malloc((size_t)t * sizeof(double));                                           \
        double *term = malloc((size_t)t * sizeof(double));                                          \
        double *known_key = malloc((size_t)t * sizeof(double));                                     \
        int64_t *known_pick = malloc((size_t)t * sizeof(int64_t));                                  \
        int64_t *gap = malloc((size_t)t * sizeof(int64_t));                                         \
        int64_t *fresh = malloc((size_t)t * sizeof(int64_t));                                       \
        int64_t *gap_end = malloc((size_t)(t + 2) * sizeof(int64_t));                               \
        int64_t *buffer = malloc((size_t)t * sizeof(int64_t));                                      \
        if (!key || !term || !known_key || !known_pick || !gap || !fresh || !gap_end || !buffer) {  \
            free(key), free(term), free(known_key), free(known_pick), free(gap), free(fresh);       \
            free(gap_end), free(buffer);                                                            \
            return -1;                                                                              \
        }                                                                                           \
        for (int64_t r = 0; r < m; r++) {                                                           \
            const int64_t i = rows[r];                                                              \
            const DIST *row = matrix + i * budget;                                                  \
            const double wi = weight[i];                                                            \
            for (int64_t u = 0; u < t; u++) {                                                       \
                const double d = (double)(u < flushed ? row[u] : staged[(u - flushed) * n + i]);    \
                const double wu = pick_weight[u];                                                   \
                if (released) {                                                                     \
                    key[u] = term[u] = (wi + wu) * d;                                               \
                } else {                                                                            \
                    key[u] = d;                                                                     \
                    term[u] = wu * d;                                                               \
                }                                                                                   \
            }                                                                                       \
            INDEX *known_order = sorted_picks + i * budget;                                         \
            /* a remembered order covers at most the t picks, each one of them (clamped) */         \
            const int64_t k = known[i] < 0 ? 0 : (known[i] > t ? t : known[i]), f = t - k;          \
            for (int64_t a = 0; a < k; a++) {                                                       \
                const int64_t u = known_order[a];                                                   \
                known_pick[a] = u >= 0 && u < t ? u : 0;                                            \
                known_key[a] = key[known_pick[a]];                                                  \
            }                                                                                       \
            /* A new pick goes after the known picks with keys <= its own (equal keys: the          \
             * earlier pick first): gap[j] of them. Counting sort by gap keeps pick order. */       \
            memset(gap_end, 0, (size_t)(k + 2) * sizeof(int64_t));                                  \
            count_not_above(known_key, k, key + k, f, gap);                                         \
            for (int64_t j = 0; j < f; j++)                                                         \
                gap_end[gap[j] + 1]++;                                                              \
            for (int64_t a = 1; a <= k + 1; a++)                                                    \
                gap_end[a] += gap_end[a - 1];                                                       \
            for (int64_t j = 0; j < f; j++)                                                         \
                fresh[gap_end[gap[j]]++] = j;                                                       \
            for (int64_t lo = 0, hi; lo < f; lo = hi) { /* within a gap: by key */                  \
                for (hi = lo + 1; hi < f && gap[fresh[hi]] == gap[fresh[lo]]; hi++)                 \
                    ;                                                                               \
                if (hi - lo > 1)                                                                    \
                    sort_by_key(fresh + lo, hi - lo, key + k, buffer);                              \
            }                                                                                       \
            /* Known pick a lands after the gap_end[a] new picks in gaps <= a, the x-th new pick    \
             * in key order after its gap's known picks: both by position, no merge branches. */    \
            double sum[4] = {0.0, 0.0, 0.0, 0.0}; /* four chains: the adds' latencies overlap */    \
            for (int64_t a = 0; a < k; a++) {                                                       \
                const int64_t at = a + gap_end[a], u = known_pick[a];                               \
                known_order[at] = (INDEX)u;                                                         \
                sum[a & 3] += g[at + 1] * term[u];                                                  \
            }                                                                                       \
            for (int64_t x = 0; x < f; x++) {                                                       \
                const int64_t at = gap[fresh[x]] + x, u = k + fresh[x];                             \
                known_order[at] = (INDEX)u;                                                         \
                sum[x & 3] += g[at + 1] * term[u];                                                  \
            }                                                                                       \
            known[i] = t;                                                                           \
            exact[r] = (sum[0] + sum[1]) + (sum[2] + sum[3]);                                       \
        }                                                                                           \
        free(key), free(term), free(known_key), free(known_pick), free(gap), free(fresh);           \
        free(gap_end), free(buffer);                                                                \
        return 0;                                                                                   \
    }

PF_PROMOTE(promote_f32_i16, float, int16_t)
PF_PROMOTE(promote_f32_i32, float, int32_t)
PF_PROMOTE(promote_f64_i16, double, int16_t)
PF_PROMOTE(promote_f64_i32, double, int32_t)

typedef struct {
    int64_t m;
    const int64_t *rows;
    int64_t t;
    const void *matrix;
    int64_t budget, flushed;
    const void *staged;
    int64_t n;
    int32_t dist_bytes;
    const double *weight, *pick_weight;
    int32_t released;
    void *sorted_picks;
    int32_t index_bytes;
    int64_t *known;
    const double *g;
    double *exact;
    int status;
} promotion;

static void *promote_rows(void *job)
{
    promotion *p = job;
#define CALL_PROMOTE(NAME)                                                                          \
    NAME(p->m, p->rows, p->t, p->matrix, p->budget, p->flushed, p->staged, p->n, p->weight,        \
         p->pick_weight, p->released, p->sorted_picks, p->known, p->g, p->exact)
    if (p->dist_bytes == 4 && p->index_bytes == 2)
        p->status = CALL_PROMOTE(promote_f32_i16);
    else if (p->dist_bytes == 4 && p->index_bytes == 4)
        p->status = CALL_PROMOTE(promote_f32_i32);
    else if (p->dist_bytes == 8 && p->index_bytes == 2)
        p->status = CALL_PROMOTE(promote_f64_i16);
    else if (p->dist_bytes == 8 && p->index_bytes == 4)
        p->status = CALL_PROMOTE(promote_f64_i32);
    else
        p->status = -2;
#undef CALL_PROMOTE
    return NULL;
}

/* Promotion of m candidates (dist_bytes 4 / 8: float32 / float64 distances, index_bytes 2 / 4:
 * int16 / int32 sorted_picks), the rows split over two threads when threads > 1 and the work
 * (m * t) is at least 2 * SPLIT_ROWS. Returns 0, -1 (no memory) or -2 (unsupported types). */
int pf_promote(int64_t m, const int64_t *rows, int64_t t, const void *matrix, int64_t budget,
               int64_t flushed, const void *staged, int64_t n, int32_t dist_bytes,
               const double *weight, const double *pick_weight, int32_t released,
               void *sorted_picks, int32_t index_bytes, int64_t *known, const double *g,
               double *exact, int64_t threads)
{
    promotion lower = {m, rows, t, matrix, budget, flushed, staged, n, dist_bytes, weight,
                       pick_weight, released, sorted_picks, index_bytes, known, g, exact, 0};
    promotion upper = lower;
    if (threads > 1 && m > 1 && m * t >= 2 * SPLIT_ROWS) {
        lower.m = m / 2;
        upper.m = m - m / 2, upper.rows = rows + m / 2, upper.exact = exact + m / 2;
        run_halves(promote_rows, &lower, &upper);
        return lower.status ? lower.status : upper.status;
    }
    promote_rows(&lower);
    return lower.status;
}

/* One pick's exact change of every hot row's score. A hot row keeps, per earlier pick u, its key,
 * term and rank; the new pick ranks after the keys <= its own (equal keys: the earlier pick first)
 * and pushes every larger key one rank down, which changes that term's weight by dg[rank].
 *   new_keys, new_terms: (m,) the new pick's key and term for each hot row
 *   keys, terms: (cap, budget) float64; ranks: (cap, budget) int32, rows 0..m-1 in use
 *   g, dg: (budget + 2,) rank weights and g[r + 1] - g[r]; exact: (m,) raised in place;
 *   ids: (m,) the hot rows' pool indices, score: (N,) gets their new exact scores */
void pf_update_hot(int64_t m, int64_t t, int64_t budget, const double *new_keys,
                   const double *new_terms, double *keys, double *terms, int32_t *ranks,
                   const double *g, const double *dg, double *exact, const int64_t *ids,
                   double *score)
{
    for (int64_t r = 0; r < m; r++) {
        double *row_keys = keys + r * budget, *row_terms = terms + r * budget;
        int32_t *row_ranks = ranks + r * budget;
        const double key = new_keys[r];
        double loss = 0.0;
        int64_t pushed = 0;
        for (int64_t u = 0; u < t; u++) {
            const int down = row_keys[u] > key;
            const uint32_t was = (uint32_t)row_ranks[u]; /* in [1, t]; ranks is Python's array: */
            loss += down ? row_terms[u] * dg[was <= (uint64_t)t ? was : 0] : 0.0; /* one compare */
            row_ranks[u] += down;
            pushed += down;
        }
        const int64_t rank = t + 1 - pushed;
        exact[r] += new_terms[r] * g[rank] + loss;
        score[ids[r]] = exact[r];
        row_keys[t] = key, row_terms[t] = new_terms[r], row_ranks[t] = (int32_t)rank;
    }
}

/* Staged distance columns into the matrix: staged (cols, n) -> columns [at, at + cols) of the
 * row-major (n, budget) matrix, rows lo..hi-1, in tiles of 64 rows (a tile's destination lines stay
 * in L1 while its columns are written). */
#define PF_FLUSH(NAME, DIST)                                                                        \
    static void NAME(const DIST *staged, int64_t cols, int64_t n, DIST *matrix, int64_t budget,     \
                     int64_t at, int64_t lo, int64_t hi)                                            \
    {                                                                                               \
        for (int64_t i0 = lo; i0 < hi; i0 += 64) {                                                  \
            const int64_t i1 = i0 + 64 < hi ? i0 + 64 : hi;                                         \
            for (int64_t u = 0; u < cols; u++)                                                      \
                for (int64_t i = i0; i < i1; i++)                                                   \
                    matrix[i * budget + at + u] = staged[u * n + i];                                \
        }                                                                                           \
    }

PF_FLUSH(flush_f32, float)
PF_FLUSH(flush_f64, double)

typedef struct {
    const void *staged;
    int64_t cols, n;
    void *matrix;
    int64_t budget, at, lo, hi;
    int32_t dist_bytes;
} flush_rows;

static void *flush_of_rows(void *job)
{
    const flush_rows *f = job;
    if (f->dist_bytes == 4)
        flush_f32(f->staged, f->cols, f->n, f->matrix, f->budget, f->at, f->lo, f->hi);
    else
        flush_f64(f->staged, f->cols, f->n, f->matrix, f->budget, f->at, f->lo, f->hi);
    return NULL;
}

/* The flush over all n rows (dist_bytes 4 / 8: float32 / float64), split over two threads as in
 * pf_distances. */
int pf_flush(const void *staged, int64_t cols, int64_t n, void *matrix, int64_t budget, int64_t at,
             int32_t dist_bytes, int64_t threads)
{
    if (dist_bytes != 4 && dist_bytes != 8)
        return -2;
    flush_rows lower = {staged, cols, n, matrix, budget, at, 0, n, dist_bytes}, upper = lower;
    run_rows(flush_of_rows, &lower, &upper, &lower.hi, &upper.lo, n, threads);
    return 0;
}

/* Every candidate's key counts recounted for new bucket edges: below[i, c] = how many of the first t
 * picks have a key in a bucket lower than c, rows lo..hi-1 (the bucket of a key as in the bound pass).
 *   matrix: (n, budget) distances to picks 0..flushed-1; staged: (stage, n) to picks flushed..t-1
 *   weight: (n,) sigma^kappa2; pick_weight: (t,) the picks' weights; below: (n, buckets + 1) out */
#define PF_COUNT_KEYS(NAME, DIST)                                                                   \
    static void NAME(int64_t lo, int64_t hi, int64_t t, const DIST *matrix, int64_t budget,         \
                     int64_t flushed, const DIST *staged, int64_t n, const double *weight,          \
                     const double *pick_weight, int32_t released, double bucket_scale,              \
                     double bucket_offset, int64_t buckets, int32_t *below)                         \
    {                                                                                               \
        const int64_t in_matrix = flushed < t ? flushed : t;                                        \
        for (int64_t i = lo; i < hi; i++) {                                                         \
            int32_t *counts = below + i * (buckets + 1);                                            \
            memset(counts, 0, (size_t)(buckets + 1) * sizeof(int32_t));                             \
            const DIST *row = matrix + i * budget;                                                  \
            for (int64_t u = 0; u < t; u++) {                                                       \
                const double d = (double)(u < in_matrix ? row[u] : staged[(u - flushed) * n + i]);  \
                const double key = released ? (weight[i] + pick_weight[u]) * d : d;                 \
                double x = key * bucket_scale + bucket_offset;                                      \
                x = x >= 0.0 ? (x < (double)(buckets - 1) ? x : (double)(buckets - 1)) : 0.0;       \
                counts[(int64_t)x + 1]++;                                                           \
            }                                                                                       \
            for (int64_t c = 1; c <= buckets; c++)                                                  \
                counts[c] += counts[c - 1];                                                         \
        }                                                                                           \
    }

PF_COUNT_KEYS(count_keys_f32, float)
PF_COUNT_KEYS(count_keys_f64, double)

typedef struct {
    int64_t lo, hi, t;
    const void *matrix;
    int64_t budget, flushed;
    const void *staged;
    int64_t n;
    int32_t dist_bytes;
    const double *weight, *pick_weight;
    int32_t released;
    double bucket_scale, bucket_offset;
    int64_t buckets;
    int32_t *below;
} count_rows;

static void *count_keys_of_rows(void *job)
{
    const count_rows *c = job;
    if (c->dist_bytes == 4)
        count_keys_f32(c->lo, c->hi, c->t, c->matrix, c->budget, c->flushed, c->staged, c->n, c->weight,
                       c->pick_weight, c->released, c->bucket_scale, c->bucket_offset, c->buckets, c->below);
    else
        count_keys_f64(c->lo, c->hi, c->t, c->matrix, c->budget, c->flushed, c->staged, c->n, c->weight,
                       c->pick_weight, c->released, c->bucket_scale, c->bucket_offset, c->buckets, c->below);
    return NULL;
}

/* The recount over all n rows (dist_bytes 4 / 8), split over two threads as in pf_distances. */
int pf_count_keys(int64_t n, int64_t t, const void *matrix, int64_t budget, int64_t flushed,
                  const void *staged, int32_t dist_bytes, const double *weight,
                  const double *pick_weight, int32_t released, double bucket_scale,
                  double bucket_offset, int64_t buckets, int32_t *below, int64_t threads)
{
    if (dist_bytes != 4 && dist_bytes != 8)
        return -2;
    count_rows lower = {0, n, t, matrix, budget, flushed, staged, n, dist_bytes, weight, pick_weight,
                        released, bucket_scale, bucket_offset, buckets, below};
    count_rows upper = lower;
    run_rows(count_keys_of_rows, &lower, &upper, &lower.hi, &upper.lo, n, threads);
    return 0;
}

/* Is (bound a, row ra) a worse contender than (b, rb)? Lower bound, or equal bound and higher row. */
static inline int worse(double a, int64_t ra, double b, int64_t rb)
{
    return a < b || (a == b && ra > rb);
}

static void sift_down(double *bound, int64_t *row, int64_t size, int64_t at)
{
    for (;;) {
        int64_t low = at;
        const int64_t left = 2 * at + 1, right = left + 1;
        if (left < size && worse(bound[left], row[left], bound[low], row[low]))
            low = left;
        if (right < size && worse(bound[right], row[right], bound[low], row[low]))
            low = right;
        if (low == at)
            return;
        const double b = bound[at];
        const int64_t r = row[at];
        bound[at] = bound[low], row[at] = row[low];
        bound[low] = b, row[low] = r;
        at = low;
    }
}

/* The cold candidates whose bound reaches best, the cap highest of them in decreasing bound (equal
 * bounds: lower row first), in rows / bounds (cap entries each). Unavailable candidates carry a
 * bound of -inf and never qualify. Returns how many qualified in all (more than cap: cut short).
 * One pass with a min-heap of the cap best so far, so most rows cost one comparison. */
int64_t pf_contenders(int64_t n, const double *score, const uint8_t *hot, double best, int64_t cap,
                      int64_t *rows, double *bounds)
{
    int64_t size = 0, total = 0;
    for (int64_t i = 0; i < n; i++) {
        const double b = score[i];
        if (hot[i] || !(b >= best) || b == -INFINITY)
            continue;
        total++;
        if (size < cap) { /* sift the new entry up */
            int64_t at = size++;
            while (at > 0 && worse(b, i, bounds[(at - 1) / 2], rows[(at - 1) / 2])) {
                bounds[at] = bounds[(at - 1) / 2], rows[at] = rows[(at - 1) / 2];
                at = (at - 1) / 2;
            }
            bounds[at] = b, rows[at] = i;
        } else if (worse(bounds[0], rows[0], b, i)) {
            bounds[0] = b, rows[0] = i;
            sift_down(bounds, rows, size, 0);
        }
    }
    for (int64_t end = size - 1; end > 0; end--) { /* heap sort: the worst goes last */
        const double b = bounds[0];
        const int64_t r = rows[0];
        bounds[0] = bounds[end], rows[0] = rows[end];
        bounds[end] = b, rows[end] = r;
        sift_down(bounds, rows, end, 0);
    }
    return total;
}

static struct PyModuleDef kernels_module = {
    PyModuleDef_HEAD_INIT, .m_name = "_kernels",
    .m_doc = "NovelSelect's compiled loops (called through ctypes).", .m_size = -1};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }
