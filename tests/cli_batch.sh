# a2i2a batch with the tiny model: SOURCE as a folder, a list and a CSV; stable ids; shards that
# cover every item once; a second run that does nothing; a batch killed mid-way and resumed equal
# to an uninterrupted one byte for byte; a corrupt sound that fails its item only; --merge; the
# studio listing a batch folder.
set -u
. tests/support/ok.sh
T=$(mktemp -d); SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
unset A2I2A_MODEL
. tests/support/batch.sh
sounds "$T/lib" 3
mkdir -p "$T/lib/sub" && mv "$T/lib/tone3.wav" "$T/lib/sub/tone3.wav"
touch "$T/lib/notes.txt" "$T/lib/.hidden.wav"
ids() { "$A2I2A" batch "$@" --list 2>"$T/err"; }

# --- expansion: a folder, recursively, by path; other files and hidden names left out
ids "$T/lib" $QUICK > "$T/folder.ids"; rc=$?
ok "folder: 3 items ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ "$(wc -l < "$T/folder.ids")" -eq 3 ]'
ok "ids: 12 hex digits, all different" '! grep -vqE "^[0-9a-f]{12}$" "$T/folder.ids" && [ "$(sort -u "$T/folder.ids" | wc -l)" -eq 3 ]'
# the same sounds in a list (paths relative to the list, comments and blank lines skipped), in
# the folder's order: the same ids
printf '# the library, in byte order as the folder\nsub/tone3.wav\n\ntone1.wav\ntone2.wav\n' > "$T/lib/list.txt"
ids "$T/lib/list.txt" $QUICK > "$T/list.ids"
ok "list: the folder's ids in its order" 'cmp -s "$T/folder.ids" "$T/list.ids"'
# seeds x prompts: one item each
ids "$T/lib" $QUICK --seeds 7,8 --prompt a --prompt b > "$T/cross.ids"
ok "3 sounds x 2 seeds x 2 prompts: 12 items" '[ "$(sort -u "$T/cross.ids" | wc -l)" -eq 12 ]'
# a CSV: its columns override the settings of their row
printf 'path,seed,prompt,i2i.steps\ntone1.wav,,,\ntone2.wav,99,"a ""quoted"", prompt",3\n' > "$T/lib/rows.csv"
ids "$T/lib/rows.csv" $QUICK > "$T/csv.ids"; rc=$?
ok "csv: 2 items ($(cat "$T/err"))" '[ $rc -eq 0 ] && [ "$(wc -l < "$T/csv.ids")" -eq 2 ]'
ok "csv: an empty row keeps the command line's settings (the folder's id)" '[ "$(head -1 "$T/csv.ids")" = "$(sed -n 2p "$T/folder.ids")" ]'
ok "csv: a row with its own seed, prompt and steps is another item" '! grep -qx "$(sed -n 2p "$T/csv.ids")" "$T/folder.ids"'
# the CSV's row equals the same settings given on the command line
printf 'tone2.wav\n' > "$T/lib/two.txt"
ids "$T/lib/two.txt" $QUICK --seed 99 --prompt 'a "quoted", prompt' --steps 3 > "$T/two.ids"
ok "csv: the row's settings are the options' (same id)" '[ "$(cat "$T/two.ids")" = "$(sed -n 2p "$T/csv.ids")" ]'
# bad columns and values: refused before any work, naming the line
printf 'path,steps\ntone1.wav,4\ntone2.wav,lots\n' > "$T/lib/bad.csv"
"$A2I2A" batch "$T/lib/bad.csv" -o "$T/badcsv" $QUICK 2>"$T/err"; rc=$?
ok "csv: a bad value names line 3 and the column ($(cat "$T/err"))" \
  '[ $rc -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q "bad.csv:3: column .steps.: .lots." "$T/err" && [ ! -e "$T/badcsv" ]'
printf 'path,stepz\ntone1.wav,4\n' > "$T/lib/bad2.csv"
"$A2I2A" batch "$T/lib/bad2.csv" -o "$T/badcsv" $QUICK 2>"$T/err"; rc=$?
ok "csv: an unknown column is refused ($(cat "$T/err"))" '[ $rc -ne 0 ] && grep -q "bad2.csv:1: column .stepz." "$T/err" && [ ! -e "$T/badcsv" ]'
printf 'path,width\ntone1.wav,64\n' > "$T/lib/bad3.csv"
ids "$T/lib/bad3.csv" $QUICK >/dev/null; rc=$?
ok "csv: an ambiguous column names both keys ($(cat "$T/err"))" '[ $rc -ne 0 ] && grep -q "a2i.width or i2i.width" "$T/err"'

