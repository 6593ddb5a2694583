/* Tensor kernels of the diffusion engine. Activations are plain float32 arrays: images NCHW
 * (one batch element at a time: [C][H][W]), sequences [tokens][channels]. Weights are
 * `weight` views that may stay F16/BF16 in memory (converted per use). All kernels use OpenMP
 * / OpenBLAS with a2i2a_get_threads() threads and allocate nothing per call beyond the
 * thread-local scratch of kernels.c (kernels_check reports when it could not grow). y may
 * alias x only where a comment says so.
 *
 * THIS SIGNATURE SET IS SHARED by the VAE, CLIP and UNet code: extend it, do not change it. */
#ifndef A2I2A_KERNELS_H
#define A2I2A_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "sd/safetensors.h"

typedef struct {
  st_dtype dtype;   /* ST_F32, ST_F16 or ST_BF16 */
  const void *data; /* NULL = absent (e.g. no bias) */
  size_t numel;
  int ndim;
  int64_t shape[4];
} weight;

/* Out of memory: the kernels return nothing and never abort. One that cannot get its scratch
 * skips its work (its output is then meaningless) and records the failure on the calling
 * thread. kernels_check returns A2I2A_ERR_NOMEM ("out of memory: kernel scratch of N MB") when
 * a kernel failed since the last check or reset, and clears the record; the networks reset at
 * the start of a forward pass and check after each block. */
void kernels_reset(void);
a2i2a_status kernels_check(void);
/* For tests: while on, the scratch of the calling thread and of its OpenMP team cannot grow
 * (a2i2a_release_scratch first, so that they have none). Other threads' jobs are not affected. */
void kernels_refuse_scratch(int on);

/* A view of a checkpoint tensor (no copy). Fails (A2I2A_ERR_MODEL, naming the tensor) if it is
 * not a float tensor or its element count is not numel (numel 0 = any). */
a2i2a_status weight_from_tensor(weight *w, const st_tensor *t, size_t numel);
/* Converts w to float32 into dst (numel values). */
void weight_to_f32(const weight *w, float *dst);

/* y[n][out] = x[n][in] · Wᵀ + b; W is [out][in] (torch Linear), b may be NULL/absent. */
void linear(float *y, const float *x, int n, int in, int out, const weight *W, const weight *b);

/* y[n][out] += x[n][in] · Wᵀ + b: the residual add fused into the linear layer. */
void linear_add(float *y, const float *x, int n, int in, int out, const weight *W, const weight *b);

/* 2-D convolution of one image x [C][H][W] with w [OC][C][k][k] (torch Conv2d), stride s and
 * zero padding top/left/bottom/right; y is [OC][OH][OW] with
 * OH = (H + pt + pb - k)/s + 1, OW = (W + pl + pr - k)/s + 1. b may be absent. */
void conv2d(float *y, const float *x, int C, int H, int W, const weight *w, const weight *b, int OC, int k,
            int s, int pt, int pl, int pb, int pr);

/* y += conv2d(x) + b: the residual add fused into the convolution (same arguments). */
void conv2d_add(float *y, const float *x, int C, int H, int W, const weight *w, const weight *b, int OC, int k,
                int s, int pt, int pl, int pb, int pr);
/* conv2d (stride 1, padding pad on every side) of the nearest-x2 upsampled x, without
 * materialising the upsampled image: x [C][H][W], y [OC][2H+2pad-k+1][2W+2pad-k+1]. */
void conv2d_up2(float *y, const float *x, int C, int H, int W, const weight *w, const weight *b, int OC, int k,
                int pad);

/* The convolution (stride s, zero padding pad on every side) of a batch of nb images
 * x [C][nb][H][W], each upsampled ×up (1 or 2, nearest) first; y [OC][nb][OH][OW].
 * accumulate: y += conv + b. With nb = 1 this is conv2d / conv2d_add / conv2d_up2; with more,
 * small images share their GEMMs, so the weights are read once for the whole batch. */
