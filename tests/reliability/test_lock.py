"""A lock on a sweep's --out-dir (issue 17, item 7): a second sweep into
the same folder refuses and names the holder (host, PID, start); a lock
left by a process of this host that is gone is reclaimed with a note; a
lock of another host is never broken automatically; the lock is gone when
the sweep ends."""
import os
import socket
import subprocess
import sys
import time

import reltest

work = reltest.fresh_dir(sys.argv[1], "lock")
reltest.make_inputs(work)
cfg = reltest.write_sweep_config(work, "p-{lambda}.h5", [i / 20 for i in range(21)])
out = os.path.join(work, "out")
lock = os.path.join(out, ".mpiblend.lock")
host = socket.gethostname()


def write_lock(text):
    os.makedirs(out, exist_ok=True)
    with open(lock, "w") as f:
        f.write(text)


# Two sweeps into one folder: the second starts while the first runs.
cmd = reltest.command(2, "sweep", cfg, "--out-dir", out, "--quiet", "--max-outputs", "1",
                      "--slab-kib", "16")
first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
deadline = time.time() + 120
while not os.path.exists(lock) and first.poll() is None and time.time() < deadline:
    time.sleep(0.05)
assert os.path.exists(lock), "the first sweep never took the lock"
holder = open(lock).read()
p = reltest.run(2, "sweep", cfg, "--out-dir", out, "--quiet", expect=1)
msg = reltest.error_line(p)
pid = [l.split()[1] for l in holder.splitlines() if l.startswith("pid:")][0]
assert f"locked by PID {pid} on host {host}" in msg and "remove the lock file" in msg, msg
err = first.communicate(timeout=600)[1]
assert first.returncode == 0, f"the first sweep failed: {err}"
assert not os.path.exists(lock), "the lock outlived the sweep"
assert reltest.temp_files(out) == [], reltest.temp_files(out)
print(f"ok: a second sweep refused: {msg}")

# A holder on this host that is still running (a sleeping process).
sleeper = subprocess.Popen(["sleep", "300"])
try:
    write_lock(f"host: {host}\npid: {sleeper.pid}\nprocess_start: 0\nstarted: then\n")
    p = reltest.run(2, "sweep", cfg, "--out-dir", out, "--quiet", expect=1)
    msg = reltest.error_line(p)
    assert f"locked by PID {sleeper.pid} on host {host} since then" in msg, msg
    print(f"ok: a live holder on this host is respected: {msg}")
finally:
    sleeper.kill()
    sleeper.wait()
# The same holder, now gone: reclaimed with a note.
p = reltest.run(2, "sweep", cfg, "--out-dir", out, "--quiet", expect=0)
assert f"removed the stale lock '{lock}' of PID {sleeper.pid} on {host}" in p.stderr, p.stderr
assert not os.path.exists(lock)
print("ok: a dead holder's lock is reclaimed with a note")

# Another host's lock is never broken: the PID means nothing here.
write_lock(f"host: other-node-17\npid: {os.getpid()}\nprocess_start: 1\nstarted: then\n")
p = reltest.run(2, "sweep", cfg, "--out-dir", out, "--quiet", expect=1)
msg = reltest.error_line(p)
assert "locked by PID" in msg and "on host other-node-17" in msg, msg
os.remove(lock)
reltest.run(2, "sweep", cfg, "--out-dir", out, "--quiet", expect=0)
print(f"ok: another host's lock is refused until removed by hand: {msg}")
