# `a2i2a presets`: lists every preset with the values the issue gives them; bad names are usage errors.
set -u
. tests/support/ok.sh
out=$("$A2I2A" presets); rc=$?
ok "exit 0" '[ $rc -eq 0 ]'
for p in seed riffusion turbo; do ok "lists $p" 'printf "%s\n" "$out" | grep -q "^$p"'; done
one=$("$A2I2A" presets turbo)
ok "turbo model" 'printf "%s\n" "$one" | grep -q "stabilityai/sd-turbo"'
ok "turbo steps" 'printf "%s\n" "$one" | grep -Eq -- "--steps +2$"'
ok "only turbo" '! printf "%s\n" "$one" | grep -q "^seed"'
ok "seed mirror" '"$A2I2A" presets seed | grep -q "stable-diffusion-v1-5/stable-diffusion-v1-5"'
ok "riffusion clips" '"$A2I2A" presets riffusion | grep -q "5.11 s, overlap (crossfade) 0.2 s"'
err=$("$A2I2A" presets nosuch 2>&1 >/dev/null); rc=$?
ok "unknown preset: exit 2" '[ $rc -eq 2 ]'
ok "unknown preset: one line naming it" '[ $(printf "%s\n" "$err" | wc -l) -eq 1 ] && printf "%s" "$err" | grep -q nosuch'
ok "help" '"$A2I2A" presets --help | grep -q "usage: a2i2a presets"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
