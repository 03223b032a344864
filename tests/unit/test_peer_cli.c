/*
 * test_peer_cli.c - the private-room flags of src/common/peer_cli.c: the
 * gateway's room file and invite, the clients' --invite/--invite-file, and
 * --relay-pin, through the same calls the binaries make.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lp_quic.h"
#include "peer_cli.h"

#define PIN "sha256:boxizA0a8vgQvzJ07qiOGYj39XOp8BIC9WQioelodJY"

static char g_dir[64];
static char g_usage[1024];

static const struct lp_cli_prog prog_template = { .name = "test-peer" };

/* Runs the flags through lp_peer_cli_opt and lp_peer_cli_finish; the usage
 * line, if any, lands in g_usage. */
static int parse(struct lp_peer_args *a, enum lp_role role, const int *ids, const char *const *vals,
                 size_t n)
{
	struct lp_cli_prog prog = prog_template;
	char err[LP_CLI_ERR_MAX];
	FILE *f = tmpfile();
	size_t len;
	int rc = 0;

	assert_non_null(f);
	prog.err = f;
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < n && rc == 0; i++) {
		err[0] = '\0';
		rc = lp_peer_cli_opt(a, ids[i], vals[i], err, sizeof(err));
		if (rc < 0)
			fprintf(f, "%s\n", err);
	}
	if (rc == 0)
		rc = lp_peer_cli_finish(a, role, &prog);
	rewind(f);
	len = fread(g_usage, 1, sizeof(g_usage) - 1, f);
	g_usage[len] = '\0';
	fclose(f);
	return rc;
}

static void path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", g_dir, name);
}

