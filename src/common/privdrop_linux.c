/*
 * privdrop_linux.c - the permanent privilege drop (Linux: users and
 * capabilities; the Windows client drops nothing, see boot_windows.c).
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Sets the effective and permitted sets to just `keep` (a CAP_* bit mask
 * of the first 32 capabilities, 0 for none); inheritable is cleared. The
 * raw syscall avoids a libcap dependency for one call. */
static int caps_set(uint32_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = keep;
	data[0].permitted = keep;
	return (int)syscall(SYS_capset, &hdr, data);
}

bool lp_privdrop_privileged(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	uid_t r, e, s;

	if (getresuid(&r, &e, &s) < 0 || r == 0 || e == 0 || s == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return true;
	return (data[0].permitted | data[1].permitted) != 0;
}

static int lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e = getpwnam_r(user, &pw, buf, sizeof(buf), &res);

	if (e != 0)
		return LP_ERR_IO;
	if (res == NULL)
		return LP_ERR_NOT_FOUND;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int lp_privdrop(const char *user, unsigned flags)
{
	uint32_t keep = (flags & LP_PRIVDROP_KEEP_NET_ADMIN) ? (1u << CAP_NET_ADMIN) : 0;
	uid_t uid;
	gid_t gid;
	int rc;

	if (geteuid() == 0) {
		rc = lookup(user != NULL ? user : LP_PRIVDROP_DEFAULT_USER, &uid, &gid);
		if (rc < 0)
			return rc;
		if (uid == 0)
			return LP_ERR_INVAL;
		/* Without KEEPCAPS the uid change clears every capability. */
		if (keep != 0 && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
			return LP_ERR_PERM;
		if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			return LP_ERR_PERM;
		if (keep != 0 && prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0)
			return LP_ERR_PERM;
	}
	if (caps_set(keep) < 0)
		return LP_ERR_PERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return LP_ERR_PERM;
	/* Trust but verify: none of these may work any more. */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0 || geteuid() == 0)
		return LP_ERR_PERM;
	return 0;
}
