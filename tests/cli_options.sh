# The subcommands' option tables: typo suggestions, one line per usage error, help that shows the
# defaults, the bash completion script written from the same tables, and --progress.
set -u
. tests/support/ok.sh
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
ok "i2a -r offers the readings and all" '[ "$(complete_words a2i2a i2a x.png -r "")" = "all bend chirp inverse noise red rgb-mean scan sines vocoder " ]'
ok "a2i --style" '[ "$(complete_words a2i2a a2i x.wav --style "")" = "fullband riffusion seed " ]'
ok "run --preset and --prompt-preset" '[ "$(complete_words a2i2a run --preset "")" = "draft riffusion seed turbo " ] && complete_words a2i2a run --prompt-preset "" | grep -q "nebula"'
ok "--progress" '[ "$(complete_words a2i2a i2i --progress "")" = "auto none plain " ]'
ok "the commands" '[ "$(complete_words a2i2a "")" = "--help --version a2i batch completion grid help i2a i2i manpage models presets run serve tokenize verify " ]'
ok "completion's shells" '[ "$(complete_words a2i2a completion "")" = "bash zsh " ]'
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

# --- zsh completion and the man page: from the same tables
Z=$("$A2I2A" completion zsh); rc=$?
ok "completion zsh" '[ $rc -eq 0 ] && [ "$(printf "%s\n" "$Z" | head -1)" = "#compdef a2i2a" ]'
M=$("$A2I2A" manpage); rc=$?
ok "manpage" '[ $rc -eq 0 ] && printf "%s\n" "$M" | grep -q "^\.TH A2I2A 1 "'
printf "%s\n" "$M" >"$T/a2i2a.1"
ok "the man page is clean roff ($(groff -man -ww -z "$T/a2i2a.1" 2>&1 | head -2))" '[ -z "$(groff -man -ww -z "$T/a2i2a.1" 2>&1)" ]'
man_text=$(MANWIDTH=200 man -l "$T/a2i2a.1" 2>/dev/null)
for c in a2i i2i i2a run presets models tokenize verify; do
  from_help=$("$A2I2A" $c --help | grep -Eo -- "^  (-[a-z], |    )--[a-z-]+" | grep -Eo -- "--[a-z-]+" | sort -u | tr '\n' ' ')
  with_aliases=$("$A2I2A" $c --help | grep -Eo -- "^  (-[a-z], |    )--[a-z-]+|also --[a-z-]+" | grep -Eo -- "--[a-z-]+" |
    sort -u | tr '\n' ' ')
  # the command's part of each: zsh from "    CMD)" to ";;", the man page from "a2i2a CMD" to the next
  from_zsh=$(printf "%s\n" "$Z" | sed -n "/^    $c)/,/^      ;;/p" | grep -Eo -- "'\*--[a-z-]+" | tr -d "'*" | sort -u | tr '\n' ' ')
  # (the option list's entries: the line after each .TP, not the usage text, which may break a
  # line before an option it names)
  from_man=$(printf "%s\n" "$M" | sed -n "/^\.SS \"a2i2a $c\"\$/,/^\.S[SH] /p" | sed -n '/^\.TP$/{n;p}' |
    sed 's/\\f[BIR]//g; s/\\-/-/g' | grep -Eo -- "^(-[a-z], )?--[a-z-]+" | grep -Eo -- "--[a-z-]+" | sort -u | tr '\n' ' ')
  ok "$c: zsh offers the options of its help" '[ "$from_zsh" = "$with_aliases" ]'
  ok "$c: the man page lists the options of its help" '[ "$from_man" = "$from_help" ]'
  ok "$c: -q and -v" 'printf "%s" "$from_help" | grep -q -- "--quiet --" && printf "%s" "$from_help" | grep -q -- "--verbose"'
