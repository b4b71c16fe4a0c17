"""An independent numpy reference of the merge methods as docs/METHODS.md
writes them down: the same fp32 operations in the same order, and the same
statistics (row sums in double, element order, then rows in order)."""
import math

import numpy as np

import mpbtest

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def random_key(seed, stream, name):
    h = 0xCBF29CE484222325
    for byte in name.encode():
        h = ((h ^ byte) * 0x100000001B3) & M64
    return _mix64(_mix64(seed ^ GOLDEN) ^ _mix64(stream + 1) ^ h)


def random_uniform(key, n):
    """mpb_random_uniform(key, 0 .. n-1): 24 random bits times 2^-24."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + np.uint64(GOLDEN) * (np.arange(n, dtype=np.uint64) + np.uint64(1))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def read(path, name):
    """A tensor as fp32 rows (rows x row length) and its stored kind."""
    bits, kind = mpbtest.raw_bits(path, name)
    x = mpbtest.decode(bits, kind)
    rows = x.shape[0] if x.ndim else 1
    return x.reshape(rows, -1).astype(np.float32), kind


def gradient(values, x):
    """mergekit's evaluate_setting: the list interpolated at x in [0, 1]."""
    s = x * (len(values) - 1)
    i0 = int(np.floor(s))
    i1 = min(len(values) - 1, i0 + 1)
    f = s - i0
    return (1 - f) * values[i0] + f * values[i1]


def seq_sum(v):
    """Sum of a 1-D float64 array, element by element in order."""
    return float(np.cumsum(v, dtype=np.float64)[-1]) if v.size else 0.0


def tensor_sum(per_element):
    """docs/METHODS.md: per row in element order, then rows in row order."""
    rows = np.cumsum(per_element.astype(np.float64), axis=1)[:, -1]
    return seq_sum(rows)


def abs_bits(d):
    return d.view(np.uint32) & np.uint32(0x7FFFFFFF)


def magnitude_ranks(d):
    """Rank of each element in the order |d| descending, index ascending."""
    flat = abs_bits(d).ravel().astype(np.int64)
    order = np.lexsort((np.arange(flat.size), -flat))
    ranks = np.empty(flat.size, dtype=np.int64)
    ranks[order] = np.arange(flat.size)
    return ranks.reshape(d.shape), flat[order]


def l1_of_cut(d, sorted_bits, r):
    """L1 of the R largest magnitudes as docs/METHODS.md defines it."""
    if r == 0:
        return 0.0
    a = np.abs(d.astype(np.float64))
    if r >= d.size:
        return tensor_sum(a)
    t = sorted_bits[r - 1]
    above = abs_bits(d).astype(np.int64) > t
    need = r - int(np.count_nonzero(above))
    value = float(np.array([t], dtype=np.uint32).view(np.float32)[0])
    return tensor_sum(np.where(above, a, 0.0)) + float(need) * value


def rescale_l1(before, after):
    if not (before >= 1e-7) or not (after >= 1e-7):
        return np.float32(1.0)
    return np.float32(before / after)


def della_factors(d, density, epsilon, key, by_p, shape):
    """docs/METHODS.md#della: per row (rows x row length), groups along the
    tensor's second dimension ranked by |d| ascending, ties by index (a
    stable sort); p from the rank in fp32; kept when the draw is below p;
    the factor 0 (dropped), 1, or 1/p with by_p."""
    f32 = np.float32
    rows, length = d.shape
    stride = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    group = length // stride
    grouped = abs_bits(d).reshape(rows, group, stride)
    order = np.argsort(grouped, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(group)[None, :, None], axis=1)
    if group > 1:
        norm = (rank.astype(f32) / f32(group - 1)).astype(f32)
        p = (f32(density - epsilon) + ((norm * f32(2.0)).astype(f32) * f32(epsilon)).astype(f32))
        p = p.astype(f32).reshape(rows, length)
    else:
        p = np.full((rows, length), f32(density), dtype=f32)
    kept = random_uniform(key, d.size).reshape(rows, length) < p
    return np.where(kept, (f32(1.0) / p).astype(f32) if by_p else f32(1.0), f32(0.0)).astype(f32)


