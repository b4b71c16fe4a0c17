#!/usr/bin/env bash
# Checks C sources and headers against .clang-format (clang-format 14, as
# Debian 12 ships it): every tracked *.c and *.h, or the files given.  Lists
# each file clang-format would change, with the first lines of the
# difference, and exits 1 when there is any; fix one with
# `clang-format -i FILE`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
fmt="$(command -v clang-format-14 || command -v clang-format || true)"
if [ -z "$fmt" ]; then
    echo "check-format: clang-format not found (apt-get install clang-format)" >&2
    exit 2
fi
if [ $# -gt 0 ]; then
    files=("$@")
elif [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.c' '*.h')
else
    mapfile -t files < <(find util blend io mpi tests bench -name '*.[ch]' | sort)
fi
bad=0
for f in "${files[@]}"; do
    if ! out="$("$fmt" --style=file "$f" | diff -u "$f" - 2>&1)"; then
        bad=$((bad + 1))
        echo "$f"
        printf '%s\n' "$out" | sed -n '3,12p' | sed 's/^/    /'
    fi
done
if [ "$bad" -gt 0 ]; then
    echo "check-format: $bad of ${#files[@]} files differ from .clang-format ($("$fmt" --version))" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files match .clang-format"
