/* SHA-256 (FIPS 180-4), for run.json's input and model fingerprints and download checks. */
#ifndef A2I2A_SHA256_H
#define A2I2A_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "a2i2a.h"

typedef struct {
  uint32_t h[8];
  uint64_t len;     /* bytes hashed so far */
  uint8_t buf[64];
  size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, uint8_t digest[32]);
/* digest as 64 lowercase hex digits + NUL */
void sha256_hex(const uint8_t digest[32], char hex[65]);
/* The SHA-256 of a file's bytes, as hex. Errors name the file. */
a2i2a_status sha256_file(const char *path, char hex[65]);
/* The SHA-256 of paths[0..n)'s bytes one after the other (what `cat A B | sha256sum` gives). */
a2i2a_status sha256_files(const char *const *paths, int n, char hex[65]);

#endif
