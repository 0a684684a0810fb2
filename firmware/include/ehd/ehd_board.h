/*
 * What the firmware app needs from a board. Each folder under firmware/boards/
 * implements it; nothing under firmware/src depends on it.
 */
#ifndef EHD_BOARD_H
#define EHD_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Clocks, UART and counter; called once, first thing in main(). */
void ehd_board_init(void);

/* Blocks until the host UART has received a byte. */
uint8_t ehd_board_getc(void);

/* Blocks until every byte has been handed to the host UART. */
void ehd_board_write(const uint8_t *data, size_t len);

/* Free-running 32-bit counter (wraps) and its frequency in Hz. */
uint32_t ehd_board_ticks(void);
uint32_t ehd_board_ticks_hz(void);

/* Short ASCII board name reported in the INFO reply. */
const char *ehd_board_name(void);

/* Ends the program with `code` (semihosting exit on an emulator); never returns. */
void ehd_board_exit(int code) __attribute__((noreturn));

#endif /* EHD_BOARD_H */
