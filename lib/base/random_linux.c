/* random_linux.c - getrandom(2) behind lp_os_random (lp_base.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

#include "lp_base.h"

int lp_os_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return LP_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
