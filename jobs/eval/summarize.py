"""The JSON `mpiblend eval` reads, from what an evaluation harness wrote:
accuracy (the mean over samples of the task's score), mean generated tokens
(by the model's tokenizer when `transformers` is installed, else words, and
then says so), and the share of answers that close </think>; overall and
per task.
    summarize.py lm-eval|opencompass WORK [--model DIR] [--samples N]"""
import argparse
import glob
import json
import os
import sys

SCORES = ("exact_match", "acc", "prompt_level_strict_acc", "accuracy", "correct", "score")


def counter(model):
    try:
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(model)
        return lambda text: len(tok(text, add_special_tokens=False)["input_ids"]), "tokens"
    except Exception:  # no transformers, or no tokenizer in the folder
        return lambda text: len(text.split()), "words"


def first_score(record):
    for key in SCORES:
        v = record.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        if isinstance(v, bool):
            return float(v)
    return None


def lm_eval(work):
    """samples_TASK_*.jsonl: one line per problem, resps holding its samples."""
    tasks = {}
    for path in sorted(glob.glob(os.path.join(work, "**", "samples_*.jsonl"), recursive=True)):
        task = os.path.basename(path)[len("samples_"):].rsplit("_", 1)[0]
        for line in open(path):
            rec = json.loads(line)
            texts = [t for r in rec.get("resps", []) for t in (r if isinstance(r, list) else [r])]
            tasks.setdefault(task, []).append((first_score(rec), texts))
    return tasks


def opencompass(work):
    """results/MODEL/DATASET.json with details (--dump-eval-details)."""
    tasks = {}
    for path in sorted(glob.glob(os.path.join(work, "**", "results", "*", "*.json"),
                                 recursive=True)):
        task = os.path.splitext(os.path.basename(path))[0]
        details = json.load(open(path)).get("details", {})
        items = details.values() if isinstance(details, dict) else details
        for d in items:
            pred = d.get("prediction", d.get("predictions", ""))
            texts = pred if isinstance(pred, list) else [pred]
            tasks.setdefault(task, []).append((first_score(d), [str(t) for t in texts]))
    return tasks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("harness", choices=["lm-eval", "opencompass"])
    ap.add_argument("work")
    ap.add_argument("--model")
    ap.add_argument("--samples", type=int)
    a = ap.parse_args()
    tasks = (lm_eval if a.harness == "lm-eval" else opencompass)(a.work)
    if not tasks:
        sys.exit("summarize.py: no per-sample results under %s" % a.work)
    count, unit = counter(a.model) if a.model else ((lambda t: len(t.split())), "words")
    out, all_lengths, all_closed, accs = {}, [], [], []
    for task, problems in tasks.items():
        scores = [s for s, _ in problems if s is not None]
        texts = [t for _, ts in problems for t in ts]
        lengths = [count(t) for t in texts]
        closed = [("</think>" in t) for t in texts]
        per = len(texts) / len(problems)
        if a.samples and per != a.samples:
            print("summarize.py: %s has %.3g samples per problem, the settings say %d" %
                  (task, per, a.samples), file=sys.stderr)
        out[task] = {"acc": sum(scores) / len(scores) if scores else None,
                     "tokens": sum(lengths) / max(len(lengths), 1),
                     "think": sum(closed) / max(len(closed), 1),
                     "problems": len(problems), "samples_per_problem": per}
        if scores:
            accs.append(out[task]["acc"])
        all_lengths += lengths
        all_closed += closed
    out.update(acc=sum(accs) / len(accs) if accs else None,
               tokens=sum(all_lengths) / max(len(all_lengths), 1),
               think=sum(all_closed) / max(len(all_closed), 1), samples=len(all_lengths),
               length_unit=unit)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
