"""Progress in batch logs (stderr not a terminal): every `progress:` line
parses, bytes and tensors never go back, the totals are the job's (the
output's tensor bytes, not rank 0's share), the last line is complete, and
one `summary:` line reports the exact bytes read and written.  --quiet
prints none of it."""
import os
import re

import mpbtest
import uxtest

work = uxtest.workdir("progress")
a = uxtest.synth(work, "a.h5", 1)
b = uxtest.synth(work, "b.h5", 2)
cfg = uxtest.config(work, "interp.yaml", "merge_method: interpolate\nmodels:\n"
                    "  - model: a.h5\n  - model: b.h5\nparameters:\n  lambda: 0.3\n")
in_bytes = sum(uxtest.dataset_bytes(a).values())
n_tensors = len(uxtest.dataset_bytes(a))

PROGRESS = re.compile(
    r"progress: (\w+) (\d+\.\d)% (\d+\.\d{3})/(\d+\.\d{3})GB bytes=(\d+)/(\d+) "
    r"rate=(\d+\.\d+)GB/s tensors=(\d+)/(\d+) elapsed=(\S+) eta=(\S+)")
SUMMARY = re.compile(
    r"summary: (\w+) wall=(\d+\.\d+)s read_bytes=(\d+) written_bytes=(\d+) read=(\S+)GB "
    r"written=(\S+)GB rate=(\S+)GB/s peak_rss_max_rank=(\d+)MiB output=(.+)")


def check_log(stderr, what, total, tensors_total):
    """The progress lines of one pass and the summary; returns the summary match."""
    lines = [l for l in stderr.splitlines() if l.startswith(("progress:", "summary:"))]
    progress = [PROGRESS.fullmatch(l) for l in lines if l.startswith("progress:")]
    summaries = [SUMMARY.fullmatch(l) for l in lines if l.startswith("summary:")]
    assert progress and all(progress), f"unparsable progress lines in:\n{stderr}"
    assert len(summaries) == 1 and summaries[0], f"expected one summary line in:\n{stderr}"
    assert lines[-1].startswith("summary:"), "the summary is not the last line"
    done_prev, tensors_prev = -1, 0
    for m in progress:
        assert m.group(1) == what
        done, tot = int(m.group(5)), int(m.group(6))
        assert tot == total, f"total {tot} bytes, expected the job's {total}"
        assert done >= done_prev, f"bytes went back: {done} after {done_prev}"
        assert int(m.group(9)) == tensors_total
        assert int(m.group(8)) >= tensors_prev, "tensors went back"
        assert abs(float(m.group(2)) - 100.0 * done / tot) < 0.05 + 1e-9, m.group(0)
        done_prev, tensors_prev = done, int(m.group(8))
    last = progress[-1]
    assert int(last.group(5)) == total and last.group(2) == "100.0" and \
        int(last.group(8)) == tensors_total, f"last line incomplete: {last.group(0)}"
    return summaries[0], len(progress)


for ranks, io in ((1, "independent"), (2, "independent"), (3, "collective")):
    out = os.path.join(work, f"out{ranks}.h5")
    # 1 KiB slabs: about 1800 items, so a batch log gets several lines.
    p = mpbtest.run(ranks, "merge", cfg, "--out", out, "--slab-kib", "1", "--io", io,
                    "--progress-secs", "0.01", expect=0)
    out_bytes = sum(uxtest.dataset_bytes(out).values())
    assert out_bytes == in_bytes
    summary, n_lines = check_log(p.stderr, "merge", out_bytes, n_tensors)
    assert int(summary.group(3)) == 2 * in_bytes, f"read_bytes {summary.group(3)}"
    assert int(summary.group(4)) == out_bytes, f"written_bytes {summary.group(4)}"
    assert summary.group(9) == out
    assert p.stdout == "", "progress belongs on stderr"
    print(f"ok: merge on {ranks} ranks ({io}): {n_lines} progress lines, {out_bytes} bytes")

# distance reports its progress over all its batches the same way.
p = mpbtest.run(2, "distance", a, b, "--slab-kib", "1", "--progress-secs", "0.01", expect=0)
summary, n_lines = check_log(p.stderr, "distance", in_bytes, n_tensors)
assert int(summary.group(3)) == 2 * in_bytes and int(summary.group(4)) == 0
print(f"ok: distance: {n_lines} progress lines")

quiet = mpbtest.run(2, "merge", cfg, "--out", os.path.join(work, "quiet.h5"), "--quiet",
                    expect=0)
noise = [l for l in quiet.stderr.splitlines() if l.startswith(("progress:", "summary:"))]
assert noise == [], f"--quiet printed {noise}"
print("ok: --quiet prints no progress")
