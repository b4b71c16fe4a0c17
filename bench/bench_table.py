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
            if (v.kind == "mpiblend" and v.procs == procs and transport in v.name
                    and "--aggregate on" not in v.name):
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


def _by_name(variants):
    return {v.name: v for v in variants}


def _read_gb(v):
    """Median bytes read per run, from mpiblend's summary line, in GB."""
    if not v.read_bytes:
        return None
    s = sorted(v.read_bytes)
    return s[len(s) // 2] / 1e9


def methods_table(variants, title):
    """The methods suite: each variant against its own baseline (a method
    against the floor of the inputs it reads, a peer against mpiblend's run
    of the same method), against interpolate, and its bytes read."""
    named = _by_name(variants)
    interp = named.get("mpiblend interpolate")
    cols = ["variant", "P", "median wall (s)", "min–max (s)", "× own floor", "× interpolate",
            "÷ mpiblend (peers)", "read (GB)", "read ÷ inputs", "CPU s (user+sys)",
            "peak RSS (MiB)"]
    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for v in variants:
        m = v.median()
        base = named.get(v.baseline)
        own_floor = base.median() if base is not None and base.kind == "floor" else None
        peer_of = base.median() if base is not None and base.kind == "mpiblend" else None
        gb = _read_gb(v)
        spread = f"{min(v.walls):.2f}–{max(v.walls):.2f}" if v.walls else "—"
        runs = f" ({len(v.walls)} run{'s' if len(v.walls) != 1 else ''})" if v.max_runs else ""
        row = [v.name + runs, str(v.procs), "failed" if v.failed else _fmt(m, ".2f"), spread,
               _fmt(_ratio(m, own_floor), ".2f"),
               _fmt(_ratio(m, interp.median() if interp else None), ".2f")
               if v.kind == "mpiblend" else "—",
               _fmt(_ratio(m, peer_of), ".2f"),
               _fmt(gb, ".2f"),
               _fmt(_ratio(gb * 1e9 if gb else None, v.input_bytes), ".2f"),
               _fmt(v.cpu(), ".2f"), _fmt(v.peak(), ".0f")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


BUDGET_MIB = 2048  # mpiblend's default --memory-mib


def methods_targets(variants):
    """Issue 14's targets for each method, and the TIES peer's."""
    named = _by_name(variants)
    interp = named.get("mpiblend interpolate")
    out = []
    for v in variants:
        m = v.median()
        if v.kind == "mpiblend" and m and v.peak() is not None:
            out.append(_check(v.peak() <= BUDGET_MIB + 64,
                              f"{v.name}: peak {v.peak():.0f} MiB per rank (target ≤ the "
                              f"{BUDGET_MIB} MiB budget + 64 MiB)"))
        if v.kind == "mpiblend" and m and v.name.startswith("mpiblend sweep"):
            one = named.get(v.baseline)
            if one and one.median():
                r = m / one.median()
                out.append(_check(r <= 2.5, f"{v.name}: {r:.2f}× one ties merge "
                                            f"(target ≤ 2.5×)"))
            continue
        if v.kind == "mpiblend" and m:
            gb = _read_gb(v)
            if gb is not None and v.input_bytes:
                r = gb * 1e9 / v.input_bytes
                out.append(_check(r <= 1.05, f"{v.name}: reads {r:.2f}× its input bytes "
                                             f"(target ≤ 1.05×)"))
            if interp and interp.median() and v is not interp:
                r = m / interp.median()
                out.append(_check(r <= 2, f"{v.name}: {r:.2f}× the interpolate merge's wall "
                                          f"time (target ≤ 2×)"))
            f = named.get(v.baseline)
            if f and f.median():
                r = m / f.median()
                out.append(_check(r <= 1.5, f"{v.name}: {r:.2f}× its own floor "
                                            f"(target ≤ 1.5×)"))
        if v.kind == "torch-method" and m:
            ours = named.get(v.baseline)
            if ours and ours.median():
                r = m / ours.median()
                text = f"{v.name}: {r:.2f}× slower than {ours.name}"
                out.append(_check(r >= 5, text + " (target ≥ 5×)")
                           if v.baseline == "mpiblend ties" else f"- {text}")
    return out
