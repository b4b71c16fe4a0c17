"""Every merge method end to end on `tiny` checkpoints: 1-4 ranks, slabs
that split tensors, both I/O modes; every output bit-identical to the others
and to an independent numpy implementation of docs/METHODS.md
(methods_ref.py).  Then a layer-range merge, a filter-based module ablation,
and the method errors, which must stop before any output exists."""
import os
import re
import shutil
import sys

import h5py
import numpy as np

import methods_ref as ref
import mpbtest

work = os.path.join(sys.argv[1], "e2e")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
A, B, C = (os.path.join(work, n) for n in ("a.h5", "b.h5", "c.h5"))
mpbtest.run(2, "synth", "--arch", "tiny", "--seed", "1", "--quiet", A, expect=0)
mpbtest.run(2, "synth", "--arch", "tiny", "--seed", "2", "--quiet", B, expect=0)


def near_copy(src, dst, seed):
    """dst = src with each bf16 moved by -2..2 units in the last place: many
    task-vector elements share one magnitude, so cuts fall inside ties."""
    shutil.copy(src, dst)
    rng = np.random.default_rng(seed)
    moved = {}
    with h5py.File(dst, "r+") as f:
        for name in mpbtest.tensor_names(dst):
            bits, kind = mpbtest.raw_bits(src, name)
            assert kind == "bf16"
            step = rng.integers(-2, 3, size=bits.shape).astype(np.int32)
            step[(bits & 0x7FFF) < 8] = 0  # keep zeros and tiny values away from sign flips
            moved[name] = (bits.astype(np.int32) + step).astype(np.uint16)
            f[name][...] = mpbtest.decode(moved[name], "bf16")  # exact in bf16: no rounding
    for name, want in moved.items():
        assert np.array_equal(mpbtest.raw_bits(dst, name)[0], want), name


near_copy(A, C, 5)
A_COPY = os.path.join(work, "a_copy.h5")
shutil.copy(A, A_COPY)
NAMES = mpbtest.tensor_names(A)
LAYERS = 1 + max(int(m.group(1)) for n in NAMES for m in [re.search(r"layers\.(\d+)\.", n)] if m)


def position(name, after_layers=0.0):
    """docs/CONFIG.md: layer i of L at i/(L-1), embeddings at 0, the final
    norm and lm_head at 0 as in mergekit's planner (at 1 with
    gradient_after_layers: last)."""
    m = re.search(r"layers\.(\d+)\.", name)
    if m:
        return int(m.group(1)) / (LAYERS - 1)
    return 0.0 if "embed" in name else after_layers


gradient = ref.gradient


def write(name, text):
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def task_config(method, models, params, extra=""):
    lines = [f"merge_method: {method}", "base_model: a.h5", "models:"]
    for path, p in models:
        lines.append(f"  - model: {path}\n    parameters: {p}")
    lines.append(f"parameters: {params}")
    return "\n".join(lines) + "\n" + extra


def task_ref(method, weights, densities, lam=1.0, normalize=False, rescale=False, l1=True,
             gamma=0.01, seed=0, files=(A, B, C), epsilon=0.15):
    def blend(name):
        base, kind = ref.read(files[0], name)
        xs = [ref.read(files[1], name)[0], ref.read(files[2], name)[0]]
        dens = [d(name) if callable(d) else d for d in densities]
        shape = mpbtest.raw_bits(files[0], name)[0].shape
        out = ref.task_blend(method, base, xs, weights, dens, lam, normalize, rescale, l1,
                             gamma=gamma, seed=seed, inputs=[0, 1], name=name,
                             epsilon=epsilon, shape=shape)
        return out, kind
    return blend


def linear_ref(paths, coefs_of):
    def blend(name):
        xs = [ref.read(p, name) for p in paths]
        return ref.linear([x for x, _ in xs], coefs_of(name, [x for x, _ in xs])), xs[0][1]
    return blend


def passthrough_ref(path, scale_of, out_kind=None):
    def blend(name):
        x, kind = ref.read(path, name)
        return ref.passthrough(x, scale_of(name)), out_kind or kind
    return blend


def slerp_ref(other, t_of):
    def coefs(name, xs):
        c0, c1 = ref.slerp_coefficients(t_of(name), xs[1], xs[0])
        return [c1, c0]  # inputs: the model, then base_model
    return linear_ref([other, A], coefs)


def nuslerp_rows_ref(paths, weights_of, base=None):
    """nuslerp_flatten: false: every vector along the last dimension slerped
    with its own coefficients (docs/METHODS.md#nuslerp); a 1-D tensor is one
    vector, the whole tensor."""
    def blend(name):
        xs = [ref.read(p, name) for p in paths + ([base] if base else [])]
        kind = xs[0][1]
        xs = [x for x, _ in xs]
        shape = mpbtest.raw_bits(paths[0], name)[0].shape
        length = shape[-1] if len(shape) >= 2 else xs[0].size
        vs = [x.reshape(-1, length) for x in xs]
        out = np.empty_like(vs[0])
        for k in range(vs[0].shape[0]):
            row = [v[k:k + 1] for v in vs]
            coefs = ref.nuslerp_coefficients(row[:2], weights_of(name), row[2] if base else None)
            out[k] = ref.linear(row, coefs)[0]
        return out, kind
    return blend


def nuslerp_columns_ref(paths, weights_of, base=None):
    """nuslerp_row_wise with nuslerp_flatten: false (methods_ref.nuslerp_columns);
    a 1-D tensor is one vector, as with flatten."""
    def blend(name):
        xs = [ref.read(p, name) for p in paths + ([base] if base else [])]
        kind = xs[0][1]
        xs = [x for x, _ in xs]
        if mpbtest.raw_bits(paths[0], name)[0].ndim < 2:
            coefs = ref.nuslerp_coefficients(xs[:2], weights_of(name), xs[2] if base else None)
            return ref.linear(xs, coefs), kind
        return ref.nuslerp_columns(xs[:2], weights_of(name), xs[2] if base else None), kind
    return blend


def nearswap_ref(other, t_of, out_kind=None):
    def blend(name):
        base, kind = ref.read(A, name)
        return ref.nearswap(t_of(name), base, ref.read(other, name)[0]), out_kind or kind
    return blend


def stock_coefs(name, xs):
    t0, t1 = ref.model_stock_coefficients(xs[2], xs[:2])
    return [t1, t1, t0]


def stock_rows_ref(paths):
    """filter_wise: every vector along the last dimension with its own t
    (model_stock_coefficients of that row alone); a 1-D tensor is one row.
    paths: the models, then the base."""
    def blend(name):
        xs = [ref.read(p, name) for p in paths]
        kind = xs[0][1]
        shape = mpbtest.raw_bits(paths[0], name)[0].shape
        length = shape[-1] if len(shape) >= 2 else xs[0][0].size
        vs = [x.reshape(-1, length) for x, _ in xs]
        out = np.empty_like(vs[0])
        for k in range(vs[0].shape[0]):
            row = [v[k:k + 1] for v in vs]
            t0, t1 = ref.model_stock_coefficients(row[-1], row[:-1])
            out[k] = ref.linear(row, [t1] * (len(row) - 1) + [t0])[0]
        return out, kind
    return blend


