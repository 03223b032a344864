/* test_net.c - --relay / --listen parsing, formatting and resolution (no external DNS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lp_net.h"

struct good_case {
	const char *in;
	const char *host;
	uint16_t port;
	enum lp_net_host_kind kind;
};

struct bad_case {
	const char *in;
	int err;
};

static void check_good(int (*parse)(const char *, struct lp_net_endpoint *),
                       const struct good_case *c, size_t n)
{
	struct lp_net_endpoint ep;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		memset(&ep, 0x5a, sizeof(ep));
		rc = parse(c[i].in, &ep);
		if (rc != 0)
			fail_msg("\"%s\": %s", c[i].in, lp_strerror(rc));
		assert_string_equal(ep.host, c[i].host);
		if (ep.port != c[i].port || ep.kind != c[i].kind)
			fail_msg("\"%s\": port %u kind %d", c[i].in, ep.port, (int)ep.kind);
	}
}

static void check_bad(int (*parse)(const char *, struct lp_net_endpoint *),
                      const struct bad_case *c, size_t n)
{
	struct lp_net_endpoint ep, orig;
	size_t i;
	int rc;

	memset(&orig, 0x5a, sizeof(orig));
	for (i = 0; i < n; i++) {
		ep = orig;
		rc = parse(c[i].in, &ep);
		if (rc != c[i].err)
			fail_msg("\"%s\": got %d (%s), want %d (%s)", c[i].in, rc, lp_strerror(rc),
			         c[i].err, lp_strerror(c[i].err));
		assert_memory_equal(&ep, &orig, sizeof(ep)); /* untouched on error */
	}
}

static void test_relay_good(void **state)
{
	static const struct good_case c[] = {
		{ "relay.example.org", "relay.example.org", 443, LP_NET_HOST_NAME },
		{ "relay.example.org:4433", "relay.example.org", 4433, LP_NET_HOST_NAME },
		{ "relay.example.org.", "relay.example.org.", 443, LP_NET_HOST_NAME },
		{ "localhost", "localhost", 443, LP_NET_HOST_NAME },
		{ "Relay-1.Example.ORG:1", "Relay-1.Example.ORG", 1, LP_NET_HOST_NAME },
		{ "a:65535", "a", 65535, LP_NET_HOST_NAME },
		{ "123.example", "123.example", 443, LP_NET_HOST_NAME },
		{ "1.2.3.x1", "1.2.3.x1", 443, LP_NET_HOST_NAME },
		{ "192.0.2.7", "192.0.2.7", 443, LP_NET_HOST_IPV4 },
		{ "192.0.2.7:4433", "192.0.2.7", 4433, LP_NET_HOST_IPV4 },
		{ "2001:db8::7", "2001:db8::7", 443, LP_NET_HOST_IPV6 },
		{ "::1", "::1", 443, LP_NET_HOST_IPV6 },
		/* Without brackets every colon belongs to the address. */
		{ "2001:db8::7:4433", "2001:db8::7:4433", 443, LP_NET_HOST_IPV6 },
		{ "[2001:db8::7]", "2001:db8::7", 443, LP_NET_HOST_IPV6 },
		{ "[2001:db8::7]:4433", "2001:db8::7", 4433, LP_NET_HOST_IPV6 },
		{ "[::ffff:192.0.2.1]:9", "::ffff:192.0.2.1", 9, LP_NET_HOST_IPV6 },
		{ "[::1]:00443", "::1", 443, LP_NET_HOST_IPV6 },
	};

	(void)state;
	check_good(lp_net_parse_relay, c, LP_ARRAY_LEN(c));
}