void conv2d_batch(float *y, const float *x, int nb, int C, int H, int W, const weight *w, const weight *b, int OC,
                  int k, int s, int pad, int up, int accumulate);

/* y = conv2d(silu(group_norm(x))) + b, 3x3 with stride 1 and padding 1 (y += … when
 * accumulate): the GroupNorm + SiLU are applied as the convolution reads its rows, with no pass
 * of their own and x left as it is. Only where conv3x3_takes_norm(C, H, W, OC) (the Winograd
 * path); elsewhere it records a failure for kernels_check and does nothing. */
int conv3x3_takes_norm(int C, int H, int W, int OC);
void conv3x3_norm_silu(float *y, const float *x, int C, int H, int W, int groups, const weight *gamma,
                       const weight *beta, float eps, const weight *w, const weight *b, int OC, int accumulate);

/* Circular padding (torch's padding_mode="circular"; A1111's tiling, stable-diffusion.cpp's
 * --circular): while set on the calling thread, every convolution above whose padding is
 * symmetric on an axis named here (KERNELS_WRAP_X: left/right, KERNELS_WRAP_Y: top/bottom)
 * pads that axis with the opposite edge instead of zeros; asymmetric padding stays zero. The
 * wrapped convolutions copy their padded input once and take the im2col path. 0 (the default)
 * leaves every kernel as it was. A job's setting: it lasts until changed on this thread. */
enum { KERNELS_WRAP_X = 1, KERNELS_WRAP_Y = 2 };
void kernels_set_wrap(int axes);
int kernels_wrap(void);
/* 1-D convolution (torch Conv1d, one group) of x [C][T] with w [OC][C][k], dilation d and zero
 * padding pad on both sides: y [OC][T + 2·pad − d·(k − 1)]; b may be absent; accumulate: y += conv + b. */
void conv1d(float *y, const float *x, int C, int T, const weight *w, const weight *b, int OC, int k, int dilation,
            int pad, int accumulate);
/* torch ConvTranspose1d (one group, no dilation or output padding) of x [C][T] with w [C][OC][k],
 * stride s and padding pad: y [OC][(T − 1)·s − 2·pad + k]. */
void conv_transpose1d(float *y, const float *x, int C, int T, const weight *w, const weight *b, int OC, int k,
                      int stride, int pad);
/* Depthwise 1-D convolution (Conv1d with groups = channels, w [C][1][k]) of time-major rows
 * x [T][C], zero padding pad: y [T + 2·pad − k + 1][C]. */
void depthwise_conv1d_rows(float *y, const float *x, int T, int C, const weight *w, const weight *b, int k, int pad);

/* 3x3 stride-1 pad-1 convolutions with at least winograd_min_channels input and output
 * channels (default 16; a huge value turns Winograd off) use Winograd (F(4x4,3x3) or
 * F(2x2,3x3), see kernels_tune_winograd_f4) in chunks of winograd_budget floats of scratch
 * (default 8M; 0 = default). For tests and benchmarks. */
void kernels_tune(int winograd_min_channels, size_t winograd_budget);
/* Smallest output (pixels) a 3x3 convolution must have to take the Winograd path (0 = the
 * default, 400: smaller maps, e.g. the UNet's 130- and 35-pixel ones at 400x296, use im2col). */
void kernels_tune_winograd_min_pixels(size_t pixels);
/* Smallest output (pixels) a Winograd convolution must have to use 4x4 output tiles,
 * F(4x4,3x3), instead of 2x2 (0 = the default; SIZE_MAX = never). Unlike the two above it holds
 * for the calling thread only (the convolutions it runs), so one job cannot change another's. */
void kernels_tune_winograd_f4(size_t min_pixels);
/* 3x3 convolutions on maps below that Winograd minimum with at least min_channels input channels
 * and a multiple of 16 output channels take Winograd F(tile x tile, 3x3) (tile 2 or 4) with the
 * filters converted and transformed in small blocks, each multiplied at once while in cache;
 * the others im2col. 0 = the defaults (256 channels; tile 4 on maps of >= 100 output pixels, 2
 * below); min_channels INT_MAX = never. Thread-local like kernels_tune_winograd_f4. */
