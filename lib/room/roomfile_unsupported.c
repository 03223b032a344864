/*
 * roomfile_unsupported.c - lp_room_file_open where rooms are not hosted:
 * only the Linux gateway owns a room file; Windows peers join with invites.
 */
#include "roomfile_int.h"

#include <stdio.h>

int lp_room_file_open(const char *path, struct lp_room_file *out, bool *created, char *err,
                      size_t errlen)
{
	(void)path;
	if (created != NULL)
		*created = false;
	if (out != NULL)
		lp_room_file_wipe(out);
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "room files are only supported on the Linux gateway");
	return LP_ERR_UNSUPPORTED;
}
