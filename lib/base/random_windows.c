/* random_windows.c - BCryptGenRandom behind lp_os_random (lp_base.h). */

#include <windows.h>
#include <bcrypt.h>

#include "lp_base.h"

int lp_os_random(void *buf, size_t len)
{
	if (len > ULONG_MAX)
		return LP_ERR_INVAL;
	if (!BCRYPT_SUCCESS(
	            BCryptGenRandom(NULL, buf, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
		return LP_ERR_IO;
	return 0;
}
