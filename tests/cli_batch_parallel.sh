# a2i2a batch spread by GNU parallel, as docs/scale-out.md shows it: one process per item
# (--list | parallel --item {}), and one per shard; every item done once, batch.json whole, and
# the result byte for byte a batch run in one process.
set -u
. tests/support/ok.sh
if ! parallel --version 2>/dev/null | grep -q "GNU parallel"; then
  [ "${A2I2A_FIXTURES_REQUIRED:-}" = 1 ] && { echo "GNU parallel is missing (scripts/install-deps.sh installs it)"; exit 1; }
  echo "skipped: GNU parallel is not installed (Debian package parallel, in scripts/install-deps.sh)"
  exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
unset A2I2A_MODEL
. tests/support/batch.sh
sounds "$T/lib" 4

# 4 sounds x 2 seeds = 8 items, first in one process
"$A2I2A" batch "$T/lib" -o "$T/one" $QUICK --seeds 1,2 -q; rc=$?
ok "one process: 8 items" '[ $rc -eq 0 ] && [ "$(ls "$T/one" | grep -vc batch.json)" -eq 8 ]'

# one process per item, two at a time
"$A2I2A" batch "$T/lib" $QUICK --seeds 1,2 --list > "$T/ids"
parallel --will-cite -j2 "$A2I2A" batch "$T/lib" -o "$T/par" $QUICK --seeds 1,2 --item {} < "$T/ids" 2>"$T/err"; rc=$?
ok "parallel --item: exit 0 ($(tail -1 "$T/err"))" '[ $rc -eq 0 ]'
ok "parallel --item: each of the 8 items ran once" '[ "$(ran_ids "$T/err" | LC_ALL=C sort)" = "$(LC_ALL=C sort "$T/ids")" ]'
ok "parallel --item: byte for byte the one-process batch" '[ "$(tree_digest "$T/par")" = "$(tree_digest "$T/one")" ]'
ok "parallel --item: batch.json whole, 8 done" \
  'python3 -c "import json,sys; b=json.load(open(sys.argv[1])); sys.exit(not (b[\"done\"]==8 and len(b[\"items\"])==8))" "$T/par/batch.json"'
ok "parallel --item: no temporary file left" '[ -z "$(find "$T/par" -name ".a2i2a-run.*" -o -name "*.tmp*")" ]'

# one process per shard; then the same command again: nothing to do anywhere
parallel --will-cite -j2 "$A2I2A" batch "$T/lib" -o "$T/shards" $QUICK --seeds 1,2 --shard {}/2 ::: 0 1 2>"$T/err"; rc=$?
ok "parallel --shard: each item once, the same bytes" \
  '[ $rc -eq 0 ] && [ "$(ran_ids "$T/err" | LC_ALL=C sort)" = "$(LC_ALL=C sort "$T/ids")" ] && [ "$(tree_digest "$T/shards")" = "$(tree_digest "$T/one")" ]'
parallel --will-cite -j2 "$A2I2A" batch "$T/lib" -o "$T/shards" $QUICK --seeds 1,2 --shard {}/2 ::: 0 1 2>"$T/err"; rc=$?
ok "parallel --shard again: nothing to do" '[ $rc -eq 0 ] && [ "$(grep -c "nothing to do" "$T/err")" -eq 2 ] && [ -z "$(ran_ids "$T/err")" ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