static void test_relay_bad(void **state)
{
	static const struct bad_case c[] = {
		{ "", LP_ERR_HOST_EMPTY },
		{ ":443", LP_ERR_HOST_EMPTY },
		{ ":", LP_ERR_HOST_EMPTY },
		{ "[]", LP_ERR_HOST_EMPTY },
		{ "[]:443", LP_ERR_HOST_EMPTY },
		{ "host:", LP_ERR_PORT },
		{ "host:0", LP_ERR_PORT },
		{ "host:65536", LP_ERR_PORT },
		{ "host:99999999999999999999", LP_ERR_PORT },
		{ "host:443x", LP_ERR_PORT },
		{ "host:+443", LP_ERR_PORT },
		{ "host:-1", LP_ERR_PORT },
		{ "host: 443", LP_ERR_PORT },
		{ "host:443/udp", LP_ERR_PORT },
		{ "[::1]:", LP_ERR_PORT },
		{ "[::1]:0", LP_ERR_PORT },
		{ "[::1]:https", LP_ERR_PORT },
		{ "[::1", LP_ERR_BRACKET },
		{ "::1]", LP_ERR_BRACKET },
		{ "a[b]", LP_ERR_BRACKET },
		{ "[[::1]]", LP_ERR_BRACKET },
		{ "[::1]]", LP_ERR_BRACKET },
		{ "[::1]:443]", LP_ERR_BRACKET },
		{ "[::1]443", LP_ERR_BRACKET },
		{ "[192.0.2.7]:443", LP_ERR_BRACKET },
		{ "[relay.example.org]", LP_ERR_BRACKET },
		{ "[1:2:3]", LP_ERR_HOST_SYNTAX },
		{ "[fe80::1%eth0]:443", LP_ERR_HOST_SYNTAX },
		{ "1.2.3", LP_ERR_HOST_SYNTAX },
		{ "x1.2.3", LP_ERR_HOST_SYNTAX },
		{ "host:1:2", LP_ERR_HOST_SYNTAX },
		{ "gggg::1", LP_ERR_HOST_SYNTAX },
		{ "relay_1.example.org", LP_ERR_HOST_SYNTAX },
		{ "relay example", LP_ERR_HOST_SYNTAX },
		{ " relay", LP_ERR_HOST_SYNTAX },
		{ "-relay.org", LP_ERR_HOST_SYNTAX },
		{ "relay-.org", LP_ERR_HOST_SYNTAX },
		{ "relay.-org", LP_ERR_HOST_SYNTAX },
		{ "relay..org", LP_ERR_HOST_SYNTAX },
		{ ".relay.org", LP_ERR_HOST_SYNTAX },
		{ ".", LP_ERR_HOST_SYNTAX },
		{ "relay.org..", LP_ERR_HOST_SYNTAX },
		{ "192.0.2.300", LP_ERR_HOST_SYNTAX },
		{ "1.2.3", LP_ERR_HOST_SYNTAX },
		{ "x1.2.3", LP_ERR_HOST_SYNTAX },
		{ "443", LP_ERR_HOST_SYNTAX },
		{ "relay/udp", LP_ERR_HOST_SYNTAX },
		{ "r\xc3\xa9lay.org", LP_ERR_HOST_SYNTAX },
	};

	(void)state;
	check_bad(lp_net_parse_relay, c, LP_ARRAY_LEN(c));
}

static void test_relay_name_lengths(void **state)
{
	char name[300], in[320];
	struct lp_net_endpoint ep;
	size_t i;

	(void)state;
	/* A 63-character label is fine, 64 is not. */
	memset(name, 'a', 63);
	strcpy(name + 63, ".org");
	assert_int_equal(lp_net_parse_relay(name, &ep), 0);
	memset(name, 'a', 64);
	strcpy(name + 64, ".org");
	assert_int_equal(lp_net_parse_relay(name, &ep), LP_ERR_HOST_SYNTAX);

	/* 253 characters: four 63-character labels minus one, dots included. */
	for (i = 0; i < 253; i++)
		name[i] = (i % 64 == 63) ? '.' : 'b';
	name[253] = '\0';
	assert_int_equal(strlen(name), 253);
	assert_int_equal(lp_net_parse_relay(name, &ep), 0);
	assert_string_equal(ep.host, name);
	assert_int_equal(ep.port, 443);

	/* Plus the optional trailing dot, and a port. */
	snprintf(in, sizeof(in), "%s.:7", name);
	assert_int_equal(lp_net_parse_relay(in, &ep), 0);
	assert_int_equal(strlen(ep.host), 254);
	assert_int_equal(ep.host[253], '.');
	assert_int_equal(ep.port, 7);

	/* 254 characters without a trailing dot is too long. */
	name[253] = 'c';
	name[254] = '\0';
	assert_int_equal(lp_net_parse_relay(name, &ep), LP_ERR_HOST_SYNTAX);
	/* Far too long. */
	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(lp_net_parse_relay(name, &ep), LP_ERR_HOST_SYNTAX);
}