def sparsify(method, d, density, gamma, rescale, rescale_l1_mode, key, epsilon=0.15,
             shape=None):
    """kept mask, fp32 scale and (DELLA) per-element factors of one task vector."""
    n = d.size
    keep = np.ones(d.shape, dtype=bool)
    scale = np.float32(1.0)
    if method in ("task_arithmetic",) or density >= 1 or n == 0:
        return keep, scale, None
    a = np.abs(d.astype(np.float64))
    if method.startswith("della"):
        factor = della_factors(d, density, epsilon, key, rescale and not rescale_l1_mode,
                               shape if shape is not None else d.shape)
        if rescale and rescale_l1_mode:
            scale = rescale_l1(tensor_sum(a), tensor_sum(np.where(factor != 0, a, 0.0)))
        return factor != 0, scale, factor
    if method.startswith("dare"):
        keep = (random_uniform(key, n).astype(np.float64) < density).reshape(d.shape)
        after = lambda: tensor_sum(np.where(keep, a, 0.0))
    else:
        k = int(density * n)
        top = 0
        if method.startswith("breadcrumbs"):
            top = min(int(gamma * n), n - k)
        ranks, sorted_bits = magnitude_ranks(d)
        keep = (ranks >= top) & (ranks < top + k)
        after = lambda: l1_of_cut(d, sorted_bits, top + k) - l1_of_cut(d, sorted_bits, top)
    if rescale and rescale_l1_mode:
        scale = rescale_l1(tensor_sum(a), after())
    elif rescale:
        scale = np.float32(1.0 / density)
    return keep, scale, None


def task_blend(method, base, xs, weights, densities, lam, normalize, rescale, rescale_l1_mode,
               gamma=0.01, seed=0, inputs=None, name="", epsilon=0.15, shape=None):
    """The task-arithmetic kernel of docs/METHODS.md, element by element in fp32."""
    f32 = np.float32
    consensus = method in ("ties", "dare_ties", "breadcrumbs_ties", "della")
    wds = []
    for i, (x, w, dens) in enumerate(zip(xs, weights, densities)):
        d = (x - base).astype(f32)
        random = method.startswith("dare") or method.startswith("della")
        key = random_key(seed, inputs[i], name) if random else 0
        keep, scale, factor = sparsify(method, d, dens, gamma, rescale, rescale_l1_mode, key,
                                       epsilon, shape)
        if factor is not None:
            d = (d * factor).astype(f32)
        d = np.where(keep, (d * scale).astype(f32), f32(0.0)).astype(f32)
        wds.append((f32(w) * d).astype(f32))
    total = wds[0]
    for wd in wds[1:]:
        total = (total + wd).astype(f32)
    if not consensus:
        wsum = sum(weights)
        divisor = f32(1.0) if abs(wsum) < 1e-8 else f32(wsum)
        m = (total / divisor).astype(f32) if normalize else total
    else:
        positive = total >= 0
        m = np.zeros_like(total)
        div = np.zeros_like(total)
        for wd, w in zip(wds, weights):
            sel = np.where(positive, wd > 0, wd < 0)
            m = np.where(sel, (m + wd).astype(f32), m)
            div = np.where(sel, (div + f32(w)).astype(f32), div)
        if normalize:
            m = (m / np.where(div == 0, f32(1.0), div)).astype(f32)
        m = np.where(np.isnan(total), total, m)
    return (base + (m * f32(lam)).astype(f32)).astype(f32)


def slerp_coefficients(t, v0, v1):
    ss0 = tensor_sum(v0.astype(np.float64) * v0)
    ss1 = tensor_sum(v1.astype(np.float64) * v1)
    dot01 = tensor_sum(v0.astype(np.float64) * v1)
    n0, n1 = math.sqrt(ss0), math.sqrt(ss1)
    dot = dot01 / ((n0 if n0 > 1e-8 else 1.0) * (n1 if n1 > 1e-8 else 1.0))
    if abs(dot) > 0.9995:
        return np.float32(1.0 - t), np.float32(t)
    theta = math.acos(dot)
    s = math.sin(theta)
    theta_t = theta * t
    return np.float32(math.sin(theta - theta_t) / s), np.float32(math.sin(theta_t) / s)


def model_stock_coefficients(base, xs):
    ds = [(x - base).astype(np.float32).astype(np.float64) for x in xs]
    n = len(ds)
    cos = []
    for i in range(n):
        for j in range(i + 1, n):
            norms = math.sqrt(tensor_sum(ds[i] * ds[i])) * math.sqrt(tensor_sum(ds[j] * ds[j]))
            c = tensor_sum(ds[i] * ds[j]) / max(norms, 1e-6)
            cos.append(min(1.0, max(-1.0, c)))
    mean = 0.0
    for c in cos:
        mean += c
    mean /= len(cos)
    t = n * mean / (1 + (n - 1) * mean)
    return np.float32(1.0 - t), np.float32(t / n)


