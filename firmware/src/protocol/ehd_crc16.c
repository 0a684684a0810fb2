/* CRC-16/CCITT-FALSE, bitwise: 16 shifts per byte, no table to keep in flash. */
#include "ehd/ehd_protocol.h"

uint16_t ehd_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

uint16_t ehd_crc16(const uint8_t *data, size_t len)
{
    return ehd_crc16_update(EHD_CRC16_INIT, data, len);
}