# --- stable ids: the sound's bytes and the settings, not its path, the threads or the model's folder
mkdir -p "$T/elsewhere" && cp "$T/lib/tone1.wav" "$T/elsewhere/renamed.wav"
ids "$T/elsewhere" $QUICK > "$T/moved.ids"
ok "ids: a copy elsewhere under another name keeps its id" '[ "$(cat "$T/moved.ids")" = "$(sed -n 2p "$T/folder.ids")" ]'
ids "$T/lib" $QUICK --threads 2 -m "$(pwd)/examples/tiny-sd1/" > "$T/threads.ids"
ok "ids: other threads and the model by its absolute path: the same ids" 'cmp -s "$T/folder.ids" "$T/threads.ids"'
ids "$T/lib" $QUICK --strength 0.7 > "$T/strength.ids"
ok "ids: another strength, other ids" '[ -z "$(comm -12 <(sort "$T/folder.ids") <(sort "$T/strength.ids"))" ]'
ok "ids: the same on a second listing" 'cmp -s "$T/cross.ids" <(ids "$T/lib" $QUICK --seeds 7,8 --prompt a --prompt b)'

# --- shards 0..N-1: every item exactly once
for n in 1 2 5; do
  for k in $(seq 0 $((n - 1))); do ids "$T/lib" $QUICK --seeds 7,8 --prompt a --prompt b --shard $k/$n; done > "$T/shards.ids"
  ok "--shard K/$n for K = 0..$((n - 1)): each of the 12 items once" \
    '[ "$(LC_ALL=C sort "$T/shards.ids")" = "$(LC_ALL=C sort "$T/cross.ids")" ] && [ "$(wc -l < "$T/shards.ids")" -eq 12 ]'
done
"$A2I2A" batch "$T/lib" --list --shard 2/2 $QUICK 2>"$T/err"; rc=$?
ok "--shard 2/2: a usage error" '[ $rc -eq 2 ]'

# --- an uninterrupted batch, then a second run that does nothing
"$A2I2A" batch "$T/lib" -o "$T/whole" $QUICK --seeds 1,2 2>"$T/err"; rc=$?
ok "a batch of 6 items ($(tail -1 "$T/err"))" '[ $rc -eq 0 ] && [ "$(ran_ids "$T/err" | sort -u | wc -l)" -eq 6 ]'
ok "each item's folder holds what run writes" \
  'for i in $(ids "$T/lib" $QUICK --seeds 1,2); do [ -f "$T/whole/$i/run.json" ] && [ -f "$T/whole/$i/art.png" ] && [ -f "$T/whole/$i/red.wav" ] || exit 1; done'
ok "an item's run.json records its own seed" \
  'i=$(ids "$T/lib" $QUICK --seed 2 | head -1); grep -q "\"seed\":[[:space:]]*2," "$T/whole/$i/run.json"'
