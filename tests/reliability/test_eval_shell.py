"""eval --shell runs nothing a path contains (issue 17, item 5): the
fields reach sh -c as positional parameters, so a sweep folder named
e$(touch pwned) and a template that quotes "{path}" run no touch and pass
the path intact; a field inside single quotes is refused."""
import csv
import os
import sys

import reltest

work = reltest.fresh_dir(sys.argv[1], "eval_shell")
reltest.make_inputs(work)
cfg = reltest.write_sweep_config(work, "mi-{lambda}.h5", [0, 1])
os.chdir(work)
folder = "e$(touch pwned)"
reltest.run(2, "sweep", cfg, "--out-dir", folder, "--quiet", expect=0)
score = reltest.write_config(work, "score.sh",
                             "#!/bin/sh\n[ -f \"$1\" ] || exit 9\n"
                             "printf '%s\\n' \"$1\" > \"$1.seen\"\necho 0.75\n")
os.chmod(score, 0o755)
for template in ('./score.sh "{path}"', "./score.sh {path}", './score.sh "{dir}/{name}"'):
    metric = f"m{len(template)}"
    reltest.run(1, "eval", folder, "--shell", "--metric", metric, "--cmd", template, expect=0)
    assert not os.path.exists(os.path.join(work, "pwned")), f"{template}: ran the path"
    with open(os.path.join(folder, "results.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["metric"] == metric]
    assert [r["status"] for r in rows] == ["ok", "ok"], rows
    for lam in ("0", "1"):
        seen = open(os.path.join(folder, f"mi-{lam}.h5.seen")).read().strip()
        assert seen.endswith(f"{folder}/mi-{lam}.h5"), f"{template}: the path became {seen!r}"
    print(f"ok: --shell {template!r}: no command ran, the path arrived intact")
p = reltest.run(1, "eval", folder, "--shell", "--metric", "q", "--cmd", "./score.sh '{path}'",
                expect=1)
msg = reltest.error_line(p)
assert "inside single quotes" in msg, msg
assert not os.path.exists(os.path.join(work, "pwned"))
print(f"ok: a field in single quotes is refused: {msg}")