def multislerp_coefs(weights_of, base=False, normalize=True, eps=1e-8):
    def coefs(name, xs):
        models, b = (xs[:-1], xs[-1]) if base else (xs, None)
        return ref.multislerp_coefficients(models, weights_of(name), b, normalize, eps)
    return coefs


def sce_ref(others, topk_of, files_base=None):
    def blend(name):
        base, kind = ref.read(files_base or A, name)
        return ref.sce(base, [ref.read(o, name)[0] for o in others], topk_of(name)), kind
    return blend


def sce_config(models, params="{}", base="a.h5", extra=""):
    listed = ", ".join(f"{{model: {m}}}" for m in models)
    return f"merge_method: sce\nbase_model: {base}\nmodels: [{listed}]\nparameters: {params}\n{extra}"


CASES = {
    "linear": ("merge_method: linear\nmodels:\n  - model: a.h5\n    parameters: {weight: 0.3}\n"
               "  - model: b.h5\n    parameters: {weight: 0.7}\n",
               linear_ref([A, B], lambda n, xs: [np.float32(0.3 / (0.3 + 0.7)),
                                                 np.float32(0.7 / (0.3 + 0.7))])),
    "interpolate": ("merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                    "parameters: {lambda: 0.45}\n",
                    linear_ref([A, B], lambda n, xs: [np.float32(1 - 0.45), np.float32(0.45)])),
    "passthrough": ("merge_method: passthrough\nmodels: [{model: b.h5}]\n",
                    linear_ref([B], lambda n, xs: [np.float32(1)])),
    # scale per tensor by filters (the rest stays an exact copy), then by a
    # gradient over the layers into f32.
    "passthrough_scale": ("merge_method: passthrough\nmodels: [{model: b.h5}]\n"
                          "parameters:\n  scale:\n    - {filter: o_proj, value: 0.5}\n"
                          "    - {filter: down_proj, value: 0.5}\n    - {value: 1}\n",
                          passthrough_ref(B, lambda n: 0.5 if "o_proj" in n or "down_proj" in n
                                          else None)),
    "passthrough_scale_gradient_f32": ("merge_method: passthrough\nmodels:\n  - model: c.h5\n"
                                       "    parameters: {scale: [{filter: mlp, value: [0.3, 1.7]}]}\n"
                                       "out_dtype: float32\n",
                                       passthrough_ref(C, lambda n: gradient([0.3, 1.7], position(n))
                                                       if "mlp" in n else None, "f32")),
    "task_arithmetic": (task_config("task_arithmetic", [("b.h5", "{weight: 0.7}"),
                                                        ("c.h5", "{weight: 0.3}")],
                                    "{lambda: 0.8}"),
                        task_ref("task_arithmetic", [0.7, 0.3], [1, 1], lam=0.8)),
    "ties": (task_config("ties", [("b.h5", "{weight: 0.6, density: 0.3}"),
                                  ("c.h5", "{weight: 0.4, density: 0.5}")], "{}"),
             task_ref("ties", [0.6, 0.4], [0.3, 0.5], normalize=True)),
    "ties_l1_f32": (task_config("ties", [("b.h5", "{weight: 1}"), ("c.h5", "{weight: 0.5}")],
                                "{rescale: true, lambda: 0.9, density: "
                                "[{filter: norm, value: 1}, {value: 0.25}]}",
                                "out_dtype: float32\n"),
                    task_ref("ties", [1, 0.5], [lambda n: 1 if "norm" in n else 0.25] * 2,
                             lam=0.9, normalize=True, rescale=True)),
    "dare_linear": (task_config("dare_linear", [("b.h5", "{weight: 0.5, density: 0.4}"),
                                                ("c.h5", "{weight: 0.5, density: 0.6}")],
                                "{seed: 11}"),
                    task_ref("dare_linear", [0.5, 0.5], [0.4, 0.6], rescale=True, seed=11)),
    "dare_ties": (task_config("dare_ties", [("b.h5", "{weight: 0.6, density: 0.5}"),
                                            ("c.h5", "{weight: 0.4, density: 0.7}")],
                              "{seed: 3, rescale: inverse, normalize: true}"),
                  task_ref("dare_ties", [0.6, 0.4], [0.5, 0.7], normalize=True, rescale=True,
                           l1=False, seed=3)),
    "breadcrumbs": (task_config("breadcrumbs", [("b.h5", "{weight: 0.5, density: 0.4}"),
                                                ("c.h5", "{weight: 0.5, density: 0.5}")],
                                "{gamma: 0.05, rescale: true}"),
                    task_ref("breadcrumbs", [0.5, 0.5], [0.4, 0.5], rescale=True, gamma=0.05)),
    "breadcrumbs_ties": (task_config("breadcrumbs_ties", [("b.h5", "{weight: 1, density: 0.7}"),
                                                          ("c.h5", "{weight: 1, density: 0.7}")],
                                     "{gamma: 0, normalize: true}"),
                         task_ref("breadcrumbs_ties", [1, 1], [0.7, 0.7], normalize=True,
                                  gamma=0.0)),
    # DELLA: c.h5's near copy puts many equal magnitudes in each row (ranked
    # by index); rescale: l1 (the default) needs the kept L1 norm per row.
    "della": (task_config("della", [("b.h5", "{weight: 0.6, density: 0.4}"),
                                    ("c.h5", "{weight: 0.4, density: 0.6}")],
                          "{seed: 5, epsilon: 0.2}"),
              task_ref("della", [0.6, 0.4], [0.4, 0.6], normalize=True, rescale=True, seed=5,
                       epsilon=0.2)),
    # rescale: inverse multiplies each kept element by 1/p (the DELLA paper's
    # rescale); epsilon's default 0.15; a density filter.
    "della_linear": (task_config("della_linear", [("b.h5", "{weight: 0.5, density: 0.5}"),
                                                  ("c.h5", "{weight: 0.7}")],
                                 "{seed: 2, rescale: inverse, lambda: 0.8, density: "
                                 "[{filter: mlp, value: 0.3}, {value: 0.7}]}"),
                     task_ref("della_linear", [0.5, 0.7],
                              [0.5, lambda n: 0.3 if "mlp" in n else 0.7], lam=0.8,
                              rescale=True, l1=False, seed=2)),
    "slerp": ("merge_method: slerp\nbase_model: a.h5\nmodels: [{model: b.h5}]\n"
              "parameters: {t: [0, 0.5, 1]}\n",
              slerp_ref(B, lambda n: gradient([0, 0.5, 1], position(n)))),
    "slerp_last": ("merge_method: slerp\nbase_model: a.h5\nmodels: [{model: b.h5}]\n"
                   "parameters: {t: [0.2, 0.5, 0.9]}\ngradient_after_layers: last\n",
                   slerp_ref(B, lambda n: gradient([0.2, 0.5, 0.9], position(n, 1.0)))),
    # mergekit: `dtype:` is the output dtype when out_dtype is absent.
    "linear_dtype_f16": ("merge_method: linear\nmodels:\n  - model: a.h5\n"
                         "    parameters: {weight: 0.3}\n  - model: b.h5\n"
                         "    parameters: {weight: 0.7}\ndtype: torch.float16\n",
                         linear_ref([A, B], lambda n, xs: [np.float32(0.3 / (0.3 + 0.7)),
                                                           np.float32(0.7 / (0.3 + 0.7))])),
    "slerp_near": ("merge_method: slerp\nbase_model: a.h5\nmodels: [{model: c.h5}]\n"
                   "parameters: {t: 0.3}\n", slerp_ref(C, lambda n: 0.3)),
    "model_stock": ("merge_method: model_stock\nbase_model: a.h5\n"
                    "models: [{model: b.h5}, {model: c.h5}]\n", linear_ref([B, C, A], stock_coefs)),
    # filter_wise: one t per row; three models, into f32.
    "model_stock_rows_f32": ("merge_method: model_stock\nbase_model: a.h5\n"
                             "models: [{model: b.h5}, {model: c.h5}, {model: a_copy.h5}]\n"
                             "parameters: {filter_wise: true}\nout_dtype: float32\n",
                             stock_rows_ref([B, C, A_COPY, A])),
    "model_stock_rows": ("merge_method: model_stock\nbase_model: a.h5\n"
                         "models: [{model: b.h5}, {model: c.h5}]\n"
                         "parameters: {filter_wise: true}\n", stock_rows_ref([B, C, A])),
    # b.h5 is far from a.h5: t decides per element; c.h5 is a.h5 moved by a
    # few units in the last place: mostly swapped, and equal elements (w = 1
    # from 1/0) abound.  The gradient and filter put t on both sides.
    "nearswap": ("merge_method: nearswap\nbase_model: a.h5\nmodels: [{model: b.h5}]\n"
                 "parameters: {t: [0.002, 0.02, 0.2]}\n",
                 nearswap_ref(B, lambda n: gradient([0.002, 0.02, 0.2], position(n)))),
    "nearswap_near_f32": ("merge_method: nearswap\nbase_model: a.h5\nmodels: [{model: c.h5}]\n"
                          "parameters:\n  t:\n    - {filter: mlp, value: 0.0001}\n"
                          "    - {value: 0.001}\nout_dtype: float32\n",
                          nearswap_ref(C, lambda n: 0.0001 if "mlp" in n else 0.001, "f32")),
    # Two models as they are, t = 0.7 / (0.3 + 0.7) with a weight gradient.
    "nuslerp": ("merge_method: nuslerp\nmodels:\n  - model: a.h5\n"
                "    parameters: {weight: 0.3}\n  - model: b.h5\n"
                "    parameters: {weight: [0.7, 0.2]}\n",
                linear_ref([A, B], lambda n, xs: ref.nuslerp_coefficients(
                    xs, [0.3, gradient([0.7, 0.2], position(n))]))),
    # The task-vector form: slerp of b.h5 - a.h5 and c.h5 - a.h5, added to
    # a.h5; weights that cancel give t = 0.5 on the MLP.
    "nuslerp_base_f32": ("merge_method: nuslerp\nbase_model: a.h5\nmodels:\n"
                         "  - model: b.h5\n    parameters: {weight: [{filter: mlp, value: -1}, "
                         "{value: 2}]}\n"
                         "  - model: c.h5\n    parameters: {weight: 1}\n"
                         "parameters: {nuslerp_flatten: true}\nout_dtype: float32\n",
                         linear_ref([B, C, A], lambda n, xs: ref.nuslerp_coefficients(
                             xs[:2], [-1 if "mlp" in n else 2, 1], xs[2]))),
    # Two equal models: sin theta = 0, the linear fallback at t = 0.75.
    "nuslerp_parallel": ("merge_method: nuslerp\nmodels:\n  - model: a.h5\n"
                         "    parameters: {weight: 1}\n  - model: a_copy.h5\n"
                         "    parameters: {weight: 3}\n",
                         linear_ref([A, A_COPY], lambda n, xs: ref.nuslerp_coefficients(
                             xs, [1, 3]))),
    # nuslerp_flatten: false: each row (the vectors along the last dimension)
    # slerped on its own; the norms, 1-D, as one vector.
    "nuslerp_rows": ("merge_method: nuslerp\nmodels:\n  - model: a.h5\n"
                     "    parameters: {weight: 0.3}\n  - model: b.h5\n"
                     "    parameters: {weight: [0.7, 0.2]}\n"
                     "parameters: {nuslerp_flatten: false}\n",
                     nuslerp_rows_ref([A, B], lambda n: [0.3, gradient([0.7, 0.2], position(n))])),
    # The task-vector form per row, nuslerp_row_wise: false written out.
    "nuslerp_rows_base_f32": ("merge_method: nuslerp\nbase_model: a.h5\nmodels:\n"
                              "  - model: b.h5\n    parameters: {weight: 2}\n"
                              "  - model: c.h5\n    parameters: {weight: 1}\n"
                              "parameters: {nuslerp_flatten: false, nuslerp_row_wise: false}\n"
                              "out_dtype: float32\n",
                              nuslerp_rows_ref([B, C], lambda n: [2, 1], base=A)),
    # ---- column-wise nuslerp (issue 15, columns) ----
    # nuslerp_row_wise with nuslerp_flatten: false: each column (the vectors
    # along dimension 0) from its exact sums over every row; 1-D tensors as
    # one vector.  Plain with a weight gradient, and the task-vector form.
    "nuslerp_columns": ("merge_method: nuslerp\nmodels:\n  - model: a.h5\n"
                        "    parameters: {weight: 0.3}\n  - model: b.h5\n"
                        "    parameters: {weight: [0.7, 0.2]}\n"
                        "parameters: {nuslerp_flatten: false, nuslerp_row_wise: true}\n",
                        nuslerp_columns_ref([A, B],
                                            lambda n: [0.3, gradient([0.7, 0.2], position(n))])),
    "nuslerp_columns_base_f32": ("merge_method: nuslerp\nbase_model: a.h5\nmodels:\n"
                                 "  - model: b.h5\n    parameters: {weight: 2}\n"
                                 "  - model: c.h5\n    parameters: {weight: 1}\n"
                                 "parameters: {nuslerp_flatten: false, nuslerp_row_wise: true}\n"
                                 "out_dtype: float32\n",
                                 nuslerp_columns_ref([B, C], lambda n: [2, 1], base=A)),
    # ---- end column-wise nuslerp ----
    # Three models as they are (c.h5 nearly parallel to a.h5), a weight
    # gradient and normalize_weights' default.
    "multislerp": ("merge_method: multislerp\nmodels:\n  - model: a.h5\n"
                   "    parameters: {weight: 0.5}\n  - model: b.h5\n"
                   "    parameters: {weight: [0.1, 0.6]}\n  - model: c.h5\n"
                   "    parameters: {weight: 0.2}\n",
                   linear_ref([A, B, C], multislerp_coefs(
                       lambda n: [0.5, gradient([0.1, 0.6], position(n)), 0.2]))),
    # The task-vector form: base_model is not one of the models.
    "multislerp_base_f32": ("merge_method: multislerp\nbase_model: a.h5\nmodels:\n"
                            "  - model: b.h5\n    parameters: {weight: 0.7}\n"
                            "  - model: c.h5\n    parameters: {weight: 0.6}\n"
                            "parameters: {normalize_weights: false, eps: 0.001}\n"
                            "out_dtype: float32\n",
                            linear_ref([B, C, A], multislerp_coefs(
                                lambda n: [0.7, 0.6], base=True, normalize=False, eps=0.001))),
    # Three models, then two nearly parallel ones with fewer iterations and a
    # looser tolerance (the short set).
    "karcher": ("merge_method: karcher\nmodels: [{model: a.h5}, {model: b.h5}, {model: c.h5}]\n",
                linear_ref([A, B, C], lambda n, xs: ref.karcher_coefficients(xs))),
    "karcher_near": ("merge_method: karcher\nmodels: [{model: a.h5}, {model: c.h5}]\n"
                     "parameters: {max_iter: 3, tol: 0.001}\n",
                     linear_ref([A, C], lambda n, xs: ref.karcher_coefficients(xs, 3, 0.001))),
    # sce (its own block): c.h5 is a near copy of a.h5, so many variances are
    # equal and the select's cut splits a run of them (checked below); a
    # gradient and a filter put select_topk on several values.
    "sce": (sce_config(["b.h5", "c.h5"], "{select_topk: [{filter: mlp, value: 0.1}, "
                       "{value: [0.3, 0.8]}]}"),
            sce_ref([B, C], lambda n: 0.1 if "mlp" in n else gradient([0.3, 0.8], position(n)))),
    # select_topk's default 1: no select, weights from every element's squares.
    "sce_all_f32": (sce_config(["c.h5", "b.h5"], extra="out_dtype: float32\n"),
                    sce_ref([C, B], lambda n: 1.0)),
    # One task vector: every variance is 0, the select keeps nothing, the
    # output is base_model's (as in mergekit).
    "sce_one": (sce_config(["b.h5"], "{select_topk: 0.5}"), sce_ref([B], lambda n: 0.5)),
}

