#!/usr/bin/env bash
# Type-checks every test folder (tests/, deploy/helm/tests/, each lib's and each service's
# tests/) on the tests' profile: pyproject.toml's `[[tool.mypy.overrides]]` for the test
# modules (bodies checked, test functions may go unannotated). `make lint` runs it.
#
# mypy names a module by its path from the repository root, which gives every conftest.py and
# fakes.py a name of its own (services.rewards.tests.unit.fakes, ...). Two kinds of folder
# cannot be named that way, so they get runs of their own:
# - a unit folder that its conftest.py makes importable under a package name of its own
#   (`types.ModuleType("entitlements_unit")`): checked through a link of that name, since
#   its modules import each other by it;
# - a service whose folder name is no Python name (services/usage-ingest): its tests/ is
#   checked from the service's folder, as the package `tests`.
set -euo pipefail
cd "$(dirname "$0")/.."
mypy=(mypy)  # the environment's: `uv run --frozen bash scripts/mypy-tests.sh`, as `make lint` does

# links at a fixed place, so that mypy's incremental cache keeps meeting the same paths
aliases=.mypy_cache/test-packages
rm -rf "$aliases" && mkdir -p "$aliases"
aliased=()  # the folders checked under their package name
readable=() # sed expressions: a link's path in mypy's messages back to the folder's
for conftest in services/*/tests/unit/conftest.py libs/*/tests/unit/conftest.py; do
    name=$(sed -n 's/^_package = types\.ModuleType("\([A-Za-z_][A-Za-z0-9_]*\)")$/\1/p' "$conftest")
    [ -n "$name" ] || continue
    folder=$(dirname "$conftest")
    ln -s "$PWD/$folder" "$aliases/$name"
    aliased+=("$folder/")
    readable+=(-e "s|^$aliases/$name/|$folder/|")
done

# the test files of one or more folders, less those of the aliased folders
test_files() {
    find "$@" -name "*.py" -not -path "*/migrations/*" | sort | while read -r file; do
        for folder in "${aliased[@]}"; do
            [[ "$file" == "$folder"* ]] && continue 2
        done
        echo "$file"
    done
}

named=(tests deploy/helm/tests)
unnamed=()
for folder in libs/*/tests services/*/tests; do
    service=$(dirname "$folder")
    if [[ "$(basename "$service")" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        named+=("$folder")
    else
        unnamed+=("$service")
    fi
done

mapfile -t files < <(test_files "${named[@]}"; find -L "$aliases" -name "*.py" | sort)
MYPYPATH="$aliases" "${mypy[@]}" "${files[@]}" | sed "${readable[@]}" -e ''
for service in "${unnamed[@]}"; do
    mapfile -t files < <(test_files "$service/tests")
    # the aliases too: its integration tests may import its unit folder by its package name
    [ ${#files[@]} -eq 0 ] || MYPYPATH="$service:$aliases" "${mypy[@]}" "${files[@]}"
done
