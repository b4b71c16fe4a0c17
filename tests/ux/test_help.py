"""Every command's --help names every option its parser accepts, the parser
accepts every option the help names, the man page documents them all, and
a mistyped option or command gets the fix suggested.

The options are read from the source table (cli/mpb_cli_table.c), not from
the binary, so a row the help or the parser drops makes this test fail."""
import glob
import os
import re
import sys

import mpbtest

SRC = os.environ["MPB_SOURCE_DIR"]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def command_bits():
    """CMD_* names -> bit masks, from the enums and #defines of cli/*.h."""
    bits = {}
    text = "\n".join(read(h) for h in sorted(glob.glob(os.path.join(SRC, "cli", "*.h"))))
    for name, expr in re.findall(r"\b(CMD_\w+)\s*=\s*([^,\n]+),", text):
        bits[name] = expr
    for name, expr in re.findall(r"#define\s+(CMD_\w+)\s+(.+)", text):
        bits[name] = expr
    resolved = {}

    def value(name):
        if name not in resolved:
            expr = bits[name].replace("1u", "1").replace("~0u", "-1")
            expr = re.sub(r"CMD_\w+", lambda m: str(value(m.group(0))), expr)
            assert re.fullmatch(r"[\d\s|()<~-]+", expr), f"cannot evaluate {name} = {bits[name]}"
            resolved[name] = eval(expr)  # digits and | << ~ ( ) only, checked above
        return resolved[name]

    return {n: value(n) for n in bits}


def table():
    """(commands: name -> bit, options: [(name, arg or None, bitmask)])."""
    text = read(os.path.join(SRC, "cli", "mpb_cli_table.c"))
    bits = command_bits()
    opts_text = text[text.index("mpb_cli_options[] = {"):]
    opts_text = opts_text[:opts_text.index("\n};")]
    options = []
    for name, arg, expr in re.findall(
            r'\{\s*"([a-z0-9-]+)",\s*OPT_\w+,\s*(NULL|"[^"]*"),\s*([^,]+),', opts_text):
        mask = 0
        for part in expr.split("|"):
            mask |= bits[part.strip()]
        options.append((name, None if arg == "NULL" else arg.strip('"'), mask))
    cmds_text = text[text.index("mpb_cli_commands[] = {"):]
    cmds_text = cmds_text[:cmds_text.index("\n};")]
    commands = {n: bits[b] for n, b in re.findall(r'\{\s*"([a-z]+)",\s*(CMD_\w+),', cmds_text)}
    assert commands and options, "could not read the tables from cli/mpb_cli_table.c"
    return commands, options


def sample_value(arg):
    """A value the option accepts, from its metavariable."""
    if "|" in arg:
        return arg.split("|")[0].strip("'")
    if len(arg) == 1:  # N, S, T: numbers
        return "1"
    return {"SIZE": "5GB", "ARCH": "tiny", "KEY=VALUE": "cb_nodes=1",
            "FILE": "/dev/null"}.get(arg, "x")


def mentions(text, option):
    return re.search(r"--" + re.escape(option) + r"(?![\w-])", text) is not None


commands, options = table()

# The main help lists exactly the table's commands.
main = mpbtest.run(1, "--help", expect=0).stdout
listed = re.findall(r"^  ([a-z]+)\s", main.split("commands:")[1], re.M)
assert sorted(listed) == sorted(commands), f"--help lists {listed}, the table {sorted(commands)}"
assert "--version" in main, "the main help does not mention --version"

for cmd, bit in commands.items():
    accepted = [(n, a) for n, a, mask in options if mask & bit]
    names = sorted({n for n, _ in accepted})
    # The parser takes every option the table gives the command (one run:
    # all of them with valid values, then --help, which prints the help).
    args = []
    for n, a in accepted:
        if n != "help":
            args += [f"--{n}"] + ([sample_value(a)] if a else [])
    p = mpbtest.run(1, cmd, *args, "--help")
    assert p.returncode == 0, f"'{cmd}' refused its own options {args}: {p.stderr.strip()}"
    help_text = p.stdout
    missing = [n for n in names if not mentions(help_text, n)]
    assert not missing, f"'{cmd} --help' does not mention {missing}"
    shown = set(re.findall(r"^  --([a-z0-9-]+)", help_text, re.M))
    extra = sorted(shown - set(names))
    assert not extra, f"'{cmd} --help' lists {extra}, which its parser does not take"
    print(f"ok: {cmd}: {len(names)} options in the help and accepted")

# The man page documents every command and option (roff: \- is a hyphen).
man = re.sub(r"\\f[BIRP]", "", read(os.path.join(SRC, "docs", "mpiblend.1"))).replace("\\-", "-")
for cmd in commands:
    assert re.search(r"\b" + cmd + r"\b", man), f"docs/mpiblend.1 does not describe '{cmd}'"
undocumented = sorted({n for n, _, _ in options if not mentions(man, n)})
assert not undocumented, f"docs/mpiblend.1 does not document {undocumented}"
print(f"ok: docs/mpiblend.1 covers {len(commands)} commands and every option")

# Mistakes get the fix suggested, on one line, with the usage exit status.
for args, want in [
        (("merge", "x.yaml", "--out", "o.h5", "--slab-mb", "8"), "did you mean --slab-mib?"),
        (("merge", "x.yaml", "--dryrun"), "did you mean --dry-run?"),
        (("merge", "x.yaml", "--arch", "tiny"), "'synth'"),
        (("merge", "x.yaml", "--out"), "--out PATH"),
        (("distance", "a.h5", "b.h5", "--jsno"), "did you mean --json?"),
        (("merg", "x.yaml"), "did you mean 'merge'?")]:
    p = mpbtest.run(1, *args, expect=2)
    lines = [l for l in p.stderr.splitlines() if l.startswith("mpiblend")]  # not mpiexec's
    assert len(lines) == 1 and want in lines[0], f"{args}: expected one line with {want!r}, got {lines}"
    print(f"ok: {' '.join(args)} -> {lines[0]}")

# --version: the project's version first, for scripts.
version = re.search(r"project\(mpiblend VERSION ([\d.]+)", read(os.path.join(SRC, "CMakeLists.txt"))).group(1)
first = mpbtest.run(1, "--version", expect=0).stdout.splitlines()[0]
assert first == f"mpiblend {version}", f"--version prints {first!r}"
print(f"ok: {first}")