# ---- ram (issue 15b) ----
# d.h5 is a second near copy of a.h5: with b.h5 (far) and c.h5 every
# element has 0 to 3 task vectors above epsilon; an epsilon filter at the
# size of the near copies' steps moves elements between those counts.
D = os.path.join(work, "d.h5")
near_copy(A, D, 9)


def ram_ref(others, eps_of, out_kind=None):
    def blend(name):
        base, kind = ref.read(A, name)
        xs = [ref.read(p, name)[0] for p in others]
        return ref.ram(eps_of(name), base, xs), out_kind or kind
    return blend


RAM_EPS = lambda n: 0.0002 if "mlp" in n else 0.00001  # noqa: E731
CASES.update({
    "ram": ("merge_method: ram\nbase_model: a.h5\n"
            "models: [{model: b.h5}, {model: c.h5}, {model: d.h5}]\n"
            "parameters:\n  epsilon:\n    - {filter: mlp, value: 0.0002}\n"
            "    - {value: 0.00001}\n", ram_ref([B, C, D], RAM_EPS)),
    # One model and the default epsilon (1e-5): present or not, nothing shared.
    "ram_one_f32": ("merge_method: ram\nbase_model: a.h5\nmodels: [{model: c.h5}]\n"
                    "out_dtype: float32\n", ram_ref([C], lambda n: 1e-5, "f32")),
})
counts = set()
for name in NAMES:
    base = ref.read(A, name)[0]
    tv = [(ref.read(p, name)[0] - base).astype(np.float32) for p in (B, C, D)]
    counts |= set(np.unique(np.sum([np.abs(t) > np.float32(RAM_EPS(name)) for t in tv], axis=0)))
