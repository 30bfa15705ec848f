/* Check what cl_cvdhead() reads from a .cvd/.cld/.cud header and that cl_load() takes it.
 * Build: cc -o cvdhead-check cvdhead-check.c $(pkg-config --cflags --libs libclamav) */
#include <clamav.h>
#include <stdio.h>
#include <time.h>
int main(int argc, char **argv)
{
        if (argc != 2)
                return 64;
        if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS)
                return 70;
        struct cl_cvd *h = cl_cvdhead(argv[1]);
        if (!h) {
                printf("cl_cvdhead: NULL\n");
                return 1;
        }
        printf("time=%s version=%u sigs=%u fl=%u builder=%s stime=%u age_days=%.1f\n", h->time,
               h->version, h->sigs, h->fl, h->builder, h->stime,
               (time(NULL) - (double)h->stime) / 86400);
        cl_cvdfree(h);
        struct cl_engine *e = cl_engine_new();
        unsigned int n = 0;
        int rc = cl_load(argv[1], e, &n, CL_DB_STDOPT);
        printf("cl_load=%s sigs=%u\n", cl_strerror(rc), n);
        cl_engine_free(e);
        return 0;
}
