/* safetensors: an 8-byte little-endian header length, a JSON header, then raw tensor data.
 * Files are memory-mapped; st_parse is a pure function of the bytes (it is fuzzed) and
 * validates everything before any tensor is used. */
#ifndef A2I2A_SAFETENSORS_H
#define A2I2A_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "a2i2a.h"

typedef enum { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL } st_dtype;

#define ST_MAX_DIMS 8

typedef struct {
  char *name;
  st_dtype dtype;
  int ndim;
  int64_t shape[ST_MAX_DIMS];
  size_t numel, nbytes;
  const void *data; /* inside the mapping: unaligned access is fine on x86/arm64 with memcpy */
} st_tensor;

typedef struct {
  char path[4096];
  void *map;
  size_t map_size;
  int owns_map;
  int n;
  st_tensor *tensors; /* sorted by name */
  int nmeta;
  char **meta_keys, **meta_values;
  int nowned;
  void **owned; /* copies made for this file (strided views of PyTorch storages), freed with it */
} st_file;

/* Parses buf[0..len) (not copied: tensors point into it). label names the file in errors. */
a2i2a_status st_parse(const uint8_t *buf, size_t len, const char *label, st_file *out);
a2i2a_status st_open(const char *path, st_file *out);
void st_close(st_file *f);
/* Maps a whole file read-only (*map NULL for an empty file); st_open's first half. */
a2i2a_status st_map_file(const char *path, void **map, size_t *len);

/* Writing (convert.c). The bytes that begin a safetensors file holding t[0..n) back to back in that order (each
 * t->nbytes long) with the metadata pairs: the 8-byte length and the JSON header, padded with
 * spaces to a multiple of 8. *out is malloc'd; *len its size. */
a2i2a_status st_header(const st_tensor *t, int n, char *const *meta_keys, char *const *meta_values, int nmeta,
                       char **out, size_t *len);
/* Writes f's tensors (in its order) and metadata as a safetensors file at path, under a
 * temporary name renamed into place; an existing file is replaced only with force. Progress as
 * stage "writing", one step per tensor; cancel checked between tensors. */
a2i2a_status st_write(const st_file *f, const char *path, int force, a2i2a_job *job);

const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);
/* Adds the pair (key, value), both malloc'd (NULL: out of memory), to f's metadata; they belong
 * to f even when this fails. */
a2i2a_status st_add_meta(st_file *f, char *key, char *value);
size_t st_dtype_size(st_dtype t);
const char *st_dtype_name(st_dtype t);

/* Converts a float tensor (F32/F16/BF16/F64) or an integer one to float32, numel values. */
void st_to_f32(const st_tensor *t, float *dst);
/* Finds name, checks it has exactly numel elements, converts to a new float32 buffer. */
float *st_load_f32(const st_file *f, const char *name, size_t numel_expected);

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);

#endif
