/* time_posix.c - lp_now_ns on POSIX: CLOCK_MONOTONIC. */
#include "lp_base.h"

#include <time.h>

uint64_t lp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * LP_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}
