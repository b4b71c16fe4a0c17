"""Pretrain a tiny Qwen3-style model on sums, then fine-tune two variants
from that one base: "instruct" answers 47+38= with 85 at once, "thinking"
writes <think>7+8=15,4+3+1=8</think> first.  Writes base/, instruct/ and
thinking/ as Hugging Face folders (config.json, model.safetensors).
    /usr/bin/python3 train.py OUT_DIR base|instruct|thinking [--steps N] [--batch N]"""
import argparse
import os
import random
import time

import torch
import torch.nn.functional as F

import tinyqwen as tq


def batch(examples):
    """(prompt ids, completion ids) pairs -> inputs and targets, the loss on
    the completion only (the whole sequence when the prompt is empty)."""
    seqs = [p + c for p, c in examples]
    width = max(len(s) for s in seqs)
    x = torch.full((len(seqs), width - 1), tq.PAD)
    y = torch.full((len(seqs), width - 1), -100)
    for i, ((p, c), s) in enumerate(zip(examples, seqs)):
        x[i, : len(s) - 1] = torch.tensor(s[:-1])
        first = max(len(p) - 1, 0)
        y[i, first: len(s) - 1] = torch.tensor(s[first + 1:])
    return x, y


def pretrain_example(rng):
    """Plain text of sums: one-digit facts and two-digit sums, whole
    sequence learned (no question/answer split, no <think>)."""
    if rng.random() < 0.5:
        a, b = rng.randrange(10), rng.randrange(10)
        text = "%d+%d=%d" % (a, b, a + b)
    else:
        a, b = rng.randrange(100), rng.randrange(100)
        text = tq.question(a, b) + str(a + b)
    return [], [tq.BOS] + tq.encode(text) + [tq.EOS]


def finetune_example(rng, thinking, held_out):
    while True:
        a, b = rng.randrange(100), rng.randrange(100)
        if (a, b) not in held_out:
            break
    prompt = [tq.BOS] + tq.encode(tq.question(a, b))
    return prompt, tq.encode(tq.answer(a, b, thinking)) + [tq.EOS]


def train(model, steps, size, make, seed, lr, log):
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 50) * max(0.05, 1 - s / max(steps, 1)))
    model.train()
    t0 = time.time()
    for step in range(steps):
        x, y = batch([make(rng) for _ in range(size)])
        loss = F.cross_entropy(model(x).reshape(-1, tq.VOCAB), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            print("%s step %d/%d loss %.3f (%.0f s)" % (log, step + 1, steps, loss.item(),
                                                       time.time() - t0), flush=True)
    model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("stage", choices=["base", "instruct", "thinking"])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    # One thread each: run.sh trains the two fine-tunes at once, one per
    # core (two threads per process on two busy cores are much slower).
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if a.stage == "base":
        model = tq.Qwen3ForCausalLM(tq.Config())
        train(model, a.steps, a.batch, pretrain_example, 1, 3e-3, "base")
    else:
        # The evaluation's questions are never trained on.
        held_out = set(tq.pairs(400, seed=12345))
        thinking = a.stage == "thinking"
        model = tq.load_folder(os.path.join(a.out, "base"))
        train(model, a.steps, a.batch,
              lambda rng: finetune_example(rng, thinking, held_out), 2 + thinking, 1e-3,
              a.stage)
    tq.save_folder(model, os.path.join(a.out, a.stage))
    print("wrote %s" % os.path.join(a.out, a.stage), flush=True)


if __name__ == "__main__":
    main()