done
ok "the man page shows the defaults (--steps 50)" 'printf "%s\n" "$man_text" | grep -A1 -- "--steps N" | grep -q "default: 50"'
if command -v zsh >/dev/null; then
  printf "%s\n" "$Z" >"$T/_a2i2a"
  ok "zsh reads the script" 'zsh -n "$T/_a2i2a" && zsh -fc "autoload -U compinit; compinit -u -D; source $T/_a2i2a; [[ \${_comps[a2i2a]} = _a2i2a ]]"'
fi

# --- --version: one line; -v adds the BLAS kernels
out=$("$A2I2A" --version)
ok "--version: one line ($out)" '[ "$(printf "%s\n" "$out" | wc -l)" -eq 1 ] && printf "%s" "$out" | grep -Eq "^a2i2a [0-9]+\.[0-9]+\.[0-9]+$"'
out=$("$A2I2A" --version -v)
ok "--version -v: the kernels too" '[ "$(printf "%s\n" "$out" | wc -l)" -eq 2 ] && printf "%s" "$out" | grep -q "kernels"'
ok "-v --version too" '[ "$("$A2I2A" -v --version)" = "$out" ]'

# --- -q and -v do what they say
"$A2I2A" a2i examples/sampling.wav -o "$T/v.png" -v 2>"$T/err"
ok "a2i -v: the version and kernels first, the timings last ($(head -c 300 "$T/err"))" \
  'head -1 "$T/err" | grep -q "^a2i2a [0-9.]*, .*kernels, [0-9]* threads$" && tail -1 "$T/err" | grep -q "timings: .* a2i [0-9.]*"'
"$A2I2A" i2i "$IMG" -o "$T/v2.png" -m examples/tiny-sd1 --steps 2 --seed 1 -v 2>"$T/err" >/dev/null
ok "i2i -v: the model's description" 'grep -q "model: tiny-sd1: .*SD 1.x" "$T/err"'
ok "presets -q: the names" '[ "$("$A2I2A" presets -q | tr "\n" " ")" = "seed riffusion turbo draft " ]'
ok "presets -v: what each value means" '"$A2I2A" presets seed -v 2>/dev/null | grep -q "# img2img strength"'

# --- --json for scripts, from the registries
json_ok() { python3 -c "import json, sys; d = json.load(sys.stdin); $1" 2>"$T/err"; }
ok "presets --json" '"$A2I2A" presets --json | json_ok "assert [p[\"name\"] for p in d[\"presets\"]] == [\"seed\", \"riffusion\", \"turbo\", \"draft\"]; assert d[\"presets\"][0][\"i2i.steps\"] == 50; assert any(p[\"name\"] == \"ink\" for p in d[\"prompts\"])"'
ok "presets turbo --json" '"$A2I2A" presets turbo --json | json_ok "assert d[\"name\"] == \"turbo\" and d[\"i2i.steps\"] == 2"'
ok "i2a --list-readings --json" '"$A2I2A" i2a --list-readings --json | json_ok "assert len(d) == 9 and d[0][\"name\"] == \"red\" and d[0][\"description\"] and d[8][\"name\"] == \"vocoder\""'
ok "i2i --list-samplers --json" '"$A2I2A" i2i --list-samplers --json | json_ok "assert [s[\"a1111\"] for s in d if s[\"name\"] == \"pndm\"] == [\"PLMS\"]"'
ok "a2i --list-styles --json" '"$A2I2A" a2i --list-styles --json | json_ok "assert {s[\"name\"]: s[\"max_seconds\"] for s in d} == {\"seed\": 3600, \"riffusion\": 600, \"fullband\": 600}"'
ok "a2i --list-styles" '"$A2I2A" a2i --list-styles | grep -Eq "^riffusion +Riffusion"'
ok "models list --json" 'A2I2A_MODEL=org/tiny "$A2I2A" models list --json --model-dir "$FIXTURES/sd" --cache-dir "$T/nohub" |
  json_ok "k = {m[\"name\"]: m for m in d}; assert k[\"org/tiny\"][\"kind\"] == \"A2I2A_MODEL\" and k[\"tiny-sd1\"][\"bytes\"] > 0"'
err a2i --json
ok "--json without a list: one line" '[ $rc -eq 2 ] && one_line'

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
