/*
 * Calls the host build of gridbook-ffi through GridbookFFI.h and GridbookCoreFFI.h, the headers the
 * Swift package imports, on a machine without Swift. It checks here what the Swift side would
 * otherwise find out on a Mac: every function the headers declare is exported by the library (the
 * link fails otherwise), the contract version and API checksums are the ones the Swift files verify
 * when they load, and the header's RustBuffer and RustCallStatus match the library's layout (a real
 * call round-trips).
 *
 * check-header.sh generates the two included lists from the headers and the Swift files.
 */
#include <stdio.h>
#include <string.h>

#include "GridbookFFI.h"
#include "GridbookCoreFFI.h"

typedef void (*any_fn)(void);

static const any_fn declared[] = {
#define SYMBOL(name) (any_fn)name,
#include "symbols.inc"
#undef SYMBOL
};

struct checksum {
    const char *name;
    uint16_t (*fn)(void);
    uint16_t expected;
};

static const struct checksum checksums[] = {
#define CHECKSUM(name, expected) {#name, name, expected},
#include "checksums.inc"
#undef CHECKSUM
};

static RustBuffer string_buffer(const char *s) {
    RustCallStatus status = {0};
    ForeignBytes bytes = {(int32_t)strlen(s), (const uint8_t *)s};
    return ffi_gridbook_ffi_rustbuffer_from_bytes(bytes, &status);
}

static void free_buffer(RustBuffer buf) {
    RustCallStatus status = {0};
    ffi_gridbook_ffi_rustbuffer_free(buf, &status);
}

/* normalize_phone's answer for `raw`: 0 if it returned `want`, 1 if it failed with the flat error
 * variant `want_error` (1-based, big-endian i32 first in the error buffer), -1 otherwise. */
static int normalize_phone(const char *raw, const char *want, int want_error) {
    RustCallStatus status = {0};
    /* The call takes ownership of its argument buffer. */
    RustBuffer out = uniffi_gridbook_ffi_fn_func_normalize_phone(string_buffer(raw), &status);
    int result = -1;
    if (status.code == 0 && want && out.len == strlen(want) && memcmp(out.data, want, out.len) == 0) {
        result = 0;
    } else if (status.code == 1 && want_error && status.errorBuf.len >= 4) {
        const uint8_t *b = status.errorBuf.data;
        uint32_t variant = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        result = variant == (uint32_t)want_error ? 1 : -1;
    }
    free_buffer(status.code == 0 ? out : status.errorBuf);
    return result;
}

int main(void) {
    int failures = 0;
    size_t symbols = sizeof declared / sizeof declared[0];
    size_t sums = sizeof checksums / sizeof checksums[0];

    uint32_t contract = ffi_gridbook_ffi_uniffi_contract_version();
    if (contract != EXPECTED_CONTRACT_VERSION) {
        fprintf(stderr, "contract version: library %u, Gridbook.swift expects %u\n", contract, EXPECTED_CONTRACT_VERSION);
        failures++;
    }
    for (size_t i = 0; i < sums; i++) {
        uint16_t got = checksums[i].fn();
        if (got != checksums[i].expected) {
            fprintf(stderr, "%s: library %u, Gridbook.swift expects %u\n", checksums[i].name, got, checksums[i].expected);
            failures++;
        }
    }
    if (normalize_phone("+86 138-0013-8000", "13800138000", 0) != 0) {
        fprintf(stderr, "normalize_phone did not return the canonical number\n");
        failures++;
    }
    /* 1 is InvalidInput, the first variant of GridbookError. */
    if (normalize_phone("12345", NULL, 1) != 1) {
        fprintf(stderr, "normalize_phone did not fail with InvalidInput\n");
        failures++;
    }

    if (failures) {
        printf("header check FAILED: %d problem(s) between GridbookFFI.h, Gridbook.swift and the library\n", failures);
        return 1;
    }
    printf("header check ok: %zu functions linked, contract %u, %zu checksums match Gridbook.swift, a call round-trips\n",
           symbols, contract, sums);
    return 0;
}
