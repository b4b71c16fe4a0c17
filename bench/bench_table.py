"""The results table (Markdown) and the target checks of issue 6."""


def _fmt(x, spec):
    return "—" if x is None else format(x, spec)


def _ratio(num, den):
    return num / den if num is not None and den else None


def _launch_costs(variants):
    """Median launch cost per launch group (mpirun options)."""
    costs = {}
    for v in variants:
        if v.kind == "launch":
            costs.setdefault(v.launch_group, v.median())
    return costs


def table(variants, title):
    """One Markdown table: median wall, spread, ratio to the floor at the same
    process count, how many times faster than each peer, peak RSS."""
    floors = {v.procs: v.median() for v in variants if v.kind == "floor"}
    serial = next((v.median() for v in variants if v.kind == "serial"), None)
    torch = next((v.median() for v in variants if v.kind == "torch"), None)
    mpi4py = {v.procs: v.median() for v in variants if v.kind == "mpi4py"}
    launches = _launch_costs(variants)
    launch = launches.get("")
    cols = ["variant", "P", "median wall (s)", "min–max (s)", "× floor(P)"]
    if launch is not None:
        cols.append("× floor(P), launch excluded")
    if serial is not None:
        cols.append("serial ÷ this")
    if mpi4py:
        cols.append("mpi4py(P) ÷ this")
    if torch is not None:
        cols.append("torch ÷ this")
    cols += ["CPU s (user+sys)", "peak RSS (MiB)"]
    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for v in variants:
        m = v.median()
        if v.failed:
            row = [v.name, str(v.procs), "failed", "", ""] + ([""] if launch else [])
        else:
            spread = f"{min(v.walls):.2f}–{max(v.walls):.2f}" if v.walls else "—"
            row = [v.name, str(v.procs), _fmt(m, ".2f"), spread,
                   _fmt(_ratio(m, floors.get(v.procs)), ".2f")]
            if launch is not None:
                own = launches.get(v.launch_group)
                net = m - own if v.kind == "mpiblend" and m is not None and own else None
                row.append(_fmt(_ratio(net, floors.get(v.procs)), ".2f"))
        if serial is not None:
            row.append(_fmt(_ratio(serial, m), ".2f"))
        if mpi4py:
            row.append(_fmt(_ratio(mpi4py.get(v.procs), m), ".2f"))
        if torch is not None:
            row.append(_fmt(_ratio(torch, m), ".2f"))
        row.append(_fmt(v.cpu(), ".2f"))
        row.append(_fmt(v.peak(), ".0f"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _find(variants, kind, procs, io=None):
    for v in variants:
        if v.kind == kind and v.procs == procs and (io is None or f"--io {io}" in v.name):
            return v
    return None


def _check(ok, text):
    return f"- [{'met' if ok else 'NOT met'}] {text}"


def main_targets(variants, default_io):
    out = []
    f2 = _find(variants, "floor", 2)
    serial = _find(variants, "serial", 1)
    for io in ("collective", "independent"):
        tag = " (the default)" if io == default_io else ""
        m2 = _find(variants, "mpiblend", 2, io)
        if not (m2 and m2.median() and f2 and f2.median()):
            continue
        r = m2.median() / f2.median()
        launch = _launch_costs(variants).get("")
        net = f"; {(m2.median() - launch) / f2.median():.2f}× without the launch" if launch else ""
        out.append(_check(r <= 1.5, f"--io {io}{tag}, 2 ranks: {r:.2f}× the floor{net} "
                                    f"(target ≤ 1.5×, aim 1.15×)"))
        for p in (1, 2):
            mp, peer = _find(variants, "mpiblend", p, io), _find(variants, "mpi4py", p)
            if mp and peer and mp.median() and peer.median():
                s = peer.median() / mp.median()
                out.append(_check(s >= 4, f"--io {io}{tag}, {p} rank(s): {s:.2f}× faster than "
                                          f"mpi4py+h5py at {p} rank(s) (target ≥ 4×)"))
        if serial and serial.median():
            s = serial.median() / m2.median()
            out.append(_check(s >= 6, f"--io {io}{tag}, 2 ranks: {s:.2f}× faster than the "
                                      f"serial h5py script (target ≥ 6×)"))
    out += peak_targets(variants)
    return out


def peak_targets(variants):
    out = []
    for v in variants:
        if v.kind == "mpiblend" and v.peak() is not None and "--slab-mib" not in v.name:
            out.append(_check(v.peak() <= 256, f"{v.name}, P={v.procs}: peak {v.peak():.0f} MiB "
                                               f"per rank (target ≤ 256 MiB)"))
    return out


def moe_targets(variants):
    out = []
    serial = _find(variants, "serial", 1)
    for v in variants:
        if v.kind == "mpiblend" and v.median() and serial and serial.median():
            s = serial.median() / v.median()
            out.append(_check(s >= 3, f"{v.name}, P={v.procs}: {s:.2f}× faster than the serial "
                                      f"h5py script (target ≥ 3×)"))
    return out + peak_targets(variants)


def floor_targets(variants, limit=1.5):
    floors = {v.procs: v.median() for v in variants if v.kind == "floor"}
    out = []
    for v in variants:
        if v.kind == "mpiblend" and v.median() and floors.get(v.procs):
            r = v.median() / floors[v.procs]
            out.append(_check(r <= limit, f"{v.name}, P={v.procs}: {r:.2f}× the floor "
                                          f"(target ≤ {limit}×)"))
    return out


def sweep_targets(variants):
    sweep = next((v for v in variants if v.kind == "mpiblend"), None)
    merges = next((v for v in variants if v.kind == "merges"), None)
    out = [line for line in floor_targets(variants) if sweep and line.find(sweep.name) > 0]
    if sweep and merges and sweep.median() and merges.median():
        out.append(f"- the sweep is {merges.median() / sweep.median():.2f}× faster than "
                   f"9 separate merges")
    return out + peak_targets(variants)


def collective_targets(variants, moe):
    """Issue 18: --io collective within 1.1x of independent at 2 ranks; at 8
    ranks over TCP, on the MoE model, no slower than independent."""
    def pair(procs, transport):
        found = {}
        for v in variants:
            if v.kind == "mpiblend" and v.procs == procs and transport in v.name:
                found["collective" if "--io collective" in v.name else "independent"] = v
        c, i = found.get("collective"), found.get("independent")
        return (c.median(), i.median()) if c and i and c.median() and i.median() else None

    out = []
    for transport in ("shared memory", "TCP only"):
        t = pair(2, transport)
        if t:
            out.append(_check(t[0] <= 1.1 * t[1], f"2 ranks, {transport}: collective "
                                                  f"{t[0] / t[1]:.2f}× independent "
                                                  f"(target ≤ 1.1×)"))
    t = pair(8, "TCP only")
    if t:
        text = f"8 ranks, TCP only: collective {t[0] / t[1]:.2f}× independent"
        out.append(_check(t[0] <= t[1], text + " (target ≤ 1.0×)") if moe else f"- {text}")
    return out + peak_targets(variants)
