# The README opens with its commands (the chain, the tests, the studio), and .ci/run runs the
# second one verbatim.
set -u
fail=0; pass=0
cmds=$(awk '/^```sh$/{f=1;next} /^```$/{f=0} f' README.md)
n=$(printf '%s\n' "$cmds" | grep -c .)
[ "$n" -ge 2 ] && pass=$((pass+1)) || { echo "README: expected two commands, found $n"; fail=$((fail+1)); }
second=$(printf '%s\n' "$cmds" | sed -n 2p)
grep -qxF "$second" .ci/run && pass=$((pass+1)) || { echo ".ci/run does not run the README's test command"; fail=$((fail+1)); }
first=$(printf '%s\n' "$cmds" | sed -n 1p)
case "$first" in *"build/a2i2a "*) pass=$((pass+1));; *) echo "README's first command does not run a2i2a"; fail=$((fail+1));; esac
# ... and it is the whole chain on the bundled example with the bundled tiny model (offline)
case "$first" in *"build/a2i2a run examples/sampling.wav "*"--model examples/tiny-sd1"*) pass=$((pass+1));;
  *) echo "README's first command does not run the chain with the bundled tiny model"; fail=$((fail+1));; esac
# the third starts the studio with the bundled tiny model
third=$(printf '%s\n' "$cmds" | sed -n 3p)
[ "$third" = "build/a2i2a serve --model examples/tiny-sd1" ] && pass=$((pass+1)) || { echo "README's third command is not the studio"; fail=$((fail+1)); }
# ... and requires the full fixture set, so that no test is skipped there (tests/CMakeLists.txt)
grep -qx "export A2I2A_FIXTURES_REQUIRED=1" .ci/run && pass=$((pass+1)) || { echo ".ci/run does not require the full fixture set"; fail=$((fail+1)); }
[ -f examples/tiny-sd1/unet/diffusion_pytorch_model.safetensors ] && pass=$((pass+1)) || { echo "examples/tiny-sd1 missing"; fail=$((fail+1)); }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
