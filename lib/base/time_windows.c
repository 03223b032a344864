/*
 * time_windows.c - lp_now_ns on Windows: QueryPerformanceCounter, which is
 * monotonic and does not need winpthreads (mingw's clock_gettime does).
 */
#include "lp_base.h"

#include <windows.h>

uint64_t lp_now_ns(void)
{
	static LARGE_INTEGER freq;
	LARGE_INTEGER now;
	uint64_t sec, rem;

	if (freq.QuadPart == 0)
		QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&now);
	/* Split to avoid overflowing 64 bits at high counter frequencies. */
	sec = (uint64_t)now.QuadPart / (uint64_t)freq.QuadPart;
	rem = (uint64_t)now.QuadPart % (uint64_t)freq.QuadPart;
	return sec * LP_NS_PER_SEC + rem * LP_NS_PER_SEC / (uint64_t)freq.QuadPart;
}
