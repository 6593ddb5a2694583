# The CLI tests' counters, sourced by each tests/cli_*.sh (from the repository root):
#   ok NAME EXPR   evaluates EXPR; counts a pass, or prints "FAIL: NAME" and counts a failure
#   ok             counts a pass (the caller checked)
#   bad MESSAGE    prints "FAIL: MESSAGE" and counts a failure
pass=0; fail=0
#   (EXPR sees in $? the status of the command before the call, as tests write '[ $? -eq 2 ]')
ok() {
  local last=$?
  [ $# -eq 0 ] && { pass=$((pass + 1)); return; }
  ok_status $last
  if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
ok_status() { return "$1"; }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
