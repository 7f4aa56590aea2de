/* tests/unit/test_config.c: defaults, the INI file, --set and flags
 * (signaling/config.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "signaling/config.h"

static char *write_ini(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/pl-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	struct pl_config c;

	pl_config_init(&c);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8080);
	assert_int_equal(c.max_frame_bytes, 65536);
	assert_int_equal(c.ws_timeout_s, 30);
	assert_null(c.auth_secret);
	assert_int_equal(c.limits.max_participants_per_room, 32);
	pl_config_release(&c);
}

static void test_listen_forms(void **state)
{
	struct pl_config c;

	pl_config_init(&c);
	assert_int_equal(pl_config_parse_listen(&c, "0.0.0.0:9000"), 0);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 9000);
	assert_int_equal(pl_config_parse_listen(&c, ":0"), 0);
	assert_int_equal(c.listen_port, 0);
	assert_int_equal(pl_config_parse_listen(&c, "[::1]:8443"), 0);
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(pl_config_parse_listen(&c, "localhost"), PL_EINVAL);
	assert_int_equal(pl_config_parse_listen(&c, "h:70000"), PL_EINVAL);
	assert_int_equal(pl_config_parse_listen(&c, "h:12x"), PL_EINVAL);
	pl_config_release(&c);
}

static void test_file(void **state)
{
	struct pl_config c;
	char err[256];
	char *path = write_ini("[server]\nlisten = 127.0.0.1:9999\nmax_frame_bytes = 4096\n"
			       "[auth]\nsecret = abc\n[limits]\nchat_per_s = 0\nmax_rooms = 3\n");

	pl_config_init(&c);
	assert_int_equal(pl_config_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.listen_port, 9999);
	assert_int_equal(c.max_frame_bytes, 4096);
	assert_string_equal(c.auth_secret, "abc");
	assert_true(c.limits.chat_per_s == 0);
	assert_int_equal(c.limits.max_rooms, 3);
	pl_config_release(&c);
	unlink(path);
}

static void test_file_errors(void **state)
{
	struct pl_config c;
	char err[256];
	char *path;

	pl_config_init(&c);
	path = write_ini("[limits]\nmax_romos = 3\n");
	assert_int_equal(pl_config_load_file(&c, path, err, sizeof(err)), PL_EINVAL);
	assert_non_null(strstr(err, "unknown key"));
	unlink(path);
	path = write_ini("[limits]\nmax_rooms = lots\n");
	assert_int_equal(pl_config_load_file(&c, path, err, sizeof(err)), PL_EINVAL);
	assert_non_null(strstr(err, "bad value"));
	unlink(path);
	path = write_ini("[server]\nmax_frame_bytes = 1.5\n");
	assert_int_equal(pl_config_load_file(&c, path, err, sizeof(err)), PL_EINVAL);
	unlink(path);
	path = write_ini("this is not an ini file\n");
	assert_int_equal(pl_config_load_file(&c, path, err, sizeof(err)), PL_EIO);
	unlink(path);
	assert_int_equal(pl_config_load_file(&c, "/nonexistent/x.ini", err, sizeof(err)), PL_EIO);
	pl_config_release(&c);
}

static void test_args_override_file(void **state)
{
	struct pl_config c;
	bool exit_now = true;
	char *path = write_ini("[server]\nlisten = 127.0.0.1:1111\ndata_dir = /tmp/a\n");
	char *argv[] = { "parleyd", "--config", path, "--listen", "127.0.0.1:2222",
			 "--set", "limits.chat_per_s=5", "--auth-secret", "xyz", NULL };

	unsetenv("PARLEY_AUTH_SECRET");
	pl_config_init(&c);
	assert_int_equal(pl_config_from_args(&c, 9, argv, &exit_now), 0);
	assert_false(exit_now);
	assert_int_equal(c.listen_port, 2222);
	assert_string_equal(c.data_dir, "/tmp/a");
	assert_true(c.limits.chat_per_s == 5);
	assert_string_equal(c.auth_secret, "xyz");
	pl_config_release(&c);
	unlink(path);
}

static void test_env_secret_and_bad_args(void **state)
{
	struct pl_config c;
	bool exit_now;
	char *argv1[] = { "parleyd", NULL };
	char *argv2[] = { "parleyd", "--set", "nosuch.key=1", NULL };
	char *argv3[] = { "parleyd", "stray", NULL };

	setenv("PARLEY_AUTH_SECRET", "from-env", 1);
	pl_config_init(&c);
	assert_int_equal(pl_config_from_args(&c, 1, argv1, &exit_now), 0);
	assert_string_equal(c.auth_secret, "from-env");
	assert_int_equal(pl_config_from_args(&c, 3, argv2, &exit_now), PL_EINVAL);
	assert_int_equal(pl_config_from_args(&c, 2, argv3, &exit_now), PL_EINVAL);
	pl_config_release(&c);
	unsetenv("PARLEY_AUTH_SECRET");
}

/* TLS needs both files; max_sdp_mlines stays within the SDP parser's cap. */
static void test_tls_and_mlines(void **state)
{
	struct pl_config c;
	bool exit_now;
	char *both[] = { "parleyd", "--set", "server.tls_cert=/x/cert.pem", "--set", "server.tls_key=/x/key.pem",
			 "--set", "limits.max_sdp_mlines=4", NULL };
	char *cert_only[] = { "parleyd", "--set", "server.tls_cert=/x/cert.pem", NULL };
	char *key_only[] = { "parleyd", "--set", "server.tls_key=/x/key.pem", NULL };
	char *mlines_big[] = { "parleyd", "--set", "limits.max_sdp_mlines=65", NULL };
	char *mlines_zero[] = { "parleyd", "--set", "limits.max_sdp_mlines=0", NULL };

	unsetenv("PARLEY_AUTH_SECRET");
	pl_config_init(&c);
	assert_null(c.tls_cert);
	assert_int_equal(c.limits.max_sdp_mlines, 16);
	assert_int_equal(pl_config_from_args(&c, 7, both, &exit_now), 0);
	assert_string_equal(c.tls_cert, "/x/cert.pem");
	assert_string_equal(c.tls_key, "/x/key.pem");
	assert_int_equal(c.limits.max_sdp_mlines, 4);
	pl_config_release(&c);
	pl_config_init(&c);
	assert_int_equal(pl_config_from_args(&c, 3, cert_only, &exit_now), PL_EINVAL);
	pl_config_release(&c);
	pl_config_init(&c);
	assert_int_equal(pl_config_from_args(&c, 3, key_only, &exit_now), PL_EINVAL);
	pl_config_release(&c);
	pl_config_init(&c);
	assert_int_equal(pl_config_from_args(&c, 3, mlines_big, &exit_now), PL_EINVAL);
	pl_config_release(&c);
	pl_config_init(&c);
	assert_int_equal(pl_config_from_args(&c, 3, mlines_zero, &exit_now), PL_EINVAL);
	pl_config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_listen_forms),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_args_override_file),
		cmocka_unit_test(test_env_secret_and_bad_args),
		cmocka_unit_test(test_tls_and_mlines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
