/* Pattern generation speed of the wipe stream on one core: fills 4 MiB buffers with the keyed,
 * block-tagged AES-256-CTR pattern for N GiB and prints bytes per second.
 * Usage: wipe-stream-bench [GiB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wipe-internal.h"

int main(int argc, char **argv)
{
        unsigned gib = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 4;
        if (gib == 0 || gib > 1024)
                gib = 4;
        struct wipe_stream s = {0};
        if (wipe_stream_init(&s) < 0)
                return 1;
        size_t n = WIPE_IO_DEFAULT;
        uint8_t *buf = aligned_alloc(WIPE_BLOCK, n);
        if (!buf)
                return 1;
        uint64_t total = (uint64_t)gib << 30;
        double t0 = wipe_now();
        for (uint64_t off = 0; off < total; off += n)
                if (wipe_stream_fill(&s, off, buf, n) < 0)
                        return 1;
        double dt = wipe_now() - t0;
        printf("{\"bytes\": %llu, \"seconds\": %.3f, \"bytes_per_second\": %.0f}\n",
               (unsigned long long)total, dt, (double)total / dt);
        free(buf);
        wipe_stream_free(&s);
        return 0;
}
