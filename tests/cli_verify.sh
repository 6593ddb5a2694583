# `a2i2a verify` on the SD fixtures (the full set's, else the compact set's) and, given no folder,
# on the compact set: nothing may fail; cases not implemented yet are skipped.
set -u
. tests/support/fixtures.sh
verify() {
  out=$("$A2I2A" verify "$@" 2>&1); rc=$?
  printf '%s\n' "$out"
  [ $rc -eq 0 ] || { echo "verify $*: exited $rc"; exit 1; }
  printf '%s\n' "$out" | tail -1 | grep -Eq '^[0-9]+ passed, 0 failed, [0-9]+ skipped$' || exit 1
}
verify "$FIXTURES/sd"
compact=$(cd tests/fixtures/sd && pwd)
[ "$FIXTURES/sd" = "$compact" ] || verify
# without a folder it is the compact set: its usage says so, and it checks the SD1 img2img run
"$A2I2A" verify --help | grep -qF "$compact" || { echo "verify --help does not name $compact"; exit 1; }
printf '%s\n' "$out" | grep -q "img2img_sd1_pndm" || { echo "no img2img_sd1_pndm check"; exit 1; }
# the extensions' fixtures (sd-ext): every case runs and passes, none skipped: TAESD (the
# autoencoder on its own from both forms, the whole img2img run from recorded noise and from the
# seed) and LoRA (merged weights, text encoder, UNet, the whole run); their base model is found
# through models.json
if [ -d "$FIXTURES/sd-ext" ]; then
  verify "$FIXTURES/sd-ext"
  for line in 'taesd\[folder\]\.b\.decoded' 'taesd\[file\]\.a\.latents' 'img2img_sd1_pndm_taesd\.recorded\.vae_encoder_output' \
    'img2img_sd1_pndm_taesd\.seeded\.output_uint8' 'lora_sd1\.unet\.output' 'lora_sd1\.text\.last_hidden_state' \
    'img2img_sd1_pndm_lora\.seeded\.output_uint8'; do
    printf '%s\n' "$out" | grep -Eq "^$line.* pass$" || { echo "sd-ext: no passing $line"; exit 1; }
  done
  printf '%s\n' "$out" | grep -Eq "^[0-9]+ passed, 0 failed, 0 skipped$" || { echo "sd-ext: not every case passed"; exit 1; }
fi