assert counts == {0, 1, 2, 3}, f"the ram case should meet 0 to 3 task vectors per element: {counts}"
# ---- end ram ----

# ---- arcee_fusion (issue 15) ----


def fusion_ref(other, base_path=A, out_kind=None):
    def blend(name):
        base, kind = ref.read(base_path, name)
        shape = mpbtest.raw_bits(base_path, name)[0].shape
        return ref.arcee_fusion(base, ref.read(other, name)[0], shape)[0], out_kind or kind
    return blend


CASES.update({
    "arcee_fusion": ("merge_method: arcee_fusion\nbase_model: a.h5\nmodels: [{model: b.h5}]\n",
                     fusion_ref(B)),
    # base_model listed among the models too (mergekit allows it); c.h5 is a
    # near copy, so many importances are equal.
    "arcee_fusion_near_f32": ("merge_method: arcee_fusion\nbase_model: a.h5\n"
                              "models: [{model: a.h5}, {model: c.h5}]\nout_dtype: float32\n",
                              fusion_ref(C, out_kind="f32")),
})
# ---- end arcee_fusion ----

# (ranks, I/O mode, --slab-kib, --memory-kib): budgets that hold every
# input (default), none (every pass re-reads) and some (a batch's shares
# past 64 KiB are re-read).
RUNS = [(1, "collective", None, None), (2, "independent", "16", "0"),
        (3, "collective", "16", "64"), (4, "independent", "16", None)]
# Methods without whole-tensor statistics: the core's split logic is tested
# elsewhere, two far-apart runs are enough here.
SHORT = {"linear", "interpolate", "passthrough", "task_arithmetic", "slerp_near", "slerp_last",
         "linear_dtype_f16", "nearswap_near_f32", "multislerp_base_f32",
         "karcher_near", "nuslerp_base_f32", "nuslerp_parallel", "ram_one_f32",
         "nuslerp_rows_base_f32", "sce_one"}


def merge(cfg, out, np_, io, slab, memory=None):
    args = ["merge", cfg, "--out", out, "--force", "--quiet", "--io", io]
    if slab:
        args += ["--slab-kib", slab]
    if memory is not None:
        args += ["--memory-kib", memory]
    mpbtest.run(np_, *args, expect=0)


