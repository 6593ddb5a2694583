# The subcommands' option tables: typo suggestions, one line per usage error, help that shows the
# defaults, the bash completion script written from the same tables, and --progress.
set -u
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
. tests/support/fixtures.sh
IMG=$FIXTURES/seed/images/i03_synthetic_400x296.png
# err CMD...: runs it, keeps stderr in $T/err and the exit status in $rc
err() { "$A2I2A" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
one_line() { [ "$(wc -l <"$T/err")" -eq 1 ]; }

# --- a typo: one line, exit 2, the nearest option
err run in.wav -o "$T/x" --strenght 0.5
ok "--strenght: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && [ "$(cat "$T/err")" = "a2i2a run: unknown option '"'"'--strenght'"'"' (did you mean --strength?)" ]'
err run in.wav -o "$T/x" --modle m
ok "--modle suggests --model: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q "did you mean --model?" "$T/err"'
err run in.wav -o "$T/x" --strength=0.5 --negatvie=x
ok "--negatvie=x suggests --negative: $(cat "$T/err")" 'grep -q "'"'"'--negatvie'"'"' (did you mean --negative?)" "$T/err"'
for c in "a2i --stylee seed" "i2i --sampelr euler" "i2a --readnig red" "presets --hepl" "models --revisoin x" \
         "tokenize --idss" "verify --thraeds 2"; do
  set -- $c
  err "$@"
  ok "$1 $2: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q "did you mean --" "$T/err"'
done
err run in.wav -o "$T/x" --zzzzzz 1
ok "nothing near: no suggestion" '[ $rc -eq 2 ] && one_line && ! grep -q "did you mean" "$T/err"'
err rnu
ok "a command's typo: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q "did you mean run?" "$T/err"'
err run in.wav -o "$T/x" --s 3
ok "an ambiguous beginning names the candidates" '[ $rc -eq 2 ] && one_line && grep -q "ambiguous" "$T/err" && grep -q -- "--steps" "$T/err"'

# --- other usage errors: one line each, exit 2, nothing written
err run in.wav -o "$T/x" --model
ok "a missing value: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q -- "--model needs a value" "$T/err"'
err run in.wav -o "$T/x" --steps
ok "a missing number: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q -- "--steps needs a value" "$T/err"'
err run in.wav -o "$T/x" --bits 8
ok "--bits 8: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q "16, 24 or 32" "$T/err"'
err run --replay "$T/r.json" -o "$T/x" --steps 5
ok "an option --replay cannot apply: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q -- "--steps cannot be used with --replay" "$T/err"'
err i2a "$IMG" -o "$T/x.wav" --progress loud
ok "--progress loud: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q "auto, plain, none" "$T/err"'
err i2i "$IMG" -o "$T/x.png" --steps 0
ok "the range of --steps: $(cat "$T/err")" '[ $rc -eq 2 ] && one_line && grep -q "\[1, 1000\]" "$T/err"'
ok "nothing written" '[ -z "$(ls -A "$T" | grep -v "^out$\|^err$")" ]'

# --- help: made from the tables, with the defaults the documentation states
h=$("$A2I2A" i2i --help)
ok "i2i: strength 0.9" 'printf "%s\n" "$h" | grep -Eq -- "--strength X .*\(default: 0.9\)"'
ok "i2i: 50 steps" 'printf "%s\n" "$h" | grep -A1 -- "--steps N" | grep -q "(default: *50)"'
ok "i2i: guidance 2.5, pndm" 'printf "%s\n" "$h" | grep -A1 -- "--guidance" | grep -q "default: 2.5" && printf "%s\n" "$h" | grep -A2 -- "--sampler" | grep -q "(default: pndm)"'
ok "i2i: every sampler listed" 'for s in pndm ddim euler euler-a lms dpm++2m dpm++2m-karras lcm; do printf "%s\n" "$h" | grep -q -- " $s " || exit 1; done'
h=$("$A2I2A" run --help)
ok "run: the seed preset's values" 'printf "%s\n" "$h" | grep -q "(default: 1234)" && printf "%s\n" "$h" | grep -A1 -- "--readings" | grep -q "(default: all)"'
ok "help run = run --help" '[ "$("$A2I2A" help run)" = "$h" ]'
h=$("$A2I2A" i2a --help)
ok "i2a: the readings' own defaults (docs/readings.md)" 'printf "%s\n" "$h" | grep -A1 -- "--seconds" | grep -q "sines 10, noise 10, scan 0.1" && printf "%s\n" "$h" | grep -A1 -- "--fmax" | grep -q "scan 1760"'
ok "i2a: the default reading is red" 'printf "%s\n" "$h" | grep -A1 -- "--reading" | grep -q "(default: red)"'
h=$("$A2I2A" a2i --help)
ok "a2i: each style's limit (docs/styles.md)" 'printf "%s\n" "$h" | tr "\n" " " | tr -s " " | grep -q -- "--max-seconds S .*(default: seed 3600, riffusion 600, fullband 600)"'
ok "a2i: every style with its description" 'printf "%s\n" "$h" | grep -Eq "^  riffusion +Riffusion" && printf "%s\n" "$h" | grep -q -- "--style NAME .*(default: seed)"'

# --- completion: the same tables as the parser
S=$("$A2I2A" completion bash); rc=$?
ok "completion bash" '[ $rc -eq 0 ] && printf "%s\n" "$S" | grep -q "^complete -o filenames -F _a2i2a a2i2a"'
complete_words() { # complete_words WORD... : what bash offers for the last word
  bash -c 'source <("$1" completion bash); shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _a2i2a; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$A2I2A" "$@" | sort | tr '\n' ' '
}
ok "run --sampler offers the samplers" '[ "$(complete_words a2i2a run --sampler "")" = "ddim dpm++2m dpm++2m-karras euler euler-a lcm lms pndm " ]'
ok "run --sampler e" '[ "$(complete_words a2i2a run --sampler e)" = "euler euler-a " ]'
ok "i2a -r offers the readings and all" '[ "$(complete_words a2i2a i2a x.png -r "")" = "all bend chirp inverse noise red rgb-mean scan sines " ]'
ok "a2i --style" '[ "$(complete_words a2i2a a2i x.wav --style "")" = "fullband riffusion seed " ]'
ok "run --preset and --prompt-preset" '[ "$(complete_words a2i2a run --preset "")" = "riffusion seed turbo " ] && complete_words a2i2a run --prompt-preset "" | grep -q "nebula"'
ok "--progress" '[ "$(complete_words a2i2a i2i --progress "")" = "auto none plain " ]'
ok "the commands" '[ "$(complete_words a2i2a "")" = "--help --version a2i completion help i2a i2i models presets run serve tokenize verify " ]'
ok "models' actions" '[ "$(complete_words a2i2a models "")" = "convert list pull " ]'
ok "run --stre" '[ "$(complete_words a2i2a run --stre)" = "--strength " ]'
# every option the help of a command shows is one completion offers, and the other way round
for c in a2i i2i i2a run presets models tokenize verify; do
  from_help=$("$A2I2A" $c --help | grep -Eo -- "^  (-[a-z], |    )--[a-z-]+|also --[a-z-]+" | grep -Eo -- "--[a-z-]+" |
    sort | tr '\n' ' ')
  from_completion=$(complete_words a2i2a $c --)
  ok "$c: help and completion list the same options ($from_help / $from_completion)" \
    '[ "$from_completion" = "$from_help" ]'
done

# --- run: --preset is applied first, whatever the order, so that the other options override it
"$A2I2A" run examples/sampling.wav --strength 0.31 --steps 4 --preset turbo -o "$T/order" -m examples/tiny-sd1 \
  --readings bend --spec-width 64 --spec-height 64 --no-sheet -q 2>"$T/err"
ok "options before --preset override it ($(cat "$T/err"))" 'grep -q "\"strength\":[[:space:]]*0.31" "$T/order/run.json" &&
  grep -q "\"sampler\":[[:space:]]*\"euler\"" "$T/order/run.json" && grep -q "\"preset\":[[:space:]]*\"turbo\"" "$T/order/run.json"'

# --- progress: plain lines on a stderr that is not a terminal; nothing by default; -q: silence
"$A2I2A" i2a "$IMG" -o "$T/p" --reading bend,scan --progress plain 2>"$T/err" >/dev/null
ok "--progress plain: lines ($(head -c 200 "$T/err"))" 'grep -q "^a2i2a: \[ *[0-9]*%\] readings" "$T/err" && grep -q "100%" "$T/err"'
"$A2I2A" i2a "$IMG" -o "$T/d" --reading bend,scan 2>"$T/err" >/dev/null
ok "default: no progress when stderr is not a terminal" '[ ! -s "$T/err" ]'
"$A2I2A" a2i examples/sampling.wav -o "$T/s.png" --progress plain 2>"$T/err"
ok "a2i --progress plain" 'grep -q "spectrogram" "$T/err"'
"$A2I2A" run examples/sampling.wav -o "$T/r" -m examples/tiny-sd1 --steps 2 --readings bend --no-sheet \
  --progress none 2>"$T/err"
ok "--progress none: notes, no progress ($(cat "$T/err"))" 'grep -q "note: .*tiny model" "$T/err" && ! grep -q "%]" "$T/err"'
"$A2I2A" run examples/sampling.wav -o "$T/q" -m examples/tiny-sd1 --steps 2 --readings bend --no-sheet --progress plain -q \
  2>"$T/err"
ok "-q after --progress: ($(cat "$T/err"))" '! grep -q "note:\|%]" "$T/err"'
# on a terminal (script gives one), auto draws a live line
script -qec "\"$A2I2A\" i2a \"$IMG\" -o \"$T/tty\" --reading bend,scan" /dev/null >"$T/tty.txt" 2>&1
ok "auto on a terminal: a live line" 'grep -q "readings" "$T/tty.txt" && tr "\r" "\n" <"$T/tty.txt" | grep -q "^\[ *[0-9]*%\]"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