def multislerp_coefficients(xs, weights, base=None, normalize=True, eps=1e-8):
    """docs/METHODS.md#multislerp: coefficients of the models (then of the
    base, when given) from the Gram sums of the vectors, in double."""
    vs = [(x - base).astype(np.float32) if base is not None else x for x in xs]
    vs = [v.astype(np.float64) for v in vs]
    n = len(vs)
    g = [[tensor_sum(vs[i] * vs[j]) for j in range(n)] for i in range(n)]
    w = [float(x) for x in weights]
    if normalize:
        total = 0.0
        for x in w:
            total += x
        w = [x / total for x in w]
    norm = [math.sqrt(g[k][k]) for k in range(n)]
    mu = [w[k] / (norm[k] + eps) for k in range(n)]
    mean_sq = 0.0
    for i in range(n):
        for j in range(n):
            mean_sq += mu[i] * mu[j] * g[i][j]
    mean_norm = math.sqrt(max(mean_sq, 0.0))
    if not mean_norm >= eps:
        assert n == 2
        c = w
    else:
        avg = 0.0
        for k in range(n):
            avg += w[k] * norm[k]
        scale = math.cos(eps) * avg / mean_norm
        c = [m * scale for m in mu]
    out = [np.float32(x) for x in c]
    if base is not None:
        rest = 1.0
        for x in c:
            rest -= x
        out.append(np.float32(rest))
    return out


def karcher_coefficients(xs, max_iter=10, tol=1e-5):
    """docs/METHODS.md#karcher: mergekit's iteration on the unit sphere,
    written on the coefficients of the unit vectors, in double."""
    vs = [x.astype(np.float64) for x in xs]
    n_all = len(vs)
    alpha = 1.0 / n_all
    norm = [math.sqrt(tensor_sum(v * v)) for v in vs]
    valid = [k for k in range(n_all) if norm[k] > tol]
    n = len(valid)
    total = 0.0
    for _ in valid:
        total += alpha
    share = [alpha / total for _ in valid]
    cos = [[tensor_sum(vs[a] * vs[b]) / (norm[a] * norm[b]) for b in valid] for a in valid]

    def form(x, y):
        s = 0.0
        for i in range(n):
            for j in range(n):
                s += x[i] * cos[i][j] * y[j]
        return s

    mean = [0.0] * n
    if n:
        mean = list(share)
        mn = math.sqrt(max(form(mean, mean), 0.0))
        mean = [(1.0 if a == 0 else 0.0) if mn < tol else m / mn for a, m in enumerate(mean)]
        for _ in range(int(max_iter)):
            dots = []
            for a in range(n):
                d = 0.0
                for b in range(n):
                    d += mean[b] * cos[b][a]
                dots.append(min(1.0, max(-1.0, d)))
            step = [0.0] * n
            for a in range(n):
                theta = math.acos(dots[a])
                if theta < tol:
                    continue
                f = share[a] * (theta / math.sin(theta))
                step[a] += f
                for b in range(n):
                    step[b] -= f * dots[a] * mean[b]
            sn = math.sqrt(max(form(step, step), 0.0))
            if sn < tol:
                break
            c, s = math.cos(sn), math.sin(sn) / sn
            mean = [c * m + s * st for m, st in zip(mean, step)]
            un = math.sqrt(max(form(mean, mean), 0.0))
            if un > tol:
                mean = [m / un for m in mean]
    scale = 0.0
    for k in range(n_all):
        scale += alpha * norm[k]
    coefs = [np.float32(0.0)] * n_all
    for a, k in enumerate(valid):
        coefs[k] = np.float32(scale * mean[a] / norm[k])
    return coefs


def linear(xs, coefs):
    """docs/ARITHMETIC.md: acc = c0 x0; acc = acc + ci xi, in fp32."""
    acc = (np.float32(coefs[0]) * xs[0]).astype(np.float32)
    for c, x in zip(coefs[1:], xs[1:]):
        acc = (acc + (np.float32(c) * x).astype(np.float32)).astype(np.float32)
    return acc


def passthrough(x, scale=None):
    """passthrough of docs/METHODS.md: x itself, or fp32(scale) * x rounded
    once (mergekit's res * scale) when a scale other than 1 is given."""
    if scale is None or scale == 1:
        return x
    return (np.float32(scale) * x).astype(np.float32)


