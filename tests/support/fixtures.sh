# Sourced by the CLI tests: the reference fixtures as tests/check.h finds them (see there and
# tests/fixtures/README.md). $FIXTURES is the folder to read, as an absolute path (tests link to
# its files): the full set, or else the compact copy.
FIXTURES_FULL=${A2I2A_FIXTURES:-${A2I2A_FIXTURES_CONFIGURED:-../shared/fixtures}}
if [ -d "$FIXTURES_FULL" ]; then fixtures_full=1; else fixtures_full=0; fi
[ $fixtures_full = 1 ] && FIXTURES=$(cd "$FIXTURES_FULL" && pwd) || FIXTURES=$(cd tests/fixtures && pwd)
fixtures_left_out=0

# One line: who needs the full set, where it was looked for, how to point to it.
fixtures_say_missing() {
  echo "$1 the full fixture set, not found at $FIXTURES_FULL (point A2I2A_FIXTURES to it: in the environment, or cmake -DA2I2A_FIXTURES=DIR)"
}

# fixture_case REL: whether to run a case that reads $FIXTURES/REL: always with the full set (a
# file missing there fails the case); with the compact set only where it holds REL.
fixture_case() {
  [ $fixtures_full = 1 ] || [ -e "$FIXTURES/$1" ] && return 0
  fixtures_left_out=$((fixtures_left_out + 1))
  return 1
}

# For a test that can run nothing without the full set: skipped (exit 77).
fixtures_need_full() {
  [ $fixtures_full = 1 ] && return 0
  fixtures_say_missing "SKIPPED: this test needs"
  exit 77
}

# After the test's "N passed, N failed" line: the cases the compact set left out, if any.
fixtures_done() {
  case $fixtures_left_out in
  0) ;; 1) fixtures_say_missing "LEFT OUT: 1 case needs" ;; *) fixtures_say_missing "LEFT OUT: $fixtures_left_out cases need" ;;
  esac
}
