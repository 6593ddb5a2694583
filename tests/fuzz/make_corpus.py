#!/usr/bin/env python3
"""Makes the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET/) from the shared fixtures,
the repository's examples and the a2i2a program itself. Run from the repository root after a
build (the seeds are committed; run it again only to change them):

    python3 tests/fuzz/make_corpus.py [BUILD_DIR]

Every seed is small (the whole corpus stays well under 2 MB), so that a 30-second CI run goes
through all of it many times."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import zlib

ROOT = os.getcwd()
BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
A2I2A = os.path.join(BUILD, "a2i2a")
FX = os.environ.get("A2I2A_FIXTURES") or os.path.join(ROOT, "..", "shared", "fixtures")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
TMP = tempfile.mkdtemp(prefix="a2i2a_corpus_")


def seed(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path, n=None):
    with open(path, "rb") as f:
        return f.read() if n is None else f.read(n)


def run(*args):
    subprocess.run([A2I2A, *args, "-q", "--force"], check=True)


# ------------------------------------------------------------------ PNG pieces

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunks(data):
    at, out = 8, []
    while at + 12 <= len(data):
        n = struct.unpack(">I", data[at:at + 4])[0]
        out.append((data[at + 4:at + 8], data[at + 8:at + 8 + n]))
        at += 12 + n
    return out


def png(w, h, color_type, depth, rows, extra=b"", plte=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + (chunk(b"PLTE", plte) if plte else b"") + extra +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def text_chunk(key, value):
    return chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))


# ------------------------------------------------------------------ TIFF (eXIf) pieces

def tiff(le, entries):
    """entries: (tag, type, value); SHORT 3, LONG 4, FLOAT 11, DOUBLE 12 (data after the IFD)."""
    e = "<" if le else ">"
    n = len(entries)
    data_at = 8 + 2 + 12 * n + 4
    ifd, data = b"", b""
    for tag, typ, v in entries:
        if typ == 3:
            val = struct.pack(e + "HH", v, 0)
        elif typ == 4:
            val = struct.pack(e + "I", v)
        elif typ == 11:
            val = struct.pack(e + "f", v)
        else:
            val = struct.pack(e + "I", data_at + len(data))
            data += struct.pack(e + "d", v)
        ifd += struct.pack(e + "HHI", tag, typ, 1) + val
    head = (b"II*\0" if le else b"MM\0*") + struct.pack(e + "I", 8)
    return head + struct.pack(e + "H", n) + ifd + struct.pack(e + "I", 0) + data


RIFFUSION = [(11000, 3, 44100), (11005, 3, 0), (11010, 3, 10), (11020, 3, 100), (11030, 3, 400), (11040, 3, 512),
             (11050, 3, 0), (11060, 3, 10000), (11070, 12, 0.25), (11080, 12, 3.2e7)]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    # sounds to start from: a short tone and 0.3 s of the example
    tone = os.path.join(TMP, "tone.wav")
    with wave.open(tone, "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<hh", (i * 37) % 3000 - 1500, (i * 11) % 2000 - 1000) for i in range(4000)))

    # ---------------------------------------------------------------- exif
    for i, img in enumerate(("r01_brahms_stereo_5120ms", "r02_humpback_mono_5110ms")):
        for kind, body in png_chunks(read(os.path.join(FX, "seed", "riffusion", img, "image.png"))):
            if kind == b"eXIf":
                seed("exif", "riffusion_%d" % i, body)
    seed("exif", "le_types", tiff(True, [(t, 4 if ty == 3 else 11 if ty == 12 else ty, v) for t, ty, v in RIFFUSION]))
    seed("exif", "be_no_max", tiff(False, RIFFUSION[:9]))
    seed("exif", "camera", tiff(True, [(0x0112, 3, 1), (0x011A, 4, 72), (0x8769, 4, 26)]))

    # ---------------------------------------------------------------- images, and their chunks
    styles = [("seed", ["--width", "24", "--height", "16"]), ("fullband", ["--width", "24", "--height", "16"]),
              ("fullband_stereo", ["--style", "fullband", "--stereo", "--width", "20", "--height", "16",
                                   "--colormap", "grey"]),
              ("riffusion", ["--style", "riffusion"])]
    for name, args in styles:
        out = os.path.join(TMP, name + ".png")
        style = ["--style", name] if "--style" not in args else []
        short = os.path.join(TMP, "short.wav")
        with wave.open(tone) as r, wave.open(short, "wb") as w:
            w.setparams(r.getparams())
            w.writeframes(r.readframes(1600 if name == "riffusion" else 4000))
        run("a2i", short, "-o", out, *style, *args)
        data = read(out)
        for kind, body in png_chunks(data):
            if kind in (b"tEXt", b"iTXt") and body.startswith(b"a2i2a\0"):
                seed("style_json", name + ".json", body.split(b"\0", 1)[1])
        if name != "riffusion":
            seed("image", name + ".png", data)
    # riffusion's own image, cut to 16 rows (its eXIf kept)
    eb = [b for k, b in png_chunks(read(os.path.join(FX, "seed", "riffusion", "r02_humpback_mono_5110ms", "image.png")))
          if k == b"eXIf"][0]
    rows = [bytes((x * 5 + y * 9) % 256 for x in range(16 * 3)) for y in range(16)]
    seed("image", "riffusion_exif.png", png(16, 16, 2, 8, rows, chunk(b"eXIf", eb)))
    seed("image", "grey.png", png(8, 8, 0, 8, [bytes(range(y * 8, y * 8 + 8)) for y in range(8)]))
    seed("image", "grey_alpha.png", png(4, 4, 4, 8, [bytes(8) for _ in range(4)]))
    seed("image", "palette.png", png(4, 4, 3, 4, [b"\x01\x23"] * 4, chunk(b"tRNS", b"\x00\x80"), b"\0\0\0\xff\0\0\0\xff\0\0\0\xff" * 6))
    seed("image", "rgb16.png", png(3, 3, 2, 16, [bytes(18)] * 3))
    seed("image", "rgba_text.png", png(4, 2, 6, 8, [bytes(16)] * 2,
                                       text_chunk("parameters", "abstract, Steps: 20, Sampler: PNDM, Seed: 1") +
                                       chunk(b"zTXt", b"a2i2a-i2i\0\0" + zlib.compress(b'{"stage":"i2i","steps":2}')) +
                                       chunk(b"iTXt", b"Comment\0\0\0\0\0\xc3\xbcnicode")))
    jpg = os.path.join(TMP, "mkjpeg")
    with open(jpg + ".c", "w") as f:
        f.write('#include "jpeg_write.h"\nint main(void) { unsigned char px[16 * 16 * 3];\n'
                '  for (int i = 0; i < 768; i++) px[i] = (unsigned char)(i * 7);\n'
                '  return !(write_jpeg("%s/rgb.jpg", px, 16, 16, 3, 90) && write_jpeg("%s/grey.jpg", px, 16, 16, 1, 50)); }\n'
                % (TMP, TMP))
    subprocess.run(["cc", "-I", os.path.join(ROOT, "tests"), jpg + ".c", "-o", jpg, "-ljpeg"], check=True)
    subprocess.run([jpg], check=True)
    seed("image", "rgb.jpg", read(os.path.join(TMP, "rgb.jpg")))
    seed("image", "grey.jpg", read(os.path.join(TMP, "grey.jpg")))

    # ---------------------------------------------------------------- audio
    aud = os.path.join(FX, "seed", "audio")
    seed("audio", "flac_head", read(os.path.join(aud, "a01_speech_libri_16k_mono_s16.flac"), 6000))
    seed("audio", "ogg_head", read(os.path.join(aud, "a03_humpback_22k05_mono.ogg"), 6000))
    seed("audio", "ogg_cut", read(os.path.join(aud, "a03_humpback_22k05_mono.ogg"), 100))
    seed("audio", "mp3_head", read(os.path.join(aud, "a04_trumpet_44k1_stereo.mp3"), 3000))
    seed("audio", "wav_s16", read(os.path.join(aud, "a06_espeak_22k05_mono_s16.wav"), 1044))
    seed("audio", "wav_s24", read(os.path.join(aud, "a09_noiseburst_48k_stereo_s24.wav"), 1244))
    seed("audio", "wav_f32", read(os.path.join(aud, "a07_sweep_44k1_mono_f32.wav"), 1080))
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    import aifc  # in the standard library up to Python 3.12
    a = os.path.join(TMP, "x.aiff")
    with aifc.open(a, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(bytes(400))
    seed("audio", "aiff", read(a))
    tiny_png = os.path.join(TMP, "tiny.png")
    with open(tiny_png, "wb") as f:
        f.write(png(8, 4, 2, 8, [bytes((x * 29) % 256 for x in range(24))] * 4))
    run("i2a", tiny_png, "-o", os.path.join(TMP, "bend.flac"), "--reading", "bend", "--bits", "16")
    seed("audio", "flac_ours", read(os.path.join(TMP, "bend.flac")))

    # ---------------------------------------------------------------- run.json
    model = os.path.join(ROOT, "examples", "tiny-sd1")
    small = ["--model", model, "--steps", "2", "--spec-width", "64", "--spec-height", "48", "--readings", "red,bend",
             "--gl-iters", "2", "--no-sheet"]
    run("run", tone, "-o", os.path.join(TMP, "r1"), *small)
    seed("runjson", "seed_preset.json", read(os.path.join(TMP, "r1", "run.json")))
    run("run", tone, "-o", os.path.join(TMP, "r2"), *small, "--style", "fullband", "--clip", "0.2", "--overlap",
        "0.05", "--seed", "18446744073709551557", "--sampler", "euler-a", "--prompt", "wet \"slate\" \u00fcn")
    seed("runjson", "clips_fullband.json", read(os.path.join(TMP, "r2", "run.json")))

    # ---------------------------------------------------------------- safetensors
    seed("safetensors", "lut_u8", read(os.path.join(FX, "seed", "lut_u8.safetensors")))

    def st(tensors, meta=None):
        head, blob = {}, b""
        for name, dtype, shape, data in tensors:
            head[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
            blob += data
        if meta:
            head["__metadata__"] = meta
        import json
        h = json.dumps(head).encode()
        return struct.pack("<Q", len(h)) + h + blob

    seed("safetensors", "types", st([("a", "F32", [2, 2], bytes(16)), ("b", "F16", [3], bytes(6)),
                                     ("c", "BF16", [1, 1], bytes(2)), ("d", "I64", [1], bytes(8)),
                                     ("e", "U8", [0], b"")], {"format": "pt"}))

    # ---------------------------------------------------------------- model configs
    for fam in ("tiny-sd1", "tiny-sd2"):
        d = os.path.join(FX, "sd", fam)
        parts = [read(os.path.join(d, p)) for p in ("unet/config.json", "vae/config.json", "text_encoder/config.json",
                                                     "scheduler/scheduler_config.json")]
        seed("model_config", fam, b"\0".join(parts))

    # ---------------------------------------------------------------- tokenizer (a small CLIP-shaped vocabulary)
    import json
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, k = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b), cs.append(256 + k)
            k += 1
    chars = [chr(c) for c in cs]
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": 256 + i for i, c in enumerate(chars)})
    merges = ["t h", "th e</w>", "a b", "ab s", "abs t</w>", "s l", "sl a", "sla t", "slat e</w>"]
    for m in merges:
        a, b = m.split(" ")
        vocab[a + b] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    cfg1 = read(os.path.join(FX, "sd", "tiny-sd1", "tokenizer", "tokenizer_config.json"))
    cfg2 = read(os.path.join(FX, "sd", "tiny-sd2", "tokenizer", "tokenizer_config.json"))
    text = json.dumps(vocab, ensure_ascii=False).encode()
    mtext = ("#version: 0.2\n" + "\n".join(merges) + "\n").encode()
    seed("tokenizer", "sd1", text + b"\0" + mtext + b"\0" + cfg1)
    seed("tokenizer", "sd2", text + b"\0" + mtext + b"\0" + cfg2)

    # ---------------------------------------------------------------- HF cache (refs/main, then a link choice per file)
    seed("hub", "good", b"0123456789abcdef0123456789abcdef01234567\n\0" + bytes(9))
    seed("hub", "no_refs", b"\0" + bytes(9))
    seed("hub", "odd_links", b"0123456789abcdef0123456789abcdef01234567\0" + bytes(range(1, 10)))
    seed("hub", "escape", b"../../..\0" + bytes(9))
    shutil.rmtree(TMP)


main()