void kernels_tune_winograd_fused(int min_channels, int tile);
/* The in-cache Winograd's product with AVX-512 where the CPU has it (on = 1, the default: then the
 * maps up to 128x128 of >= 256 channels take that path too) or AVX2 only and the small maps only
 * (0); the AVX-512 kernel's tiles per group (1-12, 0: 12). The product has the same bits either
 * way. Thread-local; for tests and benchmarks. */
void kernels_tune_winograd_avx512(int on, int tiles);
/* The large maps' path (AVX-512; kernels.c, "Winograd on large maps"): 0 off, 1 on the maps above
 * 128x128 pixels (the default), 2 on every map of at most 256 channels in and out, OC a multiple
 * of 32 (tests, bench_conv3x3). Thread-local, like the other tunings. */
void kernels_tune_winograd_rows(int mode);

/* GroupNorm over [C][HW] (y may alias x); gamma/beta per channel. */
void group_norm(float *y, const float *x, int C, int HW, int groups, const weight *gamma, const weight *beta,
                float eps);
/* group_norm then SiLU, in one pass (y may alias x). */
void group_norm_silu(float *y, const float *x, int C, int HW, int groups, const weight *gamma, const weight *beta,
                     float eps);
/* GroupNorm of a batch laid out [C][nb][HW], each image with its own statistics; then SiLU
 * when with_silu (y may alias x). nb = 1: group_norm / group_norm_silu. */
void group_norm_batch(float *y, const float *x, int C, int nb, int HW, int groups, const weight *gamma,
                      const weight *beta, float eps, int with_silu);
/* LayerNorm of n rows of dim values (y may alias x). */
void layer_norm(float *y, const float *x, int n, int dim, const weight *gamma, const weight *beta, float eps);

/* Element-wise, in place. */
void silu(float *x, size_t n);
void relu(float *x, size_t n);
void gelu(float *x, size_t n);       /* exact: 0.5·x·(1 + erf(x/√2)) */
void quick_gelu(float *x, size_t n); /* x·sigmoid(1.702·x) */
void leaky_relu(float *y, const float *x, size_t n, float slope); /* x < 0: slope·x (y may alias x) */
/* GEGLU: x is [n][2·dim] = [a | gate]; y[n][dim] = a · gelu(gate). */
void geglu(float *y, const float *x, int n, int dim);
void add(float *y, const float *x, size_t n); /* y += x */
void softmax_rows(float *x, int rows, int cols);

/* Multi-head attention: q [nq][q_stride], k/v [nk][kv_stride]; head h uses channels
 * [h·head_dim, (h+1)·head_dim) of each row. out [nq][heads·head_dim]. scale is usually
 * 1/√head_dim. causal: query i sees keys 0..i. Computed in tiles with an online softmax:
 * never a full nq×nk score matrix at large sizes. */
void attention(float *out, const float *q, int q_stride, const float *k, const float *v, int kv_stride, int nq,
               int nk, int heads, int head_dim, float scale, int causal);
/* Largest head_dim that takes the register-blocked attention kernel rather than the one built
 * on sgemm (0 = the default: every width with AVX-512, 160 with AVX2 only; negative = never),
 * and whether that kernel may use AVX-512 where the CPU has it (1, the default) or AVX2 only
 * (0). For the calling thread only, like kernels_tune_winograd_f4; for tests and benchmarks. */
void kernels_tune_attention(int blocked_max_head_dim, int avx512);

/* Nearest-neighbour resize of [C][H][W] to [C][OH][OW] with torch's rule src = floor(dst·in/out). */
void upsample_nearest(float *y, const float *x, int C, int H, int W, int OH, int OW);

/* [C][HW] <-> [HW][C] transposes (for the transformer blocks). */
void transpose_chw_hwc(float *y, const float *x, int C, int HW);
void transpose_hwc_chw(float *y, const float *x, int C, int HW);

#endif