def nearswap(t, base, other):
    """nearswap of docs/METHODS.md, element by element in fp32:
    w = (1 / |b - x|) * f(t), 1 where not finite, at most 1;
    result w x + (1 - w) b."""
    f32 = np.float32
    b = np.asarray(base, dtype=f32)
    x = np.asarray(other, dtype=f32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dist = np.abs((b - x).astype(f32)).astype(f32)
        w = ((f32(1.0) / dist).astype(f32) * f32(t)).astype(f32)
        w = np.where(np.isfinite(w), np.minimum(w, f32(1.0)), f32(1.0)).astype(f32)
        left = (w * x).astype(f32)
        right = ((f32(1.0) - w).astype(f32) * b).astype(f32)
        return (left + right).astype(f32)


def nuslerp_coefficients(xs, weights, base=None, total=None):
    """docs/METHODS.md#nuslerp: t = w1 / (w0 + w1) (0.5 when they cancel);
    the two vectors (task vectors against base when given) normalised by
    max(norm, 1e-7); linear when |sin theta| < 1e-8; coefficients in double
    (then the base's, 1 - c0 - c1), each rounded once to fp32.  The sums:
    `total` (default tensor_sum, the whole-tensor order)."""
    total = total or tensor_sum
    vs = [((x - base).astype(np.float32) if base is not None else x).astype(np.float64)
          for x in xs]
    w0, w1 = float(weights[0]), float(weights[1])
    t = 0.5 if abs(w0 + w1) < 1e-6 else w1 / (w0 + w1)
    n0 = max(math.sqrt(total(vs[0] * vs[0])), 1e-7)
    n1 = max(math.sqrt(total(vs[1] * vs[1])), 1e-7)
    cos = min(1.0, max(-1.0, total(vs[0] * vs[1]) / (n0 * n1)))
    theta = math.acos(cos)
    s = math.sin(theta)
    if abs(s) < 1e-8:
        c = [1.0 - t, t]
    else:
        c = [math.sin((1.0 - t) * theta) / s, math.sin(t * theta) / s]
    out = [np.float32(c[0]), np.float32(c[1])]
    if base is not None:
        out.append(np.float32(1.0 - c[0] - c[1]))
    return out


# ---- column-wise nuslerp (issue 15, columns) ----
def exact_total(products):
    """The correctly rounded sum of the exact float64 products: math.fsum,
    independent of any order (docs/METHODS.md, Whole-tensor statistics)."""
    return math.fsum(products.ravel().tolist())


def nuslerp_columns(xs, weights, base=None):
    """nuslerp_flatten: false with nuslerp_row_wise: true on rows x columns
    arrays: each column (the vector along dimension 0) slerped with its own
    coefficients from its exact sums, then the linear blend in fp32 (the
    base last, as the inputs are listed)."""
    inputs = list(xs) + ([base] if base is not None else [])
    out = np.empty_like(xs[0])
    for j in range(xs[0].shape[1]):
        col = [x[:, j:j + 1] for x in inputs]
        coefs = nuslerp_coefficients(col[:2], weights, col[2] if base is not None else None,
                                     total=exact_total)
        out[:, j:j + 1] = linear(col, coefs)
    return out
# ---- end column-wise nuslerp ----

# ---- ram (issue 15b) ----
def ram(epsilon, base, others):
    """ram of docs/METHODS.md#ram, written as mergekit's masks in fp32:
    tz_i = t_i * (|t_i| > eps); c = how many masks are set;
    term_i = tz_i * (c == 1) + tz_i * (c > 1) / max(c, 1), summed over the
    models left to right; result b + sum.  eps is rounded to fp32 first."""
    f32 = np.float32
    b = np.asarray(base, dtype=f32)
    eps = f32(epsilon)
    with np.errstate(invalid="ignore", over="ignore"):
        tv = [(np.asarray(x, dtype=f32) - b).astype(f32) for x in others]
        present = [np.abs(t) > eps for t in tv]
        count = np.sum(present, axis=0)
        unique = (count == 1).astype(f32)
        overlap = (count > 1).astype(f32)
        divisor = np.maximum(count, 1).astype(f32)
        total = None
        for t, p in zip(tv, present):
            tz = (t * p.astype(f32)).astype(f32)
            term = ((tz * unique).astype(f32) + ((tz * overlap).astype(f32) / divisor)).astype(f32)
            total = term if total is None else (total + term).astype(f32)
        return (b + total).astype(f32)


# ---- sce (issue 15a) ----
def sce_variance(ds):
    """docs/METHODS.md#sce: per element, the population variance of the task
    vectors in fp32: mean = (d0 + d1 + ...) / N, then the squared deviations
    summed in model order and divided by N."""
    f32 = np.float32
    n = f32(len(ds))
    total = ds[0]
    for d in ds[1:]:
        total = (total + d).astype(f32)
    mean = (total / n).astype(f32)
    sq = np.zeros_like(mean)
    for d in ds:
        dev = (d - mean).astype(f32)
        sq = (sq + (dev * dev).astype(f32)).astype(f32)
    return (sq / n).astype(f32)


def sce(base, xs, select_topk=1.0):
    """docs/METHODS.md#sce (mergekit's sce.py): Select the top select_topk
    of the nonzero variances (ties by index), Calculate each task vector's
    weight from its kept squares, Erase the minority signs of the kept
    vectors' plain sum, then base + the weighted mean of what is left."""
    f32 = np.float32
    ds = [(x - base).astype(f32) for x in xs]
    numel = base.size
    if select_topk < 1:
        var = sce_variance(ds)
        bits = abs_bits(var).ravel().astype(np.int64)
        nonzero = int(np.count_nonzero(bits))
        k = min(int(f32(select_topk) * f32(nonzero)), numel)  # mergekit: fp32 tensor math
        order = np.lexsort((np.arange(bits.size), -bits))  # variance descending, index ascending
        keep = np.zeros(bits.size, dtype=bool)
        keep[order[:k]] = True
        keep = keep.reshape(base.shape)
        ds = [np.where(keep, d, f32(0)).astype(f32) for d in ds]
    shares = [tensor_sum(d.astype(np.float64) * d) / numel for d in ds]
    total = 0.0
    for s in shares:
        total += s
    weights = [f32(1.0 / len(ds)) if total == 0 else f32(s / total) for s in shares]
    vote = ds[0]
    for d in ds[1:]:
        vote = (vote + d).astype(f32)
    majority = np.where(vote >= 0, f32(1), f32(-1))
    mixed = np.zeros_like(vote)
    divisor = np.zeros_like(vote)
    for d, w in zip(ds, weights):
        agree = np.sign(d) == majority  # zeros never agree
        mixed = (mixed + np.where(agree, (d * w).astype(f32), f32(0))).astype(f32)
        divisor = (divisor + np.where(agree, w, f32(0))).astype(f32)
    mixed = (mixed / np.where(divisor == 0, f32(1), divisor)).astype(f32)
    mixed = np.where(np.isnan(vote), vote, mixed)
    return (base + mixed).astype(f32)


# ---- arcee_fusion (issue 15) ----
def fusion_kl(x, b):
    """docs/METHODS.md#arcee_fusion: the KL of one vector in float64 with
    math.exp and math.log, which call the same C library functions as
    mpiblend (numpy's own vectorised exp/log may differ in the last bit),
    every sum element by element in index order."""
    def exps(v):
        top = float(np.max(v))
        return [math.exp(float(e) - top) for e in v]
    ex, eb = exps(x), exps(b)
    sx = sb = kl = 0.0
    for e in ex:
        sx += e
    for e in eb:
        sb += e
    for e, f in zip(ex, eb):
        p, q = e / sx + 1e-8, f / sb + 1e-8
        kl += p * math.log(p / q)
    return kl


def arcee_fusion(base, x, shape):
    """mergekit's arcee_fusion.py with exact quantiles: the importance
    |x - b| * KL (KL along the last dimension, a 1-D tensor one vector)
    in fp32, q1, median and q3 the sorted importances at floor(q (n - 1)),
    threshold median + 1.5 (q3 - q1) in fp32, r = b + (x - b) * mask."""
    f32 = np.float32
    b, x = base.reshape(-1).astype(f32), x.reshape(-1).astype(f32)
    n = b.size
    length = shape[-1] if len(shape) >= 1 else 1
    d = (x - b).astype(f32)
    kls = [fusion_kl(x[i:i + length], b[i:i + length]) for i in range(0, n, length)]
    kl32 = np.array([f32(0) if k < 0 else f32(k) for k in kls], dtype=f32)
    key = (np.abs(d) * np.repeat(kl32, length)).astype(f32)
    s = np.sort(key)
    q1, med, q3 = s[(n - 1) // 4], s[(n - 1) // 2], s[3 * (n - 1) // 4]
    threshold = f32(med + f32(f32(1.5) * f32(q3 - q1)))
    mask = np.where(key >= threshold, f32(1), f32(0))
    return (b + (d * mask).astype(f32)).astype(f32).reshape(base.shape), key, threshold
# ---- end arcee_fusion ----