static void test_listen_good(void **state)
{
	static const struct good_case c[] = {
		{ "0.0.0.0:443", "0.0.0.0", 443, LP_NET_HOST_IPV4 },
		{ "[::]:443", "::", 443, LP_NET_HOST_IPV6 },
		{ "127.0.0.1:4433", "127.0.0.1", 4433, LP_NET_HOST_IPV4 },
		{ "[::1]:1", "::1", 1, LP_NET_HOST_IPV6 },
		{ "443/udp", "", 443, LP_NET_HOST_ANY },
		{ "65535/UDP", "", 65535, LP_NET_HOST_ANY },
	};

	(void)state;
	check_good(lp_net_parse_listen, c, LP_ARRAY_LEN(c));
}

static void test_listen_bad(void **state)
{
	static const struct bad_case c[] = {
		{ "443/tcp", LP_ERR_PORT },
		{ "443/", LP_ERR_PORT },
		{ "443/udpx", LP_ERR_PORT },
		{ "/udp", LP_ERR_PORT },
		{ "0/udp", LP_ERR_PORT },
		{ "65536/udp", LP_ERR_PORT },
		{ "x/udp", LP_ERR_PORT },
		{ "0.0.0.0", LP_ERR_PORT },
		{ "0.0.0.0:", LP_ERR_PORT },
		{ "[::]", LP_ERR_PORT },
		{ "::", LP_ERR_PORT },
		{ "443", LP_ERR_HOST_SYNTAX },
		{ "localhost:443", LP_ERR_HOST_SYNTAX },
		{ "relay.example.org:443", LP_ERR_HOST_SYNTAX },
		{ "", LP_ERR_HOST_EMPTY },
		{ ":443", LP_ERR_HOST_EMPTY },
		{ "[::", LP_ERR_BRACKET },
		{ "[0.0.0.0]:443", LP_ERR_BRACKET },
	};

	(void)state;
	check_bad(lp_net_parse_listen, c, LP_ARRAY_LEN(c));
}

static void test_null_args(void **state)
{
	struct lp_net_endpoint ep;
	char buf[8];

	(void)state;
	assert_int_equal(lp_net_parse_relay(NULL, &ep), LP_ERR_INVAL);
	assert_int_equal(lp_net_parse_relay("a", NULL), LP_ERR_INVAL);
	assert_int_equal(lp_net_parse_listen(NULL, &ep), LP_ERR_INVAL);
	assert_int_equal(lp_net_endpoint_format(NULL, buf, sizeof(buf)), LP_ERR_INVAL);
	assert_int_equal(lp_net_addr_format(NULL, buf, sizeof(buf)), LP_ERR_INVAL);
}

