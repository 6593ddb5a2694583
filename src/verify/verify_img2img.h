/* What the img2img runner shares with the runners of cases built on it (verify_lora.c). */
#ifndef A2I2A_VERIFY_IMG2IMG_H
#define A2I2A_VERIFY_IMG2IMG_H

#include "sd/pipeline.h"
#include "sd/safetensors.h"
#include "verify/verify.h"

/* One end-to-end pass of an img2img case (golden file f, its manifest) on an open model: from
 * init_image_uint8 with the noise given, against latents_start, final_latents, decoded_image,
 * output_float and output_uint8; lines labelled "<stem>.<pass>.<tensor>". */
void verify_img2img_end_to_end(verify_ctx *v, const char *stem, const cJSON *manifest, const st_file *f,
                               struct a2i2a_model *mdl, const sd_i2i_config *cfg, const float *cond,
                               const float *uncond, const char *pass, sd_noise *noise);

#endif
