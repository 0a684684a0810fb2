/*
 * Integrity of the flashed model: the host export lists the constant bytes of
 * the model and of the HDC tables as regions, in a fixed order, with the
 * CRC-32 it computed over them and the table format version
 * (docs/model-format.md, "Integrity"). The firmware recomputes both CRCs at
 * boot; a corrupt table is reported by INFO and every other request is refused
 * (docs/protocol.md, INTEGRITY).
 */
#ifndef EHD_INTEGRITY_H
#define EHD_INTEGRITY_H

#include <stddef.h>

#include "ehd_types.h"

/* Version of the generated table format this firmware reads (edgehdc.export.integrity). */
#define EHD_TABLE_FORMAT_VERSION 1u

/* `bytes` bytes at `data`, hashed as they lie in memory (little-endian). */
typedef struct {
    const void *data;
    uint32_t bytes;
} ehd_region;

/* One table: its regions in hashing order and the CRC-32 the host computed over them. */
typedef struct {
    const ehd_region *regions;
    uint16_t n_regions;
    uint32_t crc;
} ehd_table_crc;

/* What ehd_generated.c defines as `ehd_generated_integrity`. */
typedef struct {
    uint16_t format_version;
    ehd_table_crc model;
    ehd_table_crc hdc;
} ehd_integrity;

/* ehd_integrity_report.flags: 0 means every table is intact. */
#define EHD_INTEGRITY_MODEL_CORRUPT 1u
#define EHD_INTEGRITY_HDC_CORRUPT 2u
#define EHD_INTEGRITY_BAD_FORMAT 4u /* tables of another format version (or none) */

typedef struct {
    uint16_t format_version; /* of the generated tables */
    uint8_t flags;           /* EHD_INTEGRITY_* */
    uint32_t model_crc;      /* computed at boot */
    uint32_t hdc_crc;
} ehd_integrity_report;

/* CRC-32/ISO-HDLC (IEEE 802.3, zlib's crc32): continue `crc` (0 to start) over `len` bytes. */
uint32_t ehd_crc32_update(uint32_t crc, const uint8_t *data, size_t len);

/* CRC-32 of the regions' bytes, concatenated in order. */
uint32_t ehd_crc32_regions(const ehd_region *regions, uint16_t n_regions);

/* Recomputes both CRCs and compares them and the format version with `tables` (NULL: BAD_FORMAT). */
ehd_integrity_report ehd_integrity_check(const ehd_integrity *tables);

#endif /* EHD_INTEGRITY_H */