def check_against(path, name, want, kind):
    got, got_kind = mpbtest.raw_bits(path, name)
    assert got_kind == kind, f"{path}: {name} stored as {got_kind}, expected {kind}"
    want_bits = mpbtest.encode(want.ravel(), kind).reshape(got.shape)
    if not np.array_equal(got, want_bits):
        bad = np.count_nonzero(got != want_bits)
        raise AssertionError(f"{path}: {name}: {bad} of {got.size} elements differ from the reference")


for case, (text, blend) in CASES.items():
    cfg = write(case, text)
    outs = []
    for np_, io, slab, memory in (RUNS[::3] if case in SHORT else RUNS):
        out = os.path.join(work, f"{case}_np{np_}_{io}.h5")
        merge(cfg, out, np_, io, slab, memory)
        outs.append(out)
    for out in outs[1:]:
        mpbtest.assert_same_tensors(outs[0], out)
    out_kind = next((k for k in ("f32", "f16") if case.endswith(k)), None)
    for name in NAMES:
        want, kind = blend(name)
        check_against(outs[0], name, want, out_kind or kind)
    if case.startswith(("nearswap", "ram")):  # verify recomputes their elements too
        mpbtest.run(2, "verify", outs[-1], "--config", cfg, expect=0)
    print(f"ok: {case}: {len(outs)} runs ({', '.join(os.path.basename(o) for o in outs)}) "
          f"identical and equal to the reference over {len(NAMES)} tensors")

# The cut selection must have met split ties: the near copy makes many
# magnitudes equal, so its top 30 % cannot end on a unique value.
with h5py.File(A, "r") as fa:
    name = "model.layers.1.mlp.down_proj.weight"
    d = (ref.read(C, name)[0] - ref.read(A, name)[0]).astype(np.float32)
    ranks, sorted_bits = ref.magnitude_ranks(d)
    k = int(0.5 * d.size)
    t = sorted_bits[k - 1]
    equal = np.count_nonzero(ref.abs_bits(d) == t)
    above = np.count_nonzero(ref.abs_bits(d).astype(np.int64) > t)
    assert above < k < above + equal, "the test data should split ties at the cut"
print("ok: the ties case cuts inside a run of equal magnitudes")


def variance_cut_splits(base, others, name, topk):
    """Whether sce's select cut falls inside a run of equal variances."""
    ds = [(ref.read(o, name)[0] - ref.read(base, name)[0]).astype(np.float32) for o in others]
    bits = ref.abs_bits(ref.sce_variance(ds)).astype(np.int64)
    k = int(np.float32(topk) * np.float32(np.count_nonzero(bits)))
    t = np.sort(bits.ravel())[::-1][k - 1]
    above = np.count_nonzero(bits > t)
    return above < k < above + np.count_nonzero(bits == t)


assert variance_cut_splits(A, [B, C], "model.layers.0.mlp.down_proj.weight", 0.1)
assert variance_cut_splits(A, [B, C], "model.embed_tokens.weight", 0.3)  # two-level selection
print("ok: the sce case's select cuts inside runs of equal variances")

# Tensors above 65,536 elements take the two-level radix selection (smaller
# ones exchange every magnitude): f32 inputs with a 300 x 300 matrix, a 1-D
# The memory budget decides how often each input is read, never the result:
# the summary's read_bytes is the inputs once when every share fits, and
# grows as the budget shrinks.
def read_bytes(case, memory):
    out = os.path.join(work, f"{case}_reads_{memory}.h5")
    args = ["merge", write(case, CASES[case][0]), "--out", out, "--force", "--slab-kib", "16"]
    p = mpbtest.run(2, *(args + (["--memory-kib", memory] if memory else [])), expect=0)
    mpbtest.assert_same_tensors(out, os.path.join(work, f"{case}_np1_collective.h5"))
    return int(re.search(r"read_bytes=(\d+)", p.stderr).group(1))


for case, files in (("ties", (A, B, C)), ("slerp_near", (A, C)), ("model_stock", (A, B, C)),
                    ("sce", (A, B, C)), ("arcee_fusion", (A, B))):
    full, some, none = (read_bytes(case, m) for m in (None, "64", "0"))
    once = sum(mpbtest.raw_bits(p, n)[0].nbytes for p in files for n in NAMES)
    assert full == once, f"{case}: read {full} bytes with the default budget, not {once}"
    assert full < some < none, f"{case}: reads {full}, {some}, {none} do not grow as the budget shrinks"
    for memory, says in ((None, "every input is read once"), ("0", "past the budget")):
        dry = mpbtest.run(2, "merge", write(case, CASES[case][0]), "--out",
                          os.path.join(work, "dry.h5"), "--dry-run", "--slab-kib", "16",
                          *(["--memory-kib", memory] if memory else []), expect=0).stdout
        assert says in dry, f"{case}: the dry run with --memory-kib {memory} does not say '{says}'"
    print(f"ok: {case} reads {full}, {some} and {none} bytes with budgets of 2 GiB, 64 KiB and "
          f"0 per rank, outputs identical")

# tensor of 70,001 elements (one element per row) and a small one; the
# deltas are multiples of 1/64 plus a little noise on one input in 16, so
# equal magnitudes abound and rescale: l1 needs the sums above the cut.
BIG = [os.path.join(work, f"big_{n}.h5") for n in "abc"]
rng = np.random.default_rng(77)
big_shapes = {"big.w": (300, 300), "big.v": (70001,), "small.w": (40, 3), "cube.w": (30, 7, 5)}
with h5py.File(BIG[0], "w") as fa, h5py.File(BIG[1], "w") as fb, h5py.File(BIG[2], "w") as fc:
    for name, shape in big_shapes.items():
        base = rng.normal(0, 1, shape).astype(np.float32)
        fa[name] = base
        for f in (fb, fc):
            d = rng.integers(-6, 7, shape).astype(np.float32) / 64
            d += (rng.integers(0, 16, shape) == 0) * rng.normal(0, 1e-3, shape).astype(np.float32)
            f[name] = (base + d).astype(np.float32)
