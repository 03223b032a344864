/* Tests for src/common/privdrop.c. The drops run in forked children. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privdrop.h"

/* Runs fn in a child; returns its exit status (0 = every check passed). */
static int in_child(int (*fn)(void))
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int caps_effective(uint32_t *eff)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	*eff = data[0].effective;
	return 0;
}

static int child_drop_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");
	gid_t groups[8];
	uint32_t eff;

	if (pw == NULL)
		return 10;
	if (lp_privdrop(NULL, 0) != 0)
		return 11;
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid)
		return 12;
	errno = 0;
	if (setuid(0) == 0 || errno != EPERM)
		return 13;
	if (seteuid(0) == 0 || setgid(0) == 0)
		return 14;
	if (getgroups(8, groups) != 1 || groups[0] != pw->pw_gid)
		return 15;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
		return 16;
	if (caps_effective(&eff) < 0 || eff != 0)
		return 17;
	return 0;
}

static int child_keep_net_admin(void)
{
	uint32_t eff;

	if (lp_privdrop("nobody", LP_PRIVDROP_KEEP_NET_ADMIN) != 0)
		return 20;
	if (setuid(0) == 0)
		return 21;
	if (caps_effective(&eff) < 0 || eff != (1u << CAP_NET_ADMIN))
		return 22;
	return 0;
}

static int child_unknown_user(void)
{
	if (lp_privdrop("lp-no-such-user-xyz", 0) != LP_ERR_NOT_FOUND)
		return 30;
	if (lp_privdrop("root", 0) != LP_ERR_INVAL)
		return 31;
	return geteuid() == 0 ? 0 : 32; /* nothing was dropped */
}

static void test_drop_to_nobody(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(child_drop_nobody), 0);
}

static void test_keep_net_admin(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(child_keep_net_admin), 0);
}

static void test_refusals(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(child_unknown_user), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_to_nobody),
		cmocka_unit_test(test_keep_net_admin),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
