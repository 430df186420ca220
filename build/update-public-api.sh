#!/usr/bin/env bash
# Brings src/*/PublicAPI.Unshipped.txt in line with the code after a deliberate public API change: builds once with the
# analyzer's findings as warnings, adds each undeclared public symbol (RS0016) to its project's PublicAPI.Unshipped.txt
# and removes each declared one that is gone (RS0017) from the list that holds it. Review the diff like any other.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet build -c Release src/Ctr.MLNet.Torch/Ctr.MLNet.Torch.csproj -p:TreatWarningsAsErrors=false --no-incremental >"$log" || true
# Lines: PROJECT_DIR<TAB>SYMBOL
findings() {
    { grep -E "warning $1: " "$log" || true; } | sed -E "s/.*warning $1: Symbol '(.*)' (is not part of|is part of).*\[(.*)\/[^/]*\.csproj\]$/\3\t\1/" | sort -u
}
findings RS0016 | while IFS=$'\t' read -r project symbol; do
    printf '%s\n' "$symbol" >>"$project/PublicAPI.Unshipped.txt"
done
findings RS0017 | while IFS=$'\t' read -r project symbol; do
    for list in "$project/PublicAPI.Shipped.txt" "$project/PublicAPI.Unshipped.txt"; do
        grep -vxF -- "$symbol" "$list" >"$list.tmp" || true
        mv "$list.tmp" "$list"
    done
done
for project in src/*/; do
    [ -f "$project/PublicAPI.Unshipped.txt" ] || continue
    { head -n1 "$project/PublicAPI.Unshipped.txt"; tail -n +2 "$project/PublicAPI.Unshipped.txt" | LC_ALL=C sort -u; } >"$project/PublicAPI.tmp"
    mv "$project/PublicAPI.tmp" "$project/PublicAPI.Unshipped.txt"
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt'
