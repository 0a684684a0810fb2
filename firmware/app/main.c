/*
 * Firmware entry point for every board: serve the generated model over the
 * host UART forever. The model comes from `ehd_generated.h`/`.c`, which the
 * host export writes into the model directory (EDGEHDC_MODEL_DIR).
 */
#include "ehd/ehd_board.h"
#include "ehd/ehd_service.h"

#if defined(__has_include)
#if !__has_include("ehd_generated.h")
#error "ehd_generated.h not found: export a model first (edgehdc export) and point EDGEHDC_MODEL_DIR at it"
#endif
#endif
#include "ehd_generated.h"

#ifndef EHD_BACKEND_ID
#define EHD_BACKEND_ID EHD_BACKEND_PORTABLE
#endif

/* Word-aligned, zero-initialised arena for every activation tensor. */
static uint32_t arena[(EHD_GENERATED_ARENA_SIZE + 3u) / 4u];
static ehd_service service;

static void write_uart(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    ehd_board_write(data, len);
}

int main(void)
{
    ehd_board_init();
    const ehd_service_board board = {
        .name = ehd_board_name(),
        .backend = EHD_BACKEND_ID,
        .ticks = ehd_board_ticks,
        .ticks_hz = ehd_board_ticks_hz(),
    };
    /* A model that does not fit still answers INFO; INFER then replies RUNTIME. */
    (void)ehd_service_init(&service, &ehd_generated_model, &ehd_generated_hdc, (int8_t *)arena,
                           (uint32_t)sizeof(arena), &board, write_uart, 0);
    /* CRC-32 of the flashed tables: a corrupt model answers INFO and refuses to run. */
    ehd_service_check_integrity(&service, &ehd_generated_integrity);
    for (;;) {
        ehd_service_feed(&service, ehd_board_getc());
    }
}
