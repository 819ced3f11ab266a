#!/bin/sh
# Print the path of a working Python interpreter of version $1 (e.g. 3.13): pythonX.Y on PATH, else one that pyenv
# installed. Without one, say so in one line on stderr and exit 2. Used by `make test-colab`.
set -u
version="$1"
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for candidate in "python$version" ${root:+"$root"/versions/"$version"*/bin/python"$version"}; do
    # pyenv's shims exist for every installed version but fail unless that version is selected: run each one.
    path="$(command -v "$candidate" 2>/dev/null)" || continue
    if "$path" -c "import sys; sys.exit(('%d.%d' % sys.version_info[:2]) != '$version')" 2>/dev/null; then
        "$path" -c "import sys; print(sys.executable)"
        exit 0
    fi
done
echo "no Python $version found (neither python$version on PATH nor one installed by pyenv): install it, or name it with COLAB_PYTHON=/path/to/python$version" >&2
exit 2
