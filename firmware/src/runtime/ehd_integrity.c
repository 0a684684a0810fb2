/* Boot-time CRC-32 check of the generated model and HDC tables (ehd_integrity.h). */
#include "ehd/ehd_integrity.h"

/* Reflected polynomial 0xEDB88320, four bits at a time: a 64-byte table instead of 1 KiB. */
static const uint32_t crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t ehd_crc32_update(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc; /* zlib convention: the running value is kept inverted */
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc32_nibble[crc & 0xFu];
        crc = (crc >> 4) ^ crc32_nibble[crc & 0xFu];
    }
    return ~crc;
}

uint32_t ehd_crc32_regions(const ehd_region *regions, uint16_t n_regions)
{
    uint32_t crc = 0;
    for (uint16_t i = 0; regions != 0 && i < n_regions; i++) {
        crc = ehd_crc32_update(crc, (const uint8_t *)regions[i].data, regions[i].bytes);
    }
    return crc;
}

ehd_integrity_report ehd_integrity_check(const ehd_integrity *tables)
{
    ehd_integrity_report r = {0, EHD_INTEGRITY_BAD_FORMAT, 0, 0};
    if (tables == 0) {
        return r;
    }
    r.format_version = tables->format_version;
    r.model_crc = ehd_crc32_regions(tables->model.regions, tables->model.n_regions);
    r.hdc_crc = ehd_crc32_regions(tables->hdc.regions, tables->hdc.n_regions);
    r.flags = (uint8_t)((tables->format_version != EHD_TABLE_FORMAT_VERSION ? EHD_INTEGRITY_BAD_FORMAT : 0u) |
                        (r.model_crc != tables->model.crc ? EHD_INTEGRITY_MODEL_CORRUPT : 0u) |
                        (r.hdc_crc != tables->hdc.crc ? EHD_INTEGRITY_HDC_CORRUPT : 0u));
    return r;
}
