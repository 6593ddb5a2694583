#!/bin/sh
# The notebook's own image → sound code (cells 18–21: Griffin-Lim per channel, the red reading,
# the RGB-mean "stretch" through torchaudio's phase vocoder, the scipy chirp), timed on the same
# images as bench/bench_readings.sh, so our readings can be read next to it.
# Debian's python3-torchaudio and python3-scipy are installed here for this benchmark only
# (never by the product or the tests). Usage, from the repository root: sh bench/bench_notebook_readings.sh
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if ! /usr/bin/python3 -c "import torchaudio, scipy, PIL, numpy" 2>/dev/null; then
  apt-get install -y -qq --no-install-recommends python3-torchaudio python3-scipy python3-pil python3-numpy \
    >"$T/apt.txt" 2>&1 || { echo "cannot install python3-torchaudio/python3-scipy: notebook side not timed"; exit 0; }
fi
cat >"$T/nb.py" <<'PY'
import sys, time, resource, warnings
warnings.filterwarnings("ignore")
import numpy as np, torch, torchaudio
from PIL import Image
from scipy.signal import chirp
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
img = Image.open(sys.argv[1]).convert("RGB")
which = sys.argv[2]
c = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float() / 255  # ToTensor
H, W = c.shape[1], c.shape[2]
gl = torchaudio.transforms.GriffinLim(n_fft=2 * (H - 1), n_iter=32, momentum=0.99, rand_init=True)
torch.manual_seed(0)
t0 = time.time()
if which in ("red", "rgb-mean"):
    outs = [gl(10 ** ((c[k] * 80 - 80) / 20)) for k in range(3)]          # cell 18
    if which == "red":
        y = gl(10 ** ((c[0] * 80 - 80) / 20)); y = y / y.abs().max()      # cell 19
    else:
        m = (outs[0] + outs[1] + outs[2]) / 3; m = m / m.abs().max()      # cell 20
        y = torchaudio.functional.phase_vocoder(m.unsqueeze(0), 1 / 3, 3 * m.shape[-1]).float()
else:                                                                      # cell 21
    im = np.asarray(img.resize((400, 300))) / 255.0
    t = np.linspace(0, 30, 720000)
    y = np.zeros_like(t)
    for x in range(400):
        f = 800 * im[:, x, 0].mean(); amp = 0.2 + 0.8 * im[:, x, 1].mean()
        y += amp * chirp(t, f0=f, f1=1.5 * f, t1=30, method="linear") / 400
print("%-9s %4dx%-4d wall %6.2f s  peak RSS %4d MB" % (which, W, H, time.time() - t0,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024))
PY
/usr/bin/python3 -c "from PIL import Image; Image.open('$(dirname "$0")/../../shared/fixtures/seed/images/i02_gnome_blobs_400x296.png').convert('RGB').resize((512, 512)).save('$T/i512.png')" 2>/dev/null ||
  /usr/bin/python3 -c "from PIL import Image; Image.open('../shared/fixtures/seed/images/i02_gnome_blobs_400x296.png').convert('RGB').resize((512, 512)).save('$T/i512.png')"
echo "notebook code, torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 1 thread (the fixtures' setting), $(date -u '+%F %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
for img in ../shared/fixtures/seed/images/i02_gnome_blobs_400x296.png "$T/i512.png"; do
  for r in red rgb-mean chirp; do /usr/bin/python3 "$T/nb.py" "$img" "$r" 1; done
done