big_cases = {
    "ties": ("{weight: 0.6, density: 0.3}", "{weight: 0.4, density: 0.45}", "{rescale: true}",
             task_ref("ties", [0.6, 0.4], [0.3, 0.45], normalize=True, rescale=True, files=BIG)),
    "breadcrumbs_ties": ("{weight: 1, density: 0.5}", "{weight: 1, density: 0.6}",
                         "{gamma: 0.1, rescale: true}",
                         task_ref("breadcrumbs_ties", [1, 1], [0.5, 0.6], rescale=True,
                                  gamma=0.1, files=BIG)),
    "dare_linear": ("{weight: 1, density: 0.5}", "{weight: 0.5, density: 0.3}", "{seed: 9}",
                    task_ref("dare_linear", [1, 0.5], [0.5, 0.3], rescale=True, seed=9,
                             files=BIG)),
    # 300-element rows full of equal magnitudes, a 1-D tensor (rows of one
    # element: p = density) and a 3-D one (ranked along its second dimension).
    "della": ("{weight: 1, density: 0.5}", "{weight: 0.5, density: 0.3}",
              "{seed: 4, epsilon: 0.1}",
              task_ref("della", [1, 0.5], [0.5, 0.3], normalize=True, rescale=True, seed=4,
                       epsilon=0.1, files=BIG)),
}
for method, (pb, pc, params, blend) in big_cases.items():
    cfg = write("big_" + method, task_config(method, [("big_b.h5", pb), ("big_c.h5", pc)],
                                             params).replace("a.h5", "big_a.h5"))
    outs = []
    for np_, io, memory in ((1, "collective", None), (3, "collective", "0"),
                            (4, "independent", "256")):
        outs.append(os.path.join(work, f"big_{method}_np{np_}.h5"))
        merge(cfg, outs[-1], np_, io, "16", memory)
    for out in outs[1:]:
        mpbtest.assert_same_tensors(outs[0], out)
    for name in big_shapes:
        want, kind = blend(name)
        check_against(outs[0], name, want, kind)
    print(f"ok: {method} on tensors past 65,536 elements: 3 runs identical and equal to the "
          f"reference")
d = (ref.read(BIG[1], "big.w")[0] - ref.read(BIG[0], "big.w")[0]).astype(np.float32)
_, sorted_bits = ref.magnitude_ranks(d)
t = sorted_bits[int(0.3 * d.size) - 1]
above = np.count_nonzero(ref.abs_bits(d).astype(np.int64) > t)
assert above < int(0.3 * d.size) < above + np.count_nonzero(ref.abs_bits(d) == t)
print("ok: the large ties cut splits a run of equal magnitudes")

# sce on the same tensors: the two-level selection of the variance key, with
# runs of equal variances at the cut.
cfg = write("big_sce", sce_config(["big_b.h5", "big_c.h5"], "{select_topk: 0.3}", "big_a.h5"))
outs = []
for np_, io, memory in ((1, "collective", None), (3, "collective", "0"), (4, "independent", "256")):
    outs.append(os.path.join(work, f"big_sce_np{np_}.h5"))
    merge(cfg, outs[-1], np_, io, "16", memory)
for out in outs[1:]:
    mpbtest.assert_same_tensors(outs[0], out)
for name in big_shapes:
    want, kind = sce_ref(BIG[1:], lambda n: 0.3, BIG[0])(name)
    check_against(outs[0], name, want, kind)
for name in ("big.w", "big.v"):
    assert variance_cut_splits(BIG[0], BIG[1:], name, 0.3), name
print("ok: sce on tensors past 65,536 elements: 3 runs identical and equal to the reference, "
      "the cut inside runs of equal variances")

# ---- arcee_fusion past 65,536 elements (issue 15) ----
# f32 inputs: a 300 x 300 matrix and a 1-D tensor of 70,001 elements (its
# KL over every plan row) take the two-level selection; a 3-D tensor (KL
# along its last dimension) and a small matrix the one-level one; in the
# 1-D tie.v more than half the importances are one value, so q1 = median =
# q3 = the threshold and the >= keeps that whole run; elsewhere one task
# vector element in 20 is an outlier (+0.5) for the mask to keep.
FUS = [os.path.join(work, f"fus_{n}.h5") for n in "ab"]
fus_shapes = {"big.w": (300, 300), "big.v": (70001,), "cube.w": (30, 7, 5), "small.w": (40, 3),
              "tie.v": (1001,), "runs.v": (70001,)}
# runs.v: |d| in runs of 1, 2, 3 and 5 (/64) that start exactly at the
# quantiles' indices 17,500, 35,000 and 52,500, 1,000 outliers of 32 on
# top: an off-by-one in the two-level selection moves every quantile to
# the run below and the threshold from 7.5 to 5 (/64 times KL).
RUNS_V = np.repeat(np.array([1, 2, 3, 5, 32], np.float32), [17500, 17500, 17500, 16501, 1000]) / 64
rng = np.random.default_rng(1515)
with h5py.File(FUS[0], "w") as fa, h5py.File(FUS[1], "w") as fb:
    for name, shape in fus_shapes.items():
        base = rng.normal(0, 1, shape).astype(np.float32)
        if name == "tie.v":
            d = rng.choice(np.array([0, 1, 1, 1, 1, 1, 1, 1, 3, 3], np.float32), shape) / 64
        elif name == "runs.v":
            d = rng.permutation(RUNS_V) * rng.choice(np.array([-1, 1], np.float32), shape)
        else:
            d = rng.integers(-6, 7, shape).astype(np.float32) / 64
            d += (rng.integers(0, 16, shape) == 0) * rng.normal(0, 1e-3, shape).astype(np.float32)
            d += (rng.integers(0, 20, shape) == 0) * np.float32(0.5)  # outliers to keep
        fa[name] = base
        fb[name] = (base + d).astype(np.float32)
cfg = write("fus", "merge_method: arcee_fusion\nbase_model: fus_a.h5\nmodels: [{model: fus_b.h5}]\n")
outs = []
for np_, io, slab, memory in ((1, "collective", None, None), (2, "independent", "1", "0"),
                              (3, "collective", "16", "64"), (4, "independent", "4", None)):
    outs.append(os.path.join(work, f"fus_np{np_}.h5"))
    merge(cfg, outs[-1], np_, io, slab, memory)
for out in outs[1:]:
    mpbtest.assert_same_tensors(outs[0], out)
for name, shape in fus_shapes.items():
    want, key, threshold = ref.arcee_fusion(ref.read(FUS[0], name)[0], ref.read(FUS[1], name)[0],
                                            shape)
    check_against(outs[0], name, want, "f32")
    kept = np.count_nonzero(key >= threshold)
    assert 0 < kept < key.size, f"{name}: the mask keeps {kept} of {key.size}"
    if name == "tie.v":
        at = np.count_nonzero(key == threshold)
        assert at > key.size // 2, f"tie.v: only {at} importances equal the threshold"
    if name == "runs.v":
        ordered = np.sort(key)
        assert all(ordered[i - 1] < ordered[i] for i in (17500, 35000, 52500)), name
print("ok: arcee_fusion on tensors past 65,536 elements, a 1-D one and a 3-D one: 4 runs "
      "(1-4 ranks, slabs of 1-16 KiB, budgets 0 / 64 KiB / default) identical and equal to the "
      "reference, a run of importances equal to the threshold kept")
# ---- end arcee_fusion past 65,536 elements ----

# A layer range: layers 1..2 blended by ties, everything else a copy of a.h5.
cfg = write("ties_layers", CASES["ties"][0] + "layer_range: [1, 2]\nkeep_outside: a.h5\n")
outs = []
for np_, io in ((2, "collective"), (3, "independent")):
    outs.append(os.path.join(work, f"ties_layers_np{np_}.h5"))
    merge(cfg, outs[-1], np_, io, "16")
