"""Scores one model folder on held-out two-digit sums, greedy decoding:
prints {"acc": share answered right, "tokens": mean generated tokens
(</s> included), "think": share of answers that close </think>}.
    /usr/bin/python3 evaluate.py FOLDER [--questions N]"""
import argparse
import json

import torch

import tinyqwen as tq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--max-new", type=int, default=40)
    a = ap.parse_args()
    torch.set_num_threads(1)  # mpiblend eval --jobs runs several at once
    model = tq.load_folder(a.folder)
    qs = tq.pairs(a.questions, seed=12345)
    prompts = [[tq.BOS] + tq.encode(tq.question(x, y)) for x, y in qs]
    outs = tq.generate(model, prompts, a.max_new)
    right = tokens = closed = 0
    for (x, y), ids in zip(qs, outs):
        tokens += len(ids)
        has_close = tq.END_THINK in ids
        closed += has_close
        rest = ids[len(ids) - ids[::-1].index(tq.END_THINK):] if has_close else ids
        right += tq.decode(rest) == str(x + y) and (not rest or rest[-1] == tq.EOS)
    n = len(qs)
    print(json.dumps({"acc": right / n, "tokens": tokens / n, "think": closed / n,
                      "questions": n}))


if __name__ == "__main__":
    main()
