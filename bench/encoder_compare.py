#!/usr/bin/env python3
"""The sentence encoder next to its reference, sentence-transformers (bench/encoder.sh runs this).

  sentences --data DIR --out FILE --queries FILE
      picks 1,000 sentences (product titles and descriptions from several catalogs, customer-service
      utterances, Home Depot queries; fixed seeds, so the same ones every run) and 200 short search
      queries, one per line. Standard library only.
  reference --model DIR --in FILE --out FILE.npy --ids-out FILE --queries FILE
      embeds them with sentence-transformers (in the bench venv) and prints one JSON line of timings.
  compare --ours A.npy --ref B.npy --ours-ids FILE --ref-ids FILE --ours-json FILE --ref-json FILE
      cosine min/mean per sentence, token-id agreement, throughput of both and their ratio.
"""
import argparse
import csv
import gzip
import io
import json
import os
import random
import re
import sys
import time


def _open(path, encoding="utf-8"):
    raw = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")


def _column(path, column, encoding="utf-8"):
    with _open(path, encoding) as f:
        return [row[column] for row in csv.DictReader(f) if row.get(column)]


def _clean(text):
    return re.sub(r"\s+", " ", text).strip()


def _pick(values, n, seed):
    seen, unique = set(), []
    for v in map(_clean, values):
        if v and v not in seen:
            seen.add(v)
            unique.append(v)
    return random.Random(seed).sample(unique, min(n, len(unique)))


def cmd_sentences(args):
    d = args.data
    clinc = json.load(open(os.path.join(d, "clinc150/data_full.json")))
    hd = os.path.join(d, "home-depot-search-relevance/judgments.dev.csv.gz")
    sources = [
        ("myntra titles", _column(os.path.join(d, "myntra-products-catalog/myntra_products_catalog.csv"), "ProductName"), 120),
        ("myntra descriptions", _column(os.path.join(d, "myntra-products-catalog/myntra_products_catalog.csv"), "Description"), 120),
        ("bigbasket products", _column(os.path.join(d, "bigbasket-products/bigbasket_products.csv.gz"), "product"), 100),
        ("fashion styles", _column(os.path.join(d, "fashion-product-styles/styles.csv.gz"), "productDisplayName"), 80),
        ("instacart products", _column(os.path.join(d, "instacart/products.csv"), "product_name"), 60),
        ("online retail items", _column(os.path.join(d, "online-retail-uci-nonuk/online_retail_nonuk.csv.gz"), "Description", "utf-8-sig"), 60),
        ("bitext utterances", _column(os.path.join(d, "bitext-customer-service-intent/Bitext_Sample_Customer_Service_Training_Dataset.csv"), "utterance"), 100),
        ("clinc150 utterances", [t for t, _ in clinc["train"]], 100),
        ("banking77 utterances", _column(os.path.join(d, "banking77/train.csv"), "text"), 100),
        ("home depot queries", _column(hd, "search_term", "latin-1"), 100),
        ("home depot titles", _column(hd, "product_title", "latin-1"), 60),
    ]
    out = []
    for i, (name, values, n) in enumerate(sources):
        picked = _pick(values, n, 1000 + i)
        print(f"  {name}: {len(picked)}", file=sys.stderr)
        out.extend(picked)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    queries = [q for q in _pick(_column(hd, "search_term", "latin-1"), 5000, 7) if 3 <= len(q.split()) <= 5][:200]
    with open(args.queries, "w", encoding="utf-8") as f:
        f.write("\n".join(queries) + "\n")
    print(f"  {len(out)} sentences, {len(queries)} queries", file=sys.stderr)


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def cmd_reference(args):
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model = SentenceTransformer(args.model, device="cpu")
    load_s = time.perf_counter() - started
    texts = _lines(args.__dict__["in"])
    ids = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
    with open(args.ids_out, "w") as f:
        for row in ids:
            f.write(" ".join(map(str, row)) + "\n")
    tokens = sum(len(row) for row in ids)
    model.encode(texts[:64], batch_size=args.batch_size)  # warm-up, as ours gets one
    started = time.perf_counter()
    emb = model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True, normalize_embeddings=True)
    encode_s = time.perf_counter() - started
    np.save(args.out, emb.astype(np.float32))

    queries = _lines(args.queries)
    for q in queries[:50]:
        model.encode([q])
    ms = []
    for r in range(args.query_rounds):
        t0 = time.perf_counter()
        model.encode([queries[r % len(queries)]])
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    print(json.dumps({
        "bench": "encoder", "impl": "sentence-transformers",
        "versions": f"sentence-transformers {__import__('sentence_transformers').__version__}, torch {torch.__version__}",
        "threads": args.threads, "batch_size": args.batch_size, "max_seq_length": model.max_seq_length,
        "sentences": len(texts), "tokens": tokens, "load_s": round(load_s, 3), "encode_s": round(encode_s, 3),
        "sentences_per_s": round(len(texts) / encode_s, 1), "tokens_per_s": round(tokens / encode_s),
        "query_p50_ms": round(ms[len(ms) // 2], 3), "query_p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 3),
    }))


def cmd_compare(args):
    import numpy as np

    ours, ref = np.load(args.ours).astype(np.float64), np.load(args.ref).astype(np.float64)
    if ours.shape != ref.shape:
        sys.exit(f"encoder_compare: shapes differ: ours {ours.shape}, reference {ref.shape}")
    cos = (ours * ref).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
    ids_ours, ids_ref = open(args.ours_ids).read().splitlines(), open(args.ref_ids).read().splitlines()
    same_ids = sum(a == b for a, b in zip(ids_ours, ids_ref))
    o, r = json.load(open(args.ours_json)), json.load(open(args.ref_json))
    worst = int(cos.argmin())
    print(json.dumps({
        "bench": "encoder_compare", "sentences": len(cos), "tokens": o["tokens"],
        "cosine_min": round(float(cos.min()), 12), "cosine_mean": round(float(cos.mean()), 12),
        "below_0_999": int((cos < 0.999).sum()), "token_ids_equal": same_ids, "worst_sentence": worst,
        "ours_sentences_per_s": o["sentences_per_s"], "ref_sentences_per_s": r["sentences_per_s"],
        "ours_tokens_per_s": o["tokens_per_s"], "ref_tokens_per_s": r["tokens_per_s"],
        "ratio": round(o["sentences_per_s"] / r["sentences_per_s"], 2),
        "ours_query_p50_ms": o["query_p50_ms"], "ours_query_p99_ms": o["query_p99_ms"],
        "ref_query_p50_ms": r["query_p50_ms"], "ref_query_p99_ms": r["query_p99_ms"],
        "query_tokens_mean": o["query_tokens_mean"],
    }))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sentences")
    s.add_argument("--data", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--queries", required=True)
    r = sub.add_parser("reference")
    r.add_argument("--model", required=True)
    r.add_argument("--in", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--ids-out", required=True)
    r.add_argument("--queries", required=True)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--batch-size", type=int, default=32)
    r.add_argument("--query-rounds", type=int, default=1000)
    c = sub.add_parser("compare")
    for name in ("ours", "ref", "ours-ids", "ref-ids", "ours-json", "ref-json"):
        c.add_argument("--" + name, required=True)
    args = p.parse_args()
    {"sentences": cmd_sentences, "reference": cmd_reference, "compare": cmd_compare}[args.cmd](args)


if __name__ == "__main__":
    main()