mpbtest.assert_same_tensors(*outs)
blend = CASES["ties"][1]
for name in NAMES:
    m = re.search(r"layers\.(\d+)\.", name)
    inside = m is not None and 1 <= int(m.group(1)) <= 2
    want, kind = blend(name) if inside else ref.read(A, name)
    check_against(outs[0], name, want, kind)
print("ok: layer_range [1, 2] blends exactly those layers and copies the rest from a.h5")

# A module ablation with filters: attention keeps a.h5, the MLP takes b.h5,
# everything else (norms, embeddings) is interpolated at 0.8.
cfg = write("modules", "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
            "parameters:\n  lambda:\n    - {filter: self_attn, value: 0}\n"
            "    - {filter: mlp, value: 1}\n    - {value: 0.8}\n")
out = os.path.join(work, "modules.h5")
merge(cfg, out, 2, "collective", "16")
for name in NAMES:
    lam = 0.0 if "self_attn" in name else 1.0 if "mlp" in name else 0.8
    a, kind = ref.read(A, name)
    b = ref.read(B, name)[0]
    want = ref.linear([a, b], [np.float32(1 - lam), np.float32(lam)])
    check_against(out, name, want, kind)
    if lam in (0.0, 1.0):  # the ends of the interpolation are the models themselves
        assert np.array_equal(mpbtest.raw_bits(out, name)[0],
                              mpbtest.raw_bits(A if lam == 0 else B, name)[0])
print("ok: filter-based module ablation (self_attn = a.h5, mlp = b.h5, rest 0.8)")

# Keys mergekit ignores are accepted with one warning each (rank 0 only) and
# change nothing: the same tensors as the linear case without them.
cfg = write("ignored_keys", "name: my-merge\ntrust_remote_code: true\n" + CASES["linear"][0])
out = os.path.join(work, "ignored_keys.h5")
p = mpbtest.run(3, "merge", cfg, "--out", out, "--force", "--quiet", expect=0)
warnings = [l for l in p.stderr.splitlines() if l.startswith("warning:")]
assert warnings == [f"warning: {cfg}:1:1: key 'name' ignored: mergekit ignores it too, so it does "
                    "not change the result",
                    f"warning: {cfg}:2:1: key 'trust_remote_code' ignored: mergekit ignores it "
                    "too, so it does not change the result"], p.stderr
mpbtest.assert_same_tensors(out, os.path.join(work, "linear_np1_collective.h5"))
print("ok: keys mergekit ignores: one warning each, the same output")


def expect_error(case, text, message, extra=()):
    cfg = write(case, text)
    out = os.path.join(work, case + "_out.h5")
    before = set(os.listdir(work))
    p = mpbtest.run(2, "merge", cfg, "--out", out, "--quiet", *extra, expect=1)
    lines = [l for l in p.stderr.splitlines() if l.startswith("mpiblend")]
    assert len(lines) == 1 and message in lines[0], f"{case}: {p.stderr!r} lacks {message!r}"
    assert set(os.listdir(work)) - before == set(), f"{case}: files appeared"
    print(f"ok: {case}: {lines[0]}")
    return lines[0]


expect_error("density_too_low",
             task_config("ties", [("b.h5", "{weight: 1, density: 0.005}"),
                                  ("c.h5", "{weight: 1}")], "{}"),
             "keeps floor(0.005 x 128) = 0 elements of tensor 'model.layers.0.input_layernorm.weight'")
expect_error("unknown_method", "merge_method: no_such_method\nmodels: [{model: a.h5}]\n",
             "unknown merge_method 'no_such_method'")
expect_error("della_epsilon",
             task_config("della", [("b.h5", "{weight: 1, density: 0.1}")], "{}"),
             "della: epsilon 0.15 with density 0.1 of models[0] gives keep probabilities from "
             "-0.05 to 0.25 on tensor 'model.embed_tokens.weight'; both density - epsilon and "
             "density + epsilon must be in (0, 1)")
expect_error("della_epsilon_high",
             task_config("della_linear", [("b.h5", "{weight: 1, density: 0.9}")], "{}"),
             "della_linear: epsilon 0.15 with density 0.9")
expect_error("della_no_weight",
             task_config("della", [("b.h5", "{density: 0.5}")], "{}"),
             "weight")
expect_error("no_base", "merge_method: ties\nmodels:\n  - model: b.h5\n    parameters: {weight: 1}\n",
             "base_model")
expect_error("slerp_three", "merge_method: slerp\nmodels: [{model: a.h5}, {model: b.h5}, "
             "{model: c.h5}]\nparameters: {t: 0.5}\n", "slerp")
expect_error("nearswap_t_zero", "merge_method: nearswap\nbase_model: a.h5\n"
             "models: [{model: b.h5}]\nparameters: {t: 0}\n",
             "nearswap: t is 0; it must be above 0")
expect_error("nearswap_no_t", "merge_method: nearswap\nbase_model: a.h5\n"
             "models: [{model: b.h5}]\n", "merge_method 'nearswap' needs parameters.t")
expect_error("nearswap_three", "merge_method: nearswap\nbase_model: a.h5\n"
             "models: [{model: b.h5}, {model: c.h5}]\nparameters: {t: 0.1}\n",
             "merge_method 'nearswap' needs exactly 2 models, got 3 (counting base_model)")
expect_error("nuslerp_three", "merge_method: nuslerp\nmodels: [{model: a.h5}, {model: b.h5}, "
             "{model: c.h5}]\nparameters: {weight: 1}\n",
             "merge_method 'nuslerp' needs exactly 2 models besides base_model, got 3")
expect_error("nuslerp_base_is_model", "merge_method: nuslerp\nbase_model: a.h5\n"
             "models: [{model: a.h5}, {model: b.h5}]\nparameters: {weight: 1}\n",
             "merge_method 'nuslerp' needs exactly 2 models besides base_model, got 1")
expect_error("nuslerp_no_weight", "merge_method: nuslerp\n"
             "models: [{model: a.h5}, {model: b.h5, parameters: {weight: 1}}]\n",
             "has no weight; merge_method 'nuslerp' needs one for each model")
expect_error("multislerp_one", "merge_method: multislerp\nbase_model: a.h5\n"
             "models: [{model: b.h5, parameters: {weight: 1}}]\n",
             "merge_method 'multislerp' needs at least 2 models besides base_model, got 1")
expect_error("multislerp_cancel", "merge_method: multislerp\nmodels:\n"
             "  - {model: a.h5, parameters: {weight: 1}}\n"
             "  - {model: b.h5, parameters: {weight: -1}}\n",
             "multislerp weights for tensor 'model.embed_tokens.weight' sum to 0")
expect_error("karcher_max_iter", "merge_method: karcher\n"
             "models: [{model: a.h5}, {model: b.h5}]\nparameters: {max_iter: 2.5}\n",
             "max_iter must be a whole number from 0 to 1000000")
