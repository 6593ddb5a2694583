/* PyTorch checkpoints (.bin, .fp16.bin, .ckpt, .pt, .pth) read without running anything, and
 * presented as the same st_file a .safetensors file gives, so that everything that takes one
 * takes the other.
 *
 * Both containers torch.save has written: the zip format (PyTorch >= 1.6: one folder holding
 * data.pkl, data/<key> with each storage's raw bytes, version, byteorder), read through libzip,
 * and the legacy format (five pickles in a row — magic number, protocol version, sys_info,
 * the state dict, the storage keys — then each storage's element count and bytes). The pickles
 * go through the data-only machine of pickle.h. Storages are used in place in the file's
 * mapping (the zip entries are stored uncompressed, 64-byte aligned); a tensor that is a
 * strided view of its storage is copied to contiguous once. A .ckpt's weights are its
 * "state_dict" entry, a HiFi-GAN generator file's its "generator" entry (else the top dict); the
 * other entries that are numbers, booleans or strings become metadata ("global_step": "470000"). */
#ifndef A2I2A_TORCH_FILE_H
#define A2I2A_TORCH_FILE_H

#include "sd/safetensors.h"

/* Parses a PyTorch checkpoint held in buf[0..len) (tensors point into it or into copies owned
 * by out). A pure function of the bytes (fuzzed by tests/fuzz_pickle.c). Refusals name label:
 * "x.bin: not a weights file: it calls posix.system". */
a2i2a_status pt_parse(const uint8_t *buf, size_t len, const char *label, st_file *out);
a2i2a_status pt_open(const char *path, st_file *out);

/* 1 if path is named like a PyTorch checkpoint (.bin, .ckpt, .pt, .pth). */
int pt_is_pickle_name(const char *path);

/* A weights file of either kind: .safetensors, or a PyTorch checkpoint (by its name, else by
 * its first bytes). */
a2i2a_status weights_open(const char *path, st_file *out);

#endif
