# The CLI tests' counters, sourced by each tests/cli_*.sh (from the repository root):
#   ok NAME EXPR   evaluates EXPR; counts a pass, or prints "FAIL: NAME" and counts a failure
#   ok             counts a pass (the caller checked)
#   bad MESSAGE    prints "FAIL: MESSAGE" and counts a failure
pass=0; fail=0
ok() {
  if [ $# -eq 0 ] || eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