/* Prints the gateway's invite into a file; returns the line. */
static void invite_to(const struct lp_peer_args *a, const uint8_t *relay_pin, const char *file,
                      char *line, size_t cap)
{
	FILE *f = fopen(file, "w");
	size_t n;

	assert_non_null(f);
	assert_int_equal(lp_peer_cli_print_invite(a, relay_pin, f), 0);
	fclose(f);
	f = fopen(file, "r");
	assert_non_null(f);
	n = fread(line, 1, cap - 1, f);
	fclose(f);
	line[n] = '\0';
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/lp_peer_cli.XXXXXX");
	return mkdtemp(g_dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const files[] = { "party.room", "party.invite", "relay.der",
		                             "bad.invite" };
	char p[128];

	(void)state;
	for (size_t i = 0; i < LP_ARRAY_LEN(files); i++) {
		path(p, sizeof(p), files[i]);
		(void)unlink(p);
	}
	return rmdir(g_dir);
}

/* The gateway makes the room and its invite; a client given the invite
 * file ends up with the same keys, relay and pin. */
static void test_room_file_and_invite(void **state)
{
	static const int gw_ids[] = { LP_PEER_OPT_RELAY, LP_PEER_OPT_ROOM_FILE,
		                      LP_PEER_OPT_RELAY_PIN };
	static const int cl_ids[] = { LP_PEER_OPT_INVITE_FILE };
	struct lp_peer_args gw, gw2, cl;
	char room[128], inv[128], line[LP_INVITE_MAX], line2[LP_INVITE_MAX];
	const char *gw_vals[] = { "relay.test:4433", room, PIN };
	const char *cl_vals[] = { inv };
	struct lp_client_cfg sc;
	struct lp_quic_client_cfg tls;
	struct lp_invite parsed;
	struct stat st;
	uint8_t pin[32];

	(void)state;
	path(room, sizeof(room), "party.room");
	path(inv, sizeof(inv), "party.invite");
	assert_int_equal(parse(&gw, LP_ROLE_GATEWAY, gw_ids, gw_vals, 3), 0);
	assert_int_equal(lp_peer_cli_check_files(&gw, NULL), 0);
	assert_true(gw.private_room);
	assert_int_equal(stat(room, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	invite_to(&gw, NULL, inv, line, sizeof(line));
	assert_int_equal(strncmp(line, "softlan://relay.test:4433/", 26), 0);
	assert_non_null(strstr(line, "pin=" PIN));
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(lp_invite_parse(line, &parsed, NULL, 0), 0);
	assert_memory_equal(parsed.room_id, gw.keys.room_id, 16);
	assert_int_equal(lp_room_pin_parse(PIN, pin), 0);
	assert_memory_equal(parsed.pin, pin, 32);
	/* The gateway's session: the keys and its host seed. */
	memset(&sc, 0, sizeof(sc));
	lp_peer_cli_session(&gw, &sc);
	assert_null(sc.room);
	assert_ptr_equal(sc.room_keys, &gw.keys);
	assert_non_null(sc.host_seed);

	/* The next start keeps the room, hence the invite. */
	assert_int_equal(parse(&gw2, LP_ROLE_GATEWAY, gw_ids, gw_vals, 3), 0);
	assert_int_equal(lp_peer_cli_check_files(&gw2, NULL), 0);
	invite_to(&gw2, NULL, inv, line2, sizeof(line2));
	assert_string_equal(line, line2);

	assert_int_equal(parse(&cl, LP_ROLE_CLIENT, cl_ids, cl_vals, 1), 0);
	assert_true(cl.private_room);
	assert_memory_equal(&cl.keys, &gw.keys, sizeof(cl.keys) - sizeof(cl.keys.adm_seed));
	assert_memory_equal(cl.keys.adm_seed, gw.keys.adm_seed, sizeof(cl.keys.adm_seed));
	assert_string_equal(cl.relay.host, "relay.test");
	assert_int_equal(cl.relay.port, 4433);
	assert_string_equal(cl.server_name, "relay.test");
	lp_peer_cli_tls(&cl, &tls);
	assert_true(tls.spki_pin_set);
	assert_memory_equal(tls.spki_pin, pin, 32);
	memset(&sc, 0, sizeof(sc));
	lp_peer_cli_session(&cl, &sc);
	assert_ptr_equal(sc.room_keys, &cl.keys);
	assert_null(sc.host_seed);
	lp_peer_cli_free(&gw);
	lp_peer_cli_free(&gw2);
	lp_peer_cli_free(&cl);
	lp_invite_wipe(&parsed);
}

/* The pin a gateway puts in its invite without --relay-pin: the key of
 * --relay-ca-cert's certificate, or what --ca-file trust verified. */
static void test_invite_pin_sources(void **state)
{
	static const int ids[] = { LP_PEER_OPT_RELAY, LP_PEER_OPT_ROOM_FILE, LP_PEER_OPT_CA_CERT };
	struct lp_quic_server_cfg scfg = { 0 };
	struct lp_quic_ctx *srv = NULL;
	struct lp_peer_args gw;
	struct lp_invite parsed;
	char room[128], der_path[128], inv[128], line[LP_INVITE_MAX];
	const char *vals[] = { "192.0.2.7", room, der_path };
	uint8_t pin[32], other[32];
	FILE *f;

	(void)state;
	path(room, sizeof(room), "party.room");
	path(der_path, sizeof(der_path), "relay.der");
	path(inv, sizeof(inv), "party.invite");
	scfg.dev_cert_der_out = der_path;
	assert_int_equal(lp_quic_ctx_new_server(&scfg, NULL, &srv), 0);
	assert_int_equal(lp_quic_ctx_cert_pin(srv, pin), 0);
	lp_quic_ctx_del(srv);
	assert_int_equal(parse(&gw, LP_ROLE_GATEWAY, ids, vals, 3), 0);
	assert_int_equal(lp_peer_cli_check_files(&gw, NULL), 0);
	invite_to(&gw, NULL, inv, line, sizeof(line));
	assert_int_equal(lp_invite_parse(line, &parsed, NULL, 0), 0);
	assert_memory_equal(parsed.pin, pin, 32);
	assert_string_equal(parsed.host, "192.0.2.7");
	assert_int_equal(parsed.port, 443);
	lp_peer_cli_free(&gw);

	/* --ca-file only: no pin before the first connection, then its pin. */
	vals[2] = der_path; /* any readable file does as a CA file here */
	{
		static const int ids2[] = { LP_PEER_OPT_RELAY, LP_PEER_OPT_ROOM_FILE,
			                    LP_PEER_OPT_CA_FILE };

		assert_int_equal(parse(&gw, LP_ROLE_GATEWAY, ids2, vals, 3), LP_ERR_INVAL);
		assert_non_null(strstr(g_usage, "IP address")); /* no name to check a chain */
		vals[0] = "relay.test";
		assert_int_equal(parse(&gw, LP_ROLE_GATEWAY, ids2, vals, 3), 0);
	}
	assert_int_equal(lp_peer_cli_check_files(&gw, NULL), 0);
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(lp_peer_cli_print_invite(&gw, NULL, f), LP_ERR_STATE);
	assert_int_equal(ftell(f), 0);
	fclose(f);
	memset(other, 0x42, sizeof(other));
	invite_to(&gw, other, inv, line, sizeof(line));
	assert_int_equal(lp_invite_parse(line, &parsed, NULL, 0), 0);
	assert_memory_equal(parsed.pin, other, 32);
	lp_peer_cli_free(&gw);
	lp_invite_wipe(&parsed);
}

static void test_usage_errors(void **state)
{
	struct lp_peer_args a;
	char bad[128], line[LP_INVITE_MAX], room[128], inv[128];
	FILE *f;

	(void)state;
	path(room, sizeof(room), "party.room");
	path(inv, sizeof(inv), "party.invite");
	path(bad, sizeof(bad), "bad.invite");
	{
		static const int ids[] = { LP_PEER_OPT_RELAY, LP_PEER_OPT_ROOM };
		const char *vals[] = { "relay.test", "LAN1" };

		/* An open room still works, for both roles. */
		assert_int_equal(parse(&a, LP_ROLE_CLIENT, ids, vals, 2), 0);
		assert_false(a.private_room);
		assert_int_equal(parse(&a, LP_ROLE_GATEWAY, ids, vals, 2), 0);
	}
	{
		static const int ids[] = { LP_PEER_OPT_ROOM, LP_PEER_OPT_INVITE_FILE };
		const char *vals[] = { "LAN1", inv };

		assert_int_equal(parse(&a, LP_ROLE_CLIENT, ids, vals, 2), LP_ERR_INVAL);
		assert_non_null(strstr(g_usage, "give one of"));
	}
	{
		static const int ids[] = { LP_PEER_OPT_ROOM };
		const char *vals[] = { "LAN1" };

		assert_int_equal(parse(&a, LP_ROLE_CLIENT, ids, vals, 1), LP_ERR_INVAL);
		assert_non_null(strstr(g_usage, "--relay"));
	}
	{
		static const int ids[] = { LP_PEER_OPT_RELAY_PIN };
		const char *vals[] = { "sha256:short" };

		assert_int_equal(parse(&a, LP_ROLE_CLIENT, ids, vals, 1), LP_ERR_INVAL);
		assert_non_null(strstr(g_usage, "--relay-pin"));
	}
	/* A damaged invite says what is wrong and never echoes the secret. */
	f = fopen(inv, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	{
		char *hash = strchr(line, '#');

		assert_non_null(hash);
		hash[5] = hash[5] == 'A' ? 'B' : 'A';
		f = fopen(bad, "w");
		assert_non_null(f);
		fputs(line, f);
		fclose(f);
	}
	{
		static const int ids[] = { LP_PEER_OPT_INVITE_FILE };
		const char *vals[] = { bad };

		assert_int_equal(parse(&a, LP_ROLE_CLIENT, ids, vals, 1), LP_ERR_INVAL);
		assert_non_null(strstr(g_usage, "damaged"));
		assert_null(strstr(g_usage, strchr(line, '#') + 1));
	}
	{
		static const int ids[] = { LP_PEER_OPT_INVITE_FILE, LP_PEER_OPT_RELAY_PIN };
		const char *vals[] = { inv, "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };

		assert_int_equal(parse(&a, LP_ROLE_CLIENT, ids, vals, 2), LP_ERR_INVAL);
		assert_non_null(strstr(g_usage, "differs"));
	}
	{
		static const int ids[] = { LP_PEER_OPT_RELAY, LP_PEER_OPT_ROOM,
			                   LP_PEER_OPT_ROOM_FILE };
		const char *vals[] = { "relay.test", "LAN1", room };

		assert_int_equal(parse(&a, LP_ROLE_GATEWAY, ids, vals, 3), LP_ERR_INVAL);
		assert_int_equal(parse(&a, LP_ROLE_CLIENT, ids + 1, vals + 1, 2), LP_ERR_INVAL);
		assert_non_null(strstr(g_usage, "gateway's"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_file_and_invite),
		cmocka_unit_test(test_invite_pin_sources),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
