// SPDX-License-Identifier: Apache-2.0
/*
 * Text output safe for terminals (issue 15): a process or a pod named with an escape
 * sequence, a newline, a quote and bytes that are not UTF-8 prints one line, with every
 * such byte escaped, in the columns and in key=value fields alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lmp/event.h"
#include "k8s/identity.h"
#include "expose/out.h"
#include "harness.h"

/* what a terminal must never get from a name: C0/DEL bytes, invalid UTF-8, C1 controls */
static void assert_terminal_safe(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && i == n - 1)
			break;
		if (p[i] < 0x20 || p[i] == 0x7f)
			fail_msg("control byte 0x%02x at %zu in '%.*s'", p[i], i, (int)n, s);
		if (p[i] >= 0x80) { /* must start a valid sequence that is not a C1 control */
			if (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0)
				fail_msg("C1 control at %zu", i);
			if (p[i] < 0xc2 || p[i] > 0xf4)
				fail_msg("invalid UTF-8 byte 0x%02x at %zu", p[i], i);
			i += p[i] < 0xe0 ? 1 : p[i] < 0xf0 ? 2 : 3;
		}
	}
}

static void test_escape_rules(void **state)
{
	char buf[128];

	assert_int_equal(lmp_text_escape("sl\x1b\n\xff\"p", 16, '_', buf, sizeof(buf)), 16);
	assert_string_equal(buf, "sl\\x1b\\x0a\\xff\"p");
	lmp_text_escape("a b\\c\x7f", 16, '_', buf, sizeof(buf));
	assert_string_equal(buf, "a_b\\\\c\\x7f");
	lmp_text_escape("a b", 16, 0, buf, sizeof(buf));
	assert_string_equal(buf, "a b");
	/* valid UTF-8 stays; C1 (U+009B, CSI), bidi override (U+202E) and zero width do not */
	lmp_text_escape("caf\xc3\xa9 \xc2\x9b\xe2\x80\xae\xe2\x80\x8bx", 64, '_', buf, sizeof(buf));
	assert_string_equal(buf, "caf\xc3\xa9_\\u{009b}\\u{202e}\\u{200b}x");
	/* overlong and truncated sequences are bytes, not characters */
	lmp_text_escape("\xc0\xaf\xe2\x80", 4, '_', buf, sizeof(buf));
	assert_string_equal(buf, "\\xc0\\xaf\\xe2\\x80");
	/* cut before an escape that would not fit, never in the middle of one */
	assert_int_equal(lmp_text_escape("ab\x1b", 3, '_', buf, 5), 2);
	assert_string_equal(buf, "ab");
	/* n bounds it, and a NUL ends it */
	lmp_text_escape("abc\0def", 7, '_', buf, sizeof(buf));
	assert_string_equal(buf, "abc");
}

static char *render_text(const struct lmp_event_hdr *h, const struct lmp_identity *id, size_t *len)
{
	struct lmp_out *o;
	int fds[2];
	char *buf = calloc(1, 4096);
	ssize_t n;

	assert_non_null(buf);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(lmp_out_new(LMP_OUTPUT_TEXT, fds[1], "node-1", &o), 0);
	lmp_out_begin(o, "process", "exit", h, id);
	lmp_out_str(o, "filename", "/tmp/x\x1b]0;pwned\x07\n{\"forged\":1}");
	lmp_out_array_begin(o, "argv");
	lmp_out_str(o, NULL, "--name=\xe2\x80\xae\x9b");
	lmp_out_array_end(o);
	lmp_out_end(o);
	assert_int_equal(lmp_out_flush(o), 0);
	lmp_out_free(o);
	close(fds[1]);
	n = read(fds[0], buf, 4095);
	close(fds[0]);
	assert_true(n > 0);
	*len = n;
	return buf;
}

static void test_text_event_one_safe_line(void **state)
{
	struct lmp_event_hdr h = { .ts_ns = 1, .pid = 4242, .tid = 4242 };
	struct lmp_identity id = {
		.cgroup = "/kubepods/x",
		.namespace = "ns\x1b[2J",
		.pod = "pod\nsecond line",
		.container = "c\xff\x9b",
	};
	size_t len;
	char *out;

	memcpy(h.comm, "sl\x1b\n\xff\"p", 8);
	out = render_text(&h, &id, &len);
	print_message("%s", out);
	assert_int_equal(out[len - 1], '\n');
	assert_null(memchr(out, '\n', len - 1)); /* one event, one line */
	assert_terminal_safe(out, len);
	lmp_test_assert_contains(out,
				 (const char *const[]){
					 " 4242 sl\\x1b\\x0a\\xff\"p ",
					 "ns\\x1b[2J/pod\\x0asecond_line/c\\xff\\x9b",
					 "filename=/tmp/x\\x1b]0;pwned\\x07\\x0a{\"forged\":1}",
					 "--name=\\u{202e}\\x9b",
					 NULL,
				 });
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_rules),
		cmocka_unit_test(test_text_event_one_safe_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
