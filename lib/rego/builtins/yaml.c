/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yaml.unmarshal, yaml.is_valid and yaml.marshal over libyaml. Scalars are
 * resolved with YAML's core schema (null, booleans, integers, floats,
 * otherwise strings) as Go's YAML library does for OPA. Aliases are
 * expanded, so the values produced are counted: an alias bomb hits
 * YAML_MAX_VALUES instead of exhausting memory.
 */
#include "../internal.h"

#include <math.h>
#include <yaml.h>

#define A0 args[0]

#define YAML_MAX_DEPTH 256       /* nesting of collections */
#define YAML_MAX_VALUES 1000000 /* values produced from one document */

struct yconv {
	yaml_document_t *doc;
	size_t values;
	const char *err; /* why conversion failed, for the message */
};

static bool is_dec(const char *s, size_t n, size_t i)
{
	if (i == n)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A plain scalar by the core schema; NULL with c->err on allocation. */
static struct val *plain_scalar(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '~') || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return val_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return val_bool(true);
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return val_bool(false);
	size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
	if (is_dec(s, n, i)) {
		/* JSON numbers take no '+' and no leading zeros */
		while (i + 1 < n && s[i] == '0')
			i++;
		struct buf b = BUF_INIT;
		if (s[0] == '-')
			buf_addch(&b, '-');
		buf_add(&b, s + i, n - i);
		struct val *v = buf_error(&b) ? NULL : val_number_text(b.p, b.len);
		buf_release(&b);
		return v;
	}
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(s + 2, &end, s[1] == 'x' ? 16 : 8);
		if (!*end && !errno && x <= INT64_MAX)
			return val_int((int64_t)x);
	}
	/* floats: digits with '.' or an exponent, as JSON can hold them */
	bool digit = false, other = false;
	for (size_t k = i; k < n; k++)
		if (s[k] >= '0' && s[k] <= '9')
			digit = true;
		else if (s[k] != '.' && s[k] != 'e' && s[k] != 'E' && s[k] != '-' && s[k] != '+')
			other = true;
	if (digit && !other) {
		char *end;
		double d = strtod(s, &end);
		if (!*end && isfinite(d))
			return val_double(d);
	}
	return val_string(s, n);
}

static struct val *node_val(struct yconv *c, yaml_node_t *n, unsigned depth)
{
	if (!n || depth > YAML_MAX_DEPTH || ++c->values > YAML_MAX_VALUES) {
		c->err = "document too large or nested too deeply";
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)n->data.scalar.value;
		size_t len = n->data.scalar.length;
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return plain_scalar(s, len);
		return val_string(s, len);
	}
	case YAML_SEQUENCE_NODE: {
		struct val *a = val_array_new(4);
		for (yaml_node_item_t *i = n->data.sequence.items.start; a && i < n->data.sequence.items.top; i++) {
			struct val *x = node_val(c, yaml_document_get_node(c->doc, *i), depth + 1);
			if (!x || val_array_push(a, x) < 0) {
				val_unref(a);
				return NULL;
			}
		}
		return a;
	}
	case YAML_MAPPING_NODE: {
		struct val *o = val_object_new(4);
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top; p++) {
			struct val *k = node_val(c, yaml_document_get_node(c->doc, p->key), depth + 1);
			struct val *v = k ? node_val(c, yaml_document_get_node(c->doc, p->value), depth + 1) : NULL;
			if (k && k->kind != VAL_STRING) {
				/* JSON keys are strings: 1: x is the key "1" */
				struct buf b = BUF_INIT;
				val_to_json(k, &b, 0);
				val_unref(k);
				k = buf_error(&b) ? NULL : val_string(b.p, b.len);
				buf_release(&b);
			}
			if (!k || !v || val_object_put(o, k, v) < 0) {
				if (!k || !v) {
					val_unref(k);
					val_unref(v);
				}
				val_unref(o);
				return NULL;
			}
		}
		return o;
	}
	default:
		c->err = "unsupported node";
		return NULL;
	}
}

/* Parses the first document of @s: 0 with *out (null for an empty
 * stream), -EBADMSG with Go's message in @msg, or -ENOMEM. */
int rego_yaml_parse(const char *s, size_t n, struct val **out, char *msg, size_t msglen)
{
	yaml_parser_t p;
	yaml_document_t d;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)s, n);
	int rc = 0;
	if (!yaml_parser_load(&p, &d)) {
		/* the line as Go's YAML library reports it (from the same
		 * marks: a parser error's mark is already past the line) */
		size_t line = p.problem_mark.line ? p.problem_mark.line + (p.error == YAML_SCANNER_ERROR)
						  : p.context_mark.line;
		if (line)
			snprintf(msg, msglen, "yaml: line %zu: %s", line, p.problem ? p.problem : "invalid");
		else
			snprintf(msg, msglen, "yaml: %s", p.problem ? p.problem : "invalid");
		yaml_parser_delete(&p);
		return -EBADMSG;
	}
	yaml_node_t *root = yaml_document_get_root_node(&d);
	struct yconv c = { &d, 0, NULL };
	*out = root ? node_val(&c, root, 0) : val_null();
	if (!*out) {
		snprintf(msg, msglen, "yaml: %s", c.err ? c.err : "out of memory");
		rc = c.err ? -EBADMSG : -ENOMEM;
	}
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	return rc;
}

