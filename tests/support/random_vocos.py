"""Writes a Vocos (mel) folder with random weights of the tiny fixture's shapes (config.yaml and
model.safetensors, as tests/support/random_vocoder.c writes them), for the tests that need a
vocoder where the full fixture set is absent. Standard library only.
usage: python3 tests/support/random_vocos.py DIR   (DIR must exist)"""
import json
import random
import struct
import sys


def write(d, dim=16, inter=32):
    with open(d + "/config.yaml", "w") as f:
        f.write(f"""feature_extractor:
  class_path: vocos.feature_extractors.MelSpectrogramFeatures
  init_args:
    sample_rate: 24000
    n_fft: 1024
    hop_length: 256
    n_mels: 100
    padding: center
backbone:
  class_path: vocos.models.VocosBackbone
  init_args:
    input_channels: 100
    dim: {dim}
    intermediate_dim: {inter}
    num_layers: 1
head:
  class_path: vocos.heads.ISTFTHead
  init_args:
    dim: {dim}
    n_fft: 1024
    hop_length: 256
    padding: center
""")
    random.seed(1)
    shapes = {"backbone.embed.weight": [dim, 100, 7], "backbone.embed.bias": [dim], "backbone.norm.weight": [dim],
              "backbone.norm.bias": [dim], "backbone.final_layer_norm.weight": [dim],
              "backbone.final_layer_norm.bias": [dim], "head.out.weight": [1026, dim], "head.out.bias": [1026]}
    for k, s in {"dwconv.weight": [dim, 1, 7], "dwconv.bias": [dim], "norm.weight": [dim], "norm.bias": [dim],
                 "pwconv1.weight": [inter, dim], "pwconv1.bias": [inter], "pwconv2.weight": [dim, inter],
                 "pwconv2.bias": [dim], "gamma": [dim]}.items():
        shapes["backbone.convnext.0." + k] = s
    header, data = {}, b""
    for name, shape in sorted(shapes.items()):
        n = 1
        for x in shape:
            n *= x
        fan = n // shape[0]
        vals = [1.0 if name.endswith("norm.weight") else random.uniform(-1, 1) / fan ** 0.5 for _ in range(n)]
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + 4 * n]}
        data += struct.pack("<%df" % n, *vals)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(d + "/model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


if __name__ == "__main__":
    write(sys.argv[1])
