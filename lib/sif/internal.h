/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the SIF reader and writer; never installed. */
#ifndef ARCA_SIF_INTERNAL_H
#define ARCA_SIF_INTERNAL_H

#include "sif.h"

/*
 * Checks a decoded header and descriptor table against a file of @file_len
 * bytes: everything the rest of arca trusts. @descr holds
 * h->descriptors_total entries.
 */
int sif_validate(const struct sif_header *h, const struct sif_descr *descr, uint64_t file_len, struct arca_err *e);

/* Decodes and validates the header and descriptor table from @data. On
 * success *descr_out holds descriptors_total entries (caller frees). */
int sif_parse(const uint8_t *data, uint64_t len, struct sif_header *h, struct sif_descr **descr_out,
	      struct arca_err *e);

#endif