static void test_endpoint_format(void **state)
{
	static const char *const in[] = {
		"relay.example.org", "relay.example.org:4433", "192.0.2.7:1", "[2001:db8::7]:4433",
		"2001:db8::7",
	};
	static const char *const want[] = {
		"relay.example.org:443", "relay.example.org:4433", "192.0.2.7:1",
		"[2001:db8::7]:4433",    "[2001:db8::7]:443",
	};
	struct lp_net_endpoint ep, back;
	char buf[300];
	size_t i;

	(void)state;
	for (i = 0; i < LP_ARRAY_LEN(in); i++) {
		assert_int_equal(lp_net_parse_relay(in[i], &ep), 0);
		assert_int_equal(lp_net_endpoint_format(&ep, buf, sizeof(buf)), 0);
		assert_string_equal(buf, want[i]);
		assert_int_equal(lp_net_parse_relay(buf, &back), 0);
		assert_memory_equal(&ep, &back, sizeof(ep));
	}
	assert_int_equal(lp_net_parse_listen("443/udp", &ep), 0);
	assert_int_equal(lp_net_endpoint_format(&ep, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "443/udp");

	assert_int_equal(lp_net_parse_relay("[::1]:443", &ep), 0);
	assert_int_equal(lp_net_endpoint_format(&ep, buf, 10), 0); /* "[::1]:443" + NUL */
	assert_string_equal(buf, "[::1]:443");
	assert_int_equal(lp_net_endpoint_format(&ep, buf, 9), LP_ERR_NOBUF);
	assert_int_equal(lp_net_endpoint_format(&ep, buf, 0), LP_ERR_NOBUF);
	ep.kind = (enum lp_net_host_kind)42;
	assert_int_equal(lp_net_endpoint_format(&ep, buf, sizeof(buf)), LP_ERR_INVAL);
}

static void test_addr_format(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_storage ss;
	char buf[64];

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	assert_int_equal(inet_pton(AF_INET, "1.2.3.4", &sin.sin_addr), 1);
	assert_int_equal(lp_net_addr_format((const struct sockaddr *)&sin, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.2.3.4:443");
	assert_int_equal(lp_net_addr_len((const struct sockaddr *)&sin), sizeof(sin));
	assert_int_equal(lp_net_addr_format((const struct sockaddr *)&sin, buf, 12), 0);
	assert_int_equal(lp_net_addr_format((const struct sockaddr *)&sin, buf, 11), LP_ERR_NOBUF);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	assert_int_equal(inet_pton(AF_INET6, "::1", &sin6.sin6_addr), 1);
	assert_int_equal(lp_net_addr_format((const struct sockaddr *)&sin6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "[::1]:443");
	assert_int_equal(lp_net_addr_len((const struct sockaddr *)&sin6), sizeof(sin6));

	sin6.sin6_port = htons(65535);
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr), 1);
	sin6.sin6_scope_id = 3;
	assert_int_equal(lp_net_addr_format((const struct sockaddr *)&sin6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "[fe80::1%3]:65535");

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	assert_int_equal(lp_net_addr_format((const struct sockaddr *)&ss, buf, sizeof(buf)),
	                 LP_ERR_INVAL);
	assert_int_equal(lp_net_addr_len((const struct sockaddr *)&ss), 0);
	assert_int_equal(lp_net_addr_len(NULL), 0);
}

static void resolve_one(const char *text, bool listen, const char *want)
{
	struct lp_net_endpoint ep;
	struct sockaddr_storage ss[4];
	char buf[64];
	size_t n = 99;

	if (listen)
		assert_int_equal(lp_net_parse_listen(text, &ep), 0);
	else
		assert_int_equal(lp_net_parse_relay(text, &ep), 0);
	assert_int_equal(lp_net_resolve(&ep, ss, LP_ARRAY_LEN(ss), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(lp_net_addr_format((const struct sockaddr *)&ss[0], buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_resolve_literals(void **state)
{
	(void)state;
	resolve_one("192.0.2.7", false, "192.0.2.7:443");
	resolve_one("192.0.2.7:4433", false, "192.0.2.7:4433");
	resolve_one("[2001:db8::7]:9", false, "[2001:db8::7]:9");
	resolve_one("2001:db8::7", false, "[2001:db8::7]:443");
	resolve_one("0.0.0.0:443", true, "0.0.0.0:443");
	resolve_one("[::]:443", true, "[::]:443");
	resolve_one("127.0.0.1:4433", true, "127.0.0.1:4433");
	resolve_one("443/udp", true, "[::]:443");
}

static void test_resolve_localhost(void **state)
{
	struct lp_net_endpoint ep;
	struct sockaddr_storage ss[8];
	char buf[64];
	size_t n = 0, i;
	int loopback = 0;

	(void)state;
	assert_int_equal(lp_net_parse_relay("localhost:4433", &ep), 0);
	assert_int_equal(lp_net_resolve(&ep, ss, LP_ARRAY_LEN(ss), &n), 0);
	assert_true(n >= 1 && n <= LP_ARRAY_LEN(ss));
	for (i = 0; i < n; i++) {
		assert_int_equal(
		        lp_net_addr_format((const struct sockaddr *)&ss[i], buf, sizeof(buf)), 0);
		if (strcmp(buf, "127.0.0.1:4433") == 0 || strcmp(buf, "[::1]:4433") == 0)
			loopback++;
	}
	assert_true(loopback >= 1);

	/* max caps the count. */
	assert_int_equal(lp_net_resolve(&ep, ss, 1, &n), 0);
	assert_int_equal(n, 1);
}

static void test_resolve_errors(void **state)
{
	struct lp_net_endpoint ep;
	struct sockaddr_storage ss[2];
	size_t n = 5;
	uint64_t t0;

	(void)state;
	assert_int_equal(lp_net_parse_relay("192.0.2.7", &ep), 0);
	assert_int_equal(lp_net_resolve(NULL, ss, 2, &n), LP_ERR_INVAL);
	assert_int_equal(lp_net_resolve(&ep, NULL, 2, &n), LP_ERR_INVAL);
	assert_int_equal(lp_net_resolve(&ep, ss, 0, &n), LP_ERR_INVAL);
	assert_int_equal(lp_net_resolve(&ep, ss, 2, NULL), LP_ERR_INVAL);
	ep.port = 0;
	assert_int_equal(lp_net_resolve(&ep, ss, 2, &n), LP_ERR_INVAL);
	ep.port = 443;
	ep.kind = (enum lp_net_host_kind)42;
	assert_int_equal(lp_net_resolve(&ep, ss, 2, &n), LP_ERR_INVAL);

	/* A hand-built endpoint whose literal does not match its family: getaddrinfo's family
	 * refusal maps to a permanent failure, without any DNS traffic (AI_NUMERICHOST). */
	memset(&ep, 0, sizeof(ep));
	strcpy(ep.host, "::1");
	ep.port = 443;
	ep.kind = LP_NET_HOST_IPV4;
	n = 5;
	assert_int_equal(lp_net_resolve(&ep, ss, 2, &n), LP_ERR_RESOLVE_PERM);
	assert_int_equal(n, 0);
	strcpy(ep.host, "not-a-literal");
	ep.kind = LP_NET_HOST_IPV6;
	assert_int_equal(lp_net_resolve(&ep, ss, 2, &n), LP_ERR_RESOLVE_PERM);

	/* RFC 6761: .invalid never exists. It must fail permanently and quickly, also on a
	 * machine without a resolver. */
	assert_int_equal(lp_net_parse_relay("no-such-relay.invalid", &ep), 0);
	t0 = lp_now_ns();
	assert_int_equal(lp_net_resolve(&ep, ss, 2, &n), LP_ERR_RESOLVE_PERM);
	assert_true(lp_now_ns() - t0 < 10 * LP_NS_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_good),         cmocka_unit_test(test_relay_bad),
		cmocka_unit_test(test_relay_name_lengths), cmocka_unit_test(test_listen_good),
		cmocka_unit_test(test_listen_bad),         cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_endpoint_format),    cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_resolve_literals),   cmocka_unit_test(test_resolve_localhost),
		cmocka_unit_test(test_resolve_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
