#!/usr/bin/env python3
"""The reference side of bench/recommend.sh: implicit's ALS on the matrix recommend_bench wrote.

  reference --matrix M.bin --data LABEL [--factors 64 --iterations 10 --regularization 30
            --alpha 3 --threads 2 --seed 42]
      fits implicit's CPU AlternatingLeastSquares (conjugate gradient) on exactly that matrix and
      prints one JSON line like recommend_bench's ({"bench":"recommend_als","impl":"implicit",...}).
      implicit takes the matrix values as the confidence c itself, where ours uses c = 1 + alpha r:
      it is fed 1 + alpha r with its own alpha = 1, so both solve the same problem. Seconds per
      iteration are the median of what fit's callback reports; "loss" is the objective of als.h
      computed from implicit's factors, to set next to ours.
  compare --ours OURS.json --ref REF.json
      one JSON line with the ratio ours / implicit of seconds per iteration (goal <= 1.0).

The matrix file (little-endian): b"EMPCSR01", int32 rows, int32 cols, int64 nnz,
int64 indptr[rows + 1], int32 indices[nnz], float32 values[nnz].
"""

import argparse
import json
import statistics
import time


def load_matrix(path):
    import numpy as np

    raw = bytearray(open(path, "rb").read())  # writable: implicit's solver wants writable arrays
    if raw[:8] != b"EMPCSR01":
        raise SystemExit(f"{path}: not a recommend_bench matrix")
    rows, cols = (int(v) for v in np.frombuffer(raw, "<i4", 2, 8))
    nnz = int(np.frombuffer(raw, "<i8", 1, 16)[0])
    offset = 24
    indptr = np.frombuffer(raw, "<i8", rows + 1, offset)
    offset += 8 * (rows + 1)
    indices = np.frombuffer(raw, "<i4", nnz, offset)
    offset += 4 * nnz
    values = np.frombuffer(raw, "<f4", nnz, offset)
    offset += 4 * nnz
    if offset != len(raw):
        raise SystemExit(f"{path}: {len(raw) - offset} trailing bytes")
    return rows, cols, indptr, indices, values


def loss(x, y, indptr, indices, values, alpha, regularization):
    """Σ c (p − x·y)² + λ(‖X‖² + ‖Y‖²) over all pairs, as AlsModel::Loss computes it."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    gx, gy = x.T @ x, y.T @ y
    total = float((gx * gy).sum())
    users = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    chunk = 500_000
    for start in range(0, len(indices), chunk):
        u = users[start : start + chunk]
        i = indices[start : start + chunk]
        s = np.einsum("ij,ij->i", x[u], y[i])
        c = 1.0 + alpha * values[start : start + chunk].astype(np.float64)
        total += float((c * (1 - s) ** 2 - s * s).sum())
    return total + regularization * (np.trace(gx) + np.trace(gy))


def reference(args):
    from threadpoolctl import threadpool_info, threadpool_limits

    # implicit's own advice: BLAS single-threaded, the parallelism in its solver's threads.
    threadpool_limits(1, "blas")
    import implicit
    import numpy as np
    from implicit.als import AlternatingLeastSquares
    from scipy.sparse import csr_matrix

    rows, cols, indptr, indices, values = load_matrix(args.matrix)
    confidence = (1.0 + args.alpha * values).astype(np.float32)
    c = csr_matrix((confidence, indices, indptr), shape=(rows, cols), dtype=np.float32)
    model = AlternatingLeastSquares(
        factors=args.factors,
        regularization=args.regularization,
        alpha=1.0,
        iterations=args.iterations,
        use_cg=True,
        use_gpu=False,
        calculate_training_loss=False,
        num_threads=args.threads,
        random_state=args.seed,
    )
    per_iteration = []
    started = time.perf_counter()
    model.fit(c, show_progress=False, callback=lambda _it, seconds, _loss: per_iteration.append(seconds))
    fit_s = time.perf_counter() - started
    blas = next((b for b in threadpool_info() if b.get("user_api") == "blas"), {})
    print(
        json.dumps(
            {
                "bench": "recommend_als",
                "impl": "implicit",
                "version": implicit.__version__,
                "blas": f"{blas.get('internal_api', '?')} {blas.get('architecture', '?')}",
                "data": args.data,
                "users": rows,
                "items": cols,
                "nnz": int(c.nnz),
                "factors": args.factors,
                "threads": args.threads,
                "iterations": args.iterations,
                "seconds_per_iteration": round(statistics.median(per_iteration), 4),
                "first_iteration_s": round(per_iteration[0], 4),
                "fit_s": round(fit_s, 3),
                "loss": float(
                    f"{loss(model.user_factors, model.item_factors, indptr, indices, values, args.alpha, args.regularization):.6g}"
                ),
            },
            separators=(",", ":"),
        )
    )


def compare(args):
    ours = json.load(open(args.ours))
    ref = json.load(open(args.ref))
    print(
        json.dumps(
            {
                "bench": "recommend_als_ratio",
                "data": ours["data"],
                "emporium_s_per_iteration": ours["seconds_per_iteration"],
                "implicit_s_per_iteration": ref["seconds_per_iteration"],
                "ratio": round(ours["seconds_per_iteration"] / ref["seconds_per_iteration"], 2),
                "loss_ratio": round(ours["loss"] / ref["loss"], 4),
            },
            separators=(",", ":"),
        )
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("reference")
    r.add_argument("--matrix", required=True)
    r.add_argument("--data", required=True)
    r.add_argument("--factors", type=int, default=64)
    r.add_argument("--iterations", type=int, default=10)
    r.add_argument("--regularization", type=float, default=30)
    r.add_argument("--alpha", type=float, default=3)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--seed", type=int, default=42)
    c = sub.add_parser("compare")
    c.add_argument("--ours", required=True)
    c.add_argument("--ref", required=True)
    args = p.parse_args()
    {"reference": reference, "compare": compare}[args.command](args)


if __name__ == "__main__":
    main()
