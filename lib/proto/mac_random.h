/* mac_random.h - the OS random source behind lp_proto_mac_random (one file per OS). */
#ifndef LP_MAC_RANDOM_H
#define LP_MAC_RANDOM_H

#include <stddef.h>

/* Fills buf with len bytes from the OS CSPRNG. 0 or LP_ERR_IO. */
int lp_proto_os_random(void *buf, size_t len);

#endif /* LP_MAC_RANDOM_H */