static int bi_yaml_unmarshal(struct ev *ev, struct val **args, struct val **out)
{
	if (A0->kind != VAL_STRING)
		return bi_type_err(ev, "yaml.unmarshal", 1, "string", A0);
	char msg[256];
	int rc = rego_yaml_parse(A0->str.s, A0->str.len, out, msg, sizeof(msg));
	if (rc == -EBADMSG)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "yaml.unmarshal: %s", msg);
	return rc;
}

static int bi_yaml_is_valid(struct ev *ev, struct val **args, struct val **out)
{
	(void)ev;
	struct val *v = NULL;
	char msg[256];
	int rc = A0->kind == VAL_STRING ? rego_yaml_parse(A0->str.s, A0->str.len, &v, msg, sizeof(msg)) : -EBADMSG;
	val_unref(v);
	if (rc == -ENOMEM)
		return rc;
	*out = val_bool(rc == 0);
	return 0;
}

/* ------------------------------------------------------------ marshal */

static int emit_write(void *data, unsigned char *buffer, size_t size)
{
	buf_add(data, (const char *)buffer, size);
	return !buf_error(data);
}

static int emit_scalar(yaml_emitter_t *e, const char *s, size_t n, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style))
		return -ENOMEM;
	return yaml_emitter_emit(e, &ev) ? 0 : -EINVAL;
}

static int emit_val(yaml_emitter_t *e, const struct val *v, unsigned depth)
{
	yaml_event_t ev;
	if (depth > YAML_MAX_DEPTH)
		return -E2BIG;
	switch (v->kind) {
	case VAL_STRING: {
		/* a string that would read back as another type is quoted */
		struct val *r = v->str.len < 64 ? plain_scalar(v->str.s, v->str.len) : NULL;
		bool quote = v->str.len < 64 && (!r || r->kind != VAL_STRING);
		val_unref(r);
		return emit_scalar(e, v->str.s, v->str.len, quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	}
	case VAL_ARRAY:
	case VAL_SET:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return -EINVAL;
		for (size_t i = 0; i < v->arr.n; i++) {
			int rc = emit_val(e, v->arr.items[i], depth + 1);
			if (rc < 0)
				return rc;
		}
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev) ? 0 : -EINVAL;
	case VAL_OBJECT:
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return -EINVAL;
		for (size_t i = 0; i < v->obj.n; i++) {
			int rc = emit_val(e, v->obj.keys[i], depth + 1);
			if (rc == 0)
				rc = emit_val(e, v->obj.vals[i], depth + 1);
			if (rc < 0)
				return rc;
		}
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev) ? 0 : -EINVAL;
	default: {
		struct buf b = BUF_INIT;
		val_to_json(v, &b, 0);
		int rc = buf_error(&b) ? -ENOMEM : emit_scalar(e, b.p, b.len, YAML_PLAIN_SCALAR_STYLE);
		buf_release(&b);
		return rc;
	}
	}
}

static int bi_yaml_marshal(struct ev *ev, struct val **args, struct val **out)
{
	yaml_emitter_t e;
	yaml_event_t yev;
	struct buf b = BUF_INIT;
	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output(&e, emit_write, &b);
	yaml_emitter_set_unicode(&e, 1);
	int rc = yaml_stream_start_event_initialize(&yev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &yev) &&
			 yaml_document_start_event_initialize(&yev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &yev)
		 ? 0
		 : -EINVAL;
	if (rc == 0)
		rc = emit_val(&e, A0, 0);
	if (rc == 0)
		rc = yaml_document_end_event_initialize(&yev, 1) && yaml_emitter_emit(&e, &yev) &&
				 yaml_stream_end_event_initialize(&yev) && yaml_emitter_emit(&e, &yev)
			 ? 0
			 : -EINVAL;
	yaml_emitter_delete(&e);
	if (rc == 0 && buf_error(&b))
		rc = -ENOMEM;
	if (rc == 0) {
		*out = val_string(b.p, b.len);
		rc = *out ? 0 : -ENOMEM;
	} else if (rc != -ENOMEM) {
		rc = ev_error(ev, -EINVAL, EC_BUILTIN, "yaml.marshal: %s", rc == -E2BIG ? "value nested too deeply" : "cannot emit value");
	}
	buf_release(&b);
	return rc;
}

const struct builtin_decl rego_builtins_yaml[] = {
	{ "yaml.unmarshal", 1, bi_yaml_unmarshal, "YAML text to a value (first document)" },
	{ "yaml.is_valid", 1, bi_yaml_is_valid, "the string is YAML" },
	{ "yaml.marshal", 1, bi_yaml_marshal, "a value as YAML text" },
	{ NULL, 0, NULL, NULL },
};