ok "batch.json: 6 done" 'python3 -c "import json,sys; b=json.load(open(sys.argv[1])); sys.exit(not (b[\"done\"]==6 and len(b[\"items\"])==6))" "$T/whole/batch.json"'
before=$(tree_digest "$T/whole"); touch -d '2001-01-01' "$T/whole"/*/run.json
"$A2I2A" batch "$T/lib" -o "$T/whole" $QUICK --seeds 1,2 2>"$T/err"; rc=$?
ok "a second run: nothing to do ($(cat "$T/err"))" '[ $rc -eq 0 ] && grep -q "nothing to do" "$T/err" && [ -z "$(ran_ids "$T/err")" ]'
ok "a second run: nothing rewritten" '[ "$(tree_digest "$T/whole")" = "$before" ] && [ -z "$(find "$T/whole" -name run.json -newer "$T/lib/tone1.wav")" ]'
"$A2I2A" batch --status "$T/whole" >"$T/out" 2>"$T/err"; rc=$?
ok "--status: 6 done ($(cat "$T/out"))" '[ $rc -eq 0 ] && [ "$(head -1 "$T/out")" = "6 items: 6 done, 0 failed, 0 pending" ]'

# --force: done items run again (one here), to the same bytes
"$A2I2A" batch "$T/lib" -o "$T/whole" $QUICK --seeds 1,2 --item "$(ids "$T/lib" $QUICK --seeds 1,2 | tail -1)" --force 2>"$T/err"; rc=$?
ok "--force: a done item runs again, the same bytes" '[ $rc -eq 0 ] && [ "$(ran_ids "$T/err" | wc -l)" -eq 1 ] && [ "$(tree_digest "$T/whole")" = "$before" ]'

# OUTDIR inside SOURCE: its readings are outputs, not sounds of the library
cp -r "$T/lib" "$T/inside"
"$A2I2A" batch "$T/inside" -o "$T/inside/out" $QUICK -q; rc=$?
"$A2I2A" batch "$T/inside" -o "$T/inside/out" $QUICK 2>"$T/err"; rc2=$?
ok "OUTDIR inside SOURCE: 3 items, then nothing to do" '[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q "nothing to do: 3 of 3" "$T/err"'

# --- an output changed behind the batch's back: that item alone runs again, and comes back
victim=$(ids "$T/lib" $QUICK --seeds 1,2 | head -1)
printf 'x' >> "$T/whole/$victim/red.wav"
"$A2I2A" batch "$T/lib" -o "$T/whole" $QUICK --seeds 1,2 2>"$T/err"; rc=$?
ok "a changed output: only its item runs again" '[ $rc -eq 0 ] && [ "$(ran_ids "$T/err")" = "$victim" ]'
ok "a changed output: the batch is as before" '[ "$(tree_digest "$T/whole")" = "$before" ]'

# --- killed mid-way (SIGKILL: no chance to clean up), then resumed: the same bytes
"$A2I2A" batch "$T/lib" -o "$T/killed" $QUICK --seeds 1,2 --progress plain 2>"$T/err" &
pid=$!
for i in $(seq 600); do [ -n "$(ls "$T"/killed/*/run.json 2>/dev/null)" ] && break; sleep 0.05; done
kill -KILL $pid; wait $pid 2>/dev/null
ndone=$(ls "$T"/killed/*/run.json 2>/dev/null | wc -l)
ok "killed after $ndone of 6 items" '[ "$ndone" -ge 1 ] && [ "$ndone" -lt 6 ]'
"$A2I2A" batch "$T/lib" -o "$T/killed" $QUICK --seeds 1,2 2>"$T/err"; rc=$?
ok "resumed: the $((6 - ndone)) missing items run ($(tail -1 "$T/err"))" '[ $rc -eq 0 ] && [ "$(ran_ids "$T/err" | wc -l)" -eq $((6 - ndone)) ]'
ok "resumed: no private folder left" '[ -z "$(find "$T/killed" -name ".a2i2a-run.*")" ]'
ok "resumed: byte for byte the uninterrupted batch" '[ "$(tree_digest "$T/killed")" = "$before" ] && diff -r -x .a2i2a-batch "$T/whole" "$T/killed" >/dev/null'

# --- SIGTERM: exit 143 (128 + 15), the running item leaves nothing, the next run finishes
: >"$T/err" # not an earlier run's "2/6" before the background shell truncates it
"$A2I2A" batch "$T/lib" -o "$T/term" $QUICK --seeds 1,2 --progress plain 2>"$T/err" &
pid=$!
for i in $(seq 600); do grep -q "2/6" "$T/err" && break; sleep 0.05; done
kill -TERM $pid; wait $pid; rc=$?
ok "SIGTERM: exit 143" '[ $rc -eq 143 ]'
"$A2I2A" batch "$T/lib" -o "$T/term" $QUICK --seeds 1,2 -q; rc=$?
ok "SIGTERM then resumed: the uninterrupted batch" '[ $rc -eq 0 ] && [ "$(tree_digest "$T/term")" = "$before" ]'

# --- a corrupt sound fails its item only, with one line; the others run; exit 1
cp -r "$T/lib" "$T/lib2" && rm "$T/lib2"/*.txt "$T/lib2"/*.csv
printf 'RIFF\x24\x00\x00\x00WAVEjunk' > "$T/lib2/broken.wav"
"$A2I2A" batch "$T/lib2" -o "$T/bad" $QUICK 2>"$T/err"; rc=$?
ok "a corrupt sound: exit 1 ($(tail -1 "$T/err"))" '[ $rc -eq 1 ]'
ok "a corrupt sound: one line naming it" '[ "$(grep -c "failed: .*broken.wav" "$T/err")" -eq 1 ]'
ok "a corrupt sound: the 3 others done" \
  'for i in $(cat "$T/folder.ids"); do [ -f "$T/bad/$i/run.json" ] || exit 1; done'
ok "a corrupt sound: no folder for it" '[ "$(ls "$T/bad" | grep -vc batch.json)" -eq 3 ]'
"$A2I2A" batch --status "$T/bad" >"$T/out"; rc=$?
ok "--status: 1 failed with its reason ($(head -1 "$T/out"))" \
  '[ "$(head -1 "$T/out")" = "4 items: 3 done, 1 failed, 0 pending" ] && grep -q "^failed [0-9a-f]* .*broken.wav: .*broken.wav" "$T/out"'
ok "batch.json: the failure and its reason" \
  'python3 -c "import json,sys; b=json.load(open(sys.argv[1])); f=[i for i in b[\"items\"] if i[\"state\"]==\"failed\"]; sys.exit(not (b[\"failed\"]==1 and len(f)==1 and \"broken.wav\" in f[0][\"reason\"]))" "$T/bad/batch.json"'
"$A2I2A" batch "$T/lib2" -o "$T/bad" $QUICK 2>"$T/err"; rc=$?
ok "again: nothing to do, the failure kept (exit 1)" '[ $rc -eq 1 ] && grep -q "nothing to do.*1 failed" "$T/err"'
"$A2I2A" batch "$T/lib2" -o "$T/bad" $QUICK --retry-failed 2>"$T/err"; rc=$?
ok "--retry-failed: the failed item alone runs (and fails again)" '[ $rc -eq 1 ] && [ "$(ran_ids "$T/err" | wc -l)" -eq 1 ]'

# a list naming a sound that is not there: that item fails, naming it; the others run
printf 'tone1.wav\nmissing.wav\n' > "$T/lib/gone.txt"
"$A2I2A" batch "$T/lib/gone.txt" -o "$T/gone" $QUICK 2>"$T/err"; rc=$?
ok "a missing sound: its item fails, the other is done ($(grep failed: "$T/err"))" \
  '[ $rc -eq 1 ] && grep -q "failed: .*missing.wav" "$T/err" && [ -f "$T/gone/$(sed -n 2p "$T/folder.ids")/run.json" ] && [ "$(head -1 "$("$A2I2A" batch --status "$T/gone" > "$T/out"; echo "$T/out")")" = "2 items: 1 done, 1 failed, 0 pending" ]'

# --- --item: one item; an unknown one is a usage error
one=$(sed -n 2p "$T/folder.ids")
"$A2I2A" batch "$T/lib" -o "$T/one" $QUICK --item "$one" 2>"$T/err"; rc=$?
ok "--item: that item alone" '[ $rc -eq 0 ] && [ "$(ran_ids "$T/err")" = "$one" ] && [ "$(ls "$T/one" | grep -v batch.json)" = "$one" ]'
"$A2I2A" batch "$T/lib" -o "$T/one" $QUICK --item 000000000000 2>"$T/err"; rc=$?
ok "--item unknown: exit 2 ($(cat "$T/err"))" '[ $rc -eq 2 ] && grep -q "no such item" "$T/err"'
"$A2I2A" batch --status "$T/one" >"$T/out"
ok "--status after --item: 1 done, 2 pending" '[ "$(head -1 "$T/out")" = "3 items: 1 done, 0 failed, 2 pending" ]'

# --- per-shard folders (no shared filesystem), gathered with --merge: the whole batch
"$A2I2A" batch "$T/lib" -o "$T/s0" $QUICK --seeds 1,2 --shard 0/2 -q
"$A2I2A" batch "$T/lib" -o "$T/s1" $QUICK --seeds 1,2 --shard 1/2 -q
"$A2I2A" batch --merge "$T/s0" "$T/s1" -o "$T/merged" >"$T/out" 2>"$T/err"; rc=$?
ok "--merge: 6 items gathered ($(cat "$T/err"))" '[ $rc -eq 0 ] && grep -q "gathered 6 items" "$T/err" && [ "$(head -1 "$T/out")" = "6 items: 6 done, 0 failed, 0 pending" ]'
ok "--merge: byte for byte the whole batch" 'diff -r -x .a2i2a-batch -x batch.json "$T/whole" "$T/merged" >/dev/null'
"$A2I2A" batch "$T/lib" -o "$T/merged" $QUICK --seeds 1,2 2>"$T/err"; rc=$?
ok "--merge: the merged folder is a finished batch" '[ $rc -eq 0 ] && grep -q "nothing to do" "$T/err"'

# --- the studio opens a batch folder: every item in its history
"$A2I2A" serve --dir "$T/whole" --port 0 >"$T/serve.out" 2>&1 &
SERVER=$!
for i in $(seq 100); do grep -qo "http://127.0.0.1:[0-9]*" "$T/serve.out" && break; sleep 0.1; done
url=$(grep -o "http://127.0.0.1:[0-9]*" "$T/serve.out" | head -1)
listed=$(python3 -c "import json,sys,urllib.request; r=json.load(urllib.request.urlopen(sys.argv[1]+'/api/runs?limit=100')); print(len(r['runs'] if isinstance(r, dict) else r))" "$url" 2>&1)
ok "serve --dir OUTDIR lists the 6 items ($listed)" '[ "$listed" = 6 ]'
kill "$SERVER"; wait "$SERVER" 2>/dev/null; SERVER=""

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