expect_error("density_range", task_config("ties", [("b.h5", "{weight: 1, density: 1.5}")], "{}"),
             "density must be in (0, 1]")
# ---- ram and arcee_fusion (issue 15b) ----
# ram on hand-made f32 values at its edges: task vectors exactly epsilon
# (absent) and above it, a base of -0 with changes below epsilon (-0 + -0)
# or none (+0), NaN and ±inf in one model and a task vector that overflows
# (NaN whatever the others), one, two and three models present.
RAM = [os.path.join(work, f"ram_{n}.h5") for n in "abcd"]
f32 = np.float32
eps = f32(0.25)
edge_b = np.array([1, 1, -0.0, -0.0, 0, 2, 2, 2, -3e38, 5, 5, 5, 1, 1, -1, 7], f32)
edge_x = [np.array([1.25, 1.5, -0.125, 0, -0.0, np.nan, np.inf, 2, 3e38, 5.5, 5.5, 5, 1.75,
                    1, -1.5, 7.25], f32),
          np.array([1, 1.5, -0.0625, -0.0, -0.0, 2, 2, -np.inf, -3e38, 5, 5.5, 5.5, 1.5, 1.25,
                    -0.5, 6.5], f32),
          np.array([1, 1.125, -0.1, -0.0, 0, 2, 2, 2, -3e38, 5.5, 5.5, 5.5, 1.5, 2, -1.5,
                    7.5], f32)]
rng = np.random.default_rng(15)
with h5py.File(RAM[0], "w") as fb:
    fb["edge.w"] = edge_b
    fb["rand.w"] = rng.normal(0, 1, (50, 21)).astype(f32)
for path, x in zip(RAM[1:], edge_x):
    with h5py.File(path, "w") as f:
        f["edge.w"] = x
        with h5py.File(RAM[0], "r") as fb:
            base = fb["rand.w"][...]
        step = rng.choice(np.array([0, 0.25, -0.25, 0.5, 1e-3], f32), base.shape)
        f["rand.w"] = (base + step).astype(f32)
cfg = write("ram_edges", "merge_method: ram\nbase_model: ram_a.h5\n"
            "models: [{model: ram_b.h5}, {model: ram_c.h5}, {model: ram_d.h5}]\n"
            "parameters: {epsilon: 0.25}\n")
outs = []
for np_, io in ((1, "collective"), (3, "independent")):
    outs.append(os.path.join(work, f"ram_edges_np{np_}.h5"))
    merge(cfg, outs[-1], np_, io, "1")
mpbtest.assert_same_tensors(*outs)
for name in ("edge.w", "rand.w"):
    base = ref.read(RAM[0], name)[0]
    want = ref.ram(0.25, base, [ref.read(p, name)[0] for p in RAM[1:]])
    check_against(outs[0], name, want, "f32")
got = mpbtest.decode(mpbtest.raw_bits(outs[0], "edge.w")[0], "f32").ravel()
assert np.isnan(got[5:9]).all() and not np.isnan(got[[0, 1, 9, 10, 12]]).any(), got
assert got[2] == 0 and np.signbit(got[2]) and got[3] == 0 and not np.signbit(got[3]), got[:5]
print("ok: ram at its edges (epsilon itself, signed zeros, NaN, inf, overflow): 2 runs "
      "identical and equal to the reference")
expect_error("ram_no_base", "merge_method: ram\nmodels: [{model: a.h5}, {model: b.h5}]\n",
             "merge_method 'ram' needs base_model")
expect_error("ram_only_base", "merge_method: ram\nbase_model: a.h5\nmodels: [{model: a.h5}]\n",
             "merge_method 'ram' needs at least 1 model besides base_model, got 0")
expect_error("ram_epsilon", "merge_method: ram\nbase_model: a.h5\nmodels: [{model: b.h5}]\n"
             "parameters: {epsilon: -0.1}\n", "epsilon must be in [0, 1) (got -0.1)")
# ---- end ram and arcee_fusion ----
# ---- arcee_fusion errors (issue 15): the key, the cause and the file ----
for case, text, says in (
        ("arcee_fusion_no_base", "models: [{model: a.h5}, {model: b.h5}]\n",
         "merge_method 'arcee_fusion' needs base_model"),
        ("arcee_fusion_three", "base_model: a.h5\nmodels: [{model: b.h5}, {model: c.h5}]\n",
         "merge_method 'arcee_fusion' needs exactly 1 model besides base_model, got 2"),
        # A base_model that is not among the models is one more input (as in
        # mergekit): two models besides it.
        ("arcee_fusion_base_elsewhere", "base_model: d.h5\nmodels: [{model: a.h5}, {model: b.h5}]\n",
         "merge_method 'arcee_fusion' needs exactly 1 model besides base_model, got 2"),
        ("arcee_fusion_only_base", "base_model: a.h5\nmodels: [{model: a.h5}]\n",
         "merge_method 'arcee_fusion' needs exactly 1 model besides base_model, got 0")):
    line = expect_error(case, "merge_method: arcee_fusion\n" + text, says)
    assert f"{case}.yaml:" in line, f"{case}: the message does not name the config: {line}"
# ---- end arcee_fusion errors ----
expect_error("sce_topk_zero", sce_config(["b.h5", "c.h5"], "{select_topk: 0}"),
             "parameters.select_topk must be above 0 (1 or more selects every element) (got 0)")
expect_error("sce_topk_negative",
             sce_config(["b.h5"], "{select_topk: [{filter: mlp, value: -0.5}, {value: 0.5}]}"),
             "select_topk must be above 0")
expect_error("sce_topk_word", sce_config(["b.h5"], "{select_topk: most}"),
             "select_topk must be a number (got 'most')")
expect_error("sce_no_base", "merge_method: sce\nmodels: [{model: b.h5}, {model: c.h5}]\n",
             "merge_method 'sce' needs base_model")
expect_error("sce_only_base", "merge_method: sce\nbase_model: a.h5\nmodels: [{model: a.h5}]\n",
             "merge_method 'sce' needs at least 1 model besides base_model")
# An existing output without --force stops the run before the statistics
# read anything.
existing = os.path.join(work, "existing.h5")
shutil.copy(A, existing)
cfg = write("exists", CASES["ties"][0])
p = mpbtest.run(2, "merge", cfg, "--out", existing, expect=1)
assert "already exists" in p.stderr, p.stderr
assert "progress" not in p.stderr
print("ok: an existing output is refused before the statistics run")

# A filter that matches no tensor is a warning naming it; the merge runs.
cfg = write("typo", "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
            "parameters:\n  lambda:\n    - {filter: self_atn, value: 0}\n    - {value: 0.5}\n")
p = mpbtest.run(2, "merge", cfg, "--out", os.path.join(work, "typo.h5"), "--quiet", expect=0)
assert "self_atn" in p.stderr and "warning" in p.stderr, p.stderr
print("ok: a filter matching no tensor warns:", p.stderr.strip().splitlines()[0])
