/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca inspect: an image's labels, definition file, runscript, test script
 * and environment, as `apptainer inspect` shows them (labels by default;
 * --json gives {"data":{"attributes":{...}},"type":"container"}).
 */
#include "cmd.h"
#include "runtime.h"

#include <getopt.h>

static const char inspect_help[] =
	"Usage:\n  arca inspect [options] <image.sif>\n\n"
	"Shows the image's metadata without running it (labels by default).\n\n"
	"Options:\n"
	"  -l, --labels        the labels\n"
	"  -d, --deffile       the definition file the image was built from\n"
	"  -r, --runscript     the runscript\n"
	"  -t, --test          the test script\n"
	"  -e, --environment   the environment scripts\n"
	"  -a, --all           all of the above\n"
	"  -j, --json          JSON output\n"
	"  -h, --help          this help\n";

static const struct option inspect_opts[] = {
	{ "labels", no_argument, NULL, 'l' },	   { "deffile", no_argument, NULL, 'd' },
	{ "runscript", no_argument, NULL, 'r' },   { "test", no_argument, NULL, 't' },
	{ "environment", no_argument, NULL, 'e' }, { "all", no_argument, NULL, 'a' },
	{ "json", no_argument, NULL, 'j' },	   { "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void print_labels(const struct val *labels, struct buf *out)
{
	for (size_t i = 0; labels && labels->kind == VAL_OBJECT && i < labels->obj.n; i++) {
		const struct val *k = labels->obj.keys[i], *v = labels->obj.vals[i];
		if (k->kind == VAL_STRING)
			buf_add(out, k->str.s, k->str.len);
		else
			val_to_json(k, out, 0);
		buf_addstr(out, ": ");
		if (v->kind == VAL_STRING)
			buf_add(out, v->str.s, v->str.len);
		else
			val_to_json(v, out, 0);
		buf_addch(out, '\n');
	}
}

static void print_text(const struct val *v, struct buf *out)
{
	const char *s = val_str(v);
	if (!s || !v->str.len)
		return;
	buf_add(out, s, v->str.len);
	if (s[v->str.len - 1] != '\n')
		buf_addch(out, '\n');
}

int cmd_inspect(int argc, char **argv)
{
	unsigned what = 0;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "ldrteajh", inspect_opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			what |= RT_INSPECT_LABELS;
			break;
		case 'd':
			what |= RT_INSPECT_DEFFILE;
			break;
		case 'r':
			what |= RT_INSPECT_RUNSCRIPT;
			break;
		case 't':
			what |= RT_INSPECT_TEST;
			break;
		case 'e':
			what |= RT_INSPECT_ENVIRONMENT;
			break;
		case 'a':
			what |= RT_INSPECT_LABELS | RT_INSPECT_DEFFILE | RT_INSPECT_RUNSCRIPT | RT_INSPECT_TEST |
				RT_INSPECT_ENVIRONMENT;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(inspect_help, stdout);
			return 0;
		default:
			fprintf(stderr, "Run 'arca inspect --help' for usage.\n");
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		cmd_error("inspect: expected exactly one image");
		return EXIT_USAGE;
	}
	if (!what)
		what = RT_INSPECT_LABELS;

	struct arca_err e = { 0 };
	_cleanup_val_ struct val *v = NULL;
	int rc = rt_inspect(argv[optind], what, &v, &e);
	if (rc < 0)
		return cmd_fail(&e, rc, "inspect");

	_cleanup_buf_ struct buf out = BUF_INIT;
	if (json) {
		_cleanup_val_ struct val *doc = val_object_new(2);
		struct val *data = val_object_new(1);
		if (!doc || !data || val_object_put_cstr(data, "attributes", val_ref(v)) < 0 ||
		    val_object_put_cstr(doc, "data", data) < 0 ||
		    val_object_put_cstr(doc, "type", val_cstr("container")) < 0) {
			cmd_error("out of memory");
			return 1;
		}
		val_to_json(doc, &out, JSON_PRETTY);
		buf_addch(&out, '\n');
		return cmd_out(&out);
	}
	if (what & RT_INSPECT_LABELS)
		print_labels(val_object_get_cstr(v, "labels"), &out);
	if (what & RT_INSPECT_DEFFILE)
		print_text(val_object_get_cstr(v, "deffile"), &out);
	if (what & RT_INSPECT_RUNSCRIPT)
		print_text(val_object_get_cstr(v, "runscript"), &out);
	if (what & RT_INSPECT_TEST)
		print_text(val_object_get_cstr(v, "test"), &out);
	if (what & RT_INSPECT_ENVIRONMENT)
		print_text(val_object_get_cstr(v, "environment"), &out);
	return cmd_out(&out);
}
