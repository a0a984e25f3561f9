/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.verify_schema and json.match_schema: a JSON Schema subset (type,
 * properties, required, items, enum, const, minimum/maximum, minLength/
 * maxLength, minItems/maxItems, additionalProperties: false) with the
 * error shape OPA reports (gojsonschema's desc/error/field/type).
 */
#include "../internal.h"

#define A0 args[0]
#define A1 args[1]

#define SCHEMA_MAX_DEPTH 128

static const char *const type_names[] = { "array", "boolean", "integer", "number", "null", "object", "string" };

static bool valid_type_name(const char *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (!strcmp(t, type_names[i]))
			return true;
	return false;
}

/* 0 valid; -EBADMSG with @msg */
static int check_schema(const struct val *s, struct buf *msg, unsigned depth)
{
	if (depth > SCHEMA_MAX_DEPTH) {
		buf_addstr(msg, "jsonschema: schema nested too deeply");
		return -EBADMSG;
	}
	if (s->kind == VAL_BOOL)
		return 0;
	if (s->kind != VAL_OBJECT) {
		buf_addstr(msg, "jsonschema: schema must be an object");
		return -EBADMSG;
	}
	struct val *t = val_object_get_cstr(s, "type");
	if (t) {
		struct val *one[1] = { t };
		struct val **ts = t->kind == VAL_ARRAY ? t->arr.items : one;
		size_t n = t->kind == VAL_ARRAY ? t->arr.n : 1;
		for (size_t i = 0; i < n; i++) {
			const char *nm = val_str(ts[i]);
			if (!nm || !valid_type_name(nm)) {
				buf_addstr(msg, "jsonschema: has a primitive type that is NOT VALID -- given: /");
				if (nm)
					buf_addstr(msg, nm);
				buf_addstr(msg, "/ Expected valid values are:[array boolean integer number null object string]");
				return -EBADMSG;
			}
		}
	}
	struct val *props = val_object_get_cstr(s, "properties");
	for (size_t i = 0; props && props->kind == VAL_OBJECT && i < props->obj.n; i++)
		if (check_schema(props->obj.vals[i], msg, depth + 1) < 0)
			return -EBADMSG;
	struct val *items = val_object_get_cstr(s, "items");
	if (items && check_schema(items, msg, depth + 1) < 0)
		return -EBADMSG;
	return 0;
}

static const char *kind_name(const struct val *v)
{
	int64_t i;
	switch (v->kind) {
	case VAL_NULL: return "null";
	case VAL_BOOL: return "boolean";
	case VAL_NUMBER: return num_is_int(v, &i) ? "integer" : "number";
	case VAL_STRING: return "string";
	case VAL_ARRAY:
	case VAL_SET: return "array";
	default: return "object";
	}
}

static bool type_ok(const char *want, const struct val *v)
{
	const char *k = kind_name(v);
	return !strcmp(want, k) || (!strcmp(want, "number") && !strcmp(k, "integer"));
}

static int add_err(struct val *errs, const char *field, const char *type, const char *desc)
{
	struct val *e = val_object_new(4);
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s: %s", field, desc);
	if (!e || val_object_put_cstr(e, "desc", val_cstr(desc)) < 0 ||
	    val_object_put_cstr(e, "error", val_string(b.p, b.len)) < 0 || val_object_put_cstr(e, "field", val_cstr(field)) < 0 ||
	    val_object_put_cstr(e, "type", val_cstr(type)) < 0) {
		val_unref(e);
		buf_release(&b);
		return -ENOMEM;
	}
	buf_release(&b);
	return val_array_push(errs, e);
}

static size_t utf8_count(const struct val *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->str.len; i++)
		n += ((unsigned char)s->str.s[i] & 0xc0) != 0x80;
	return n;
}

static int validate(const struct val *s, const struct val *v, const char *field, struct val *errs, unsigned depth)
{
	char d[256];
	if (depth > SCHEMA_MAX_DEPTH || s->kind != VAL_OBJECT)
		return 0;
	struct val *t = val_object_get_cstr(s, "type");
	if (t) {
		bool ok = false;
		struct buf want = BUF_INIT;
		struct val *one[1] = { t };
		struct val **ts = t->kind == VAL_ARRAY ? t->arr.items : one;
		size_t n = t->kind == VAL_ARRAY ? t->arr.n : 1;
		for (size_t i = 0; i < n; i++) {
			const char *nm = val_str(ts[i]);
			if (!nm)
				continue;
			ok = ok || type_ok(nm, v);
			if (i)
				buf_addstr(&want, "/");
			buf_addstr(&want, nm);
		}
		if (!ok) {
			snprintf(d, sizeof(d), "Invalid type. Expected: %s, given: %s", want.p, kind_name(v));
			buf_release(&want);
			return add_err(errs, field, "invalid_type", d);
		}
		buf_release(&want);
	}
	struct val *en = val_object_get_cstr(s, "enum");
	if (en && en->kind == VAL_ARRAY) {
		bool hit = false;
		for (size_t i = 0; i < en->arr.n && !hit; i++)
			hit = val_equal(en->arr.items[i], v);
		if (!hit) {
			struct buf b = BUF_INIT;
			buf_addstr(&b, "Must be one of the following: ");
			for (size_t i = 0; i < en->arr.n; i++) {
				if (i)
					buf_addstr(&b, ", ");
				val_to_json(en->arr.items[i], &b, 0);
			}
			int rc = add_err(errs, field, "enum", b.p);
			buf_release(&b);
			if (rc < 0)
				return rc;
		}
	}
	struct val *c = val_object_get_cstr(s, "const");
	if (c && !val_equal(c, v) && add_err(errs, field, "const", "Does not match: const") < 0)
		return -ENOMEM;
	if (v->kind == VAL_NUMBER) {
		struct val *mn = val_object_get_cstr(s, "minimum"), *mx = val_object_get_cstr(s, "maximum");
		if (mn && mn->kind == VAL_NUMBER && val_number_compare(v, mn) < 0) {
			struct buf b = BUF_INIT;
			buf_addstr(&b, "Must be greater than or equal to ");
			val_to_json(mn, &b, 0);
			int rc = add_err(errs, field, "number_gte", b.p);
			buf_release(&b);
			if (rc < 0)
				return rc;
		}
		if (mx && mx->kind == VAL_NUMBER && val_number_compare(v, mx) > 0) {
			struct buf b = BUF_INIT;
			buf_addstr(&b, "Must be less than or equal to ");
			val_to_json(mx, &b, 0);
			int rc = add_err(errs, field, "number_lte", b.p);
			buf_release(&b);
			if (rc < 0)
				return rc;
		}
	}
	int64_t lim;
	if (v->kind == VAL_STRING) {
		if (num_is_int(val_object_get_cstr(s, "minLength") ? val_object_get_cstr(s, "minLength") : val_null(), &lim) &&
		    (int64_t)utf8_count(v) < lim) {
			snprintf(d, sizeof(d), "String length must be greater than or equal to %lld", (long long)lim);
			if (add_err(errs, field, "string_gte", d) < 0)
				return -ENOMEM;
		}
		if (num_is_int(val_object_get_cstr(s, "maxLength") ? val_object_get_cstr(s, "maxLength") : val_null(), &lim) &&
		    (int64_t)utf8_count(v) > lim) {
			snprintf(d, sizeof(d), "String length must be less than or equal to %lld", (long long)lim);
			if (add_err(errs, field, "string_lte", d) < 0)
				return -ENOMEM;
		}
	}
	if (v->kind == VAL_OBJECT) {
		struct val *req = val_object_get_cstr(s, "required"), *props = val_object_get_cstr(s, "properties");
		for (size_t i = 0; req && req->kind == VAL_ARRAY && i < req->arr.n; i++) {
			const char *k = val_str(req->arr.items[i]);
			if (k && !val_object_get_cstr(v, k)) {
				snprintf(d, sizeof(d), "%s is required", k);
				if (add_err(errs, field, "required", d) < 0)
					return -ENOMEM;
			}
		}
		struct val *ap = val_object_get_cstr(s, "additionalProperties");
		for (size_t i = 0; i < v->obj.n; i++) {
			const char *k = val_str(v->obj.keys[i]);
			struct val *ps = props && k ? val_object_get_cstr(props, k) : NULL;
			char sub[256];
			if (!k)
				continue;
			if (!strcmp(field, "(root)"))
				snprintf(sub, sizeof(sub), "%s", k);
			else
				snprintf(sub, sizeof(sub), "%s.%s", field, k);
			if (ps) {
				int rc = validate(ps, v->obj.vals[i], sub, errs, depth + 1);
				if (rc < 0)
					return rc;
			} else if (ap && ap->kind == VAL_BOOL && !ap->b) {
				snprintf(d, sizeof(d), "Additional property %s is not allowed", k);
				if (add_err(errs, field, "additional_property_not_allowed", d) < 0)
					return -ENOMEM;
			}
		}
	}
	if (v->kind == VAL_ARRAY || v->kind == VAL_SET) {
		struct val *items = val_object_get_cstr(s, "items");
		for (size_t i = 0; items && i < v->arr.n; i++) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s.%zu", field, i);
			int rc = validate(items, v->arr.items[i], sub, errs, depth + 1);
			if (rc < 0)
				return rc;
		}
		if (num_is_int(val_object_get_cstr(s, "minItems") ? val_object_get_cstr(s, "minItems") : val_null(), &lim) &&
		    (int64_t)v->arr.n < lim) {
			snprintf(d, sizeof(d), "Array must have at least %lld items", (long long)lim);
			if (add_err(errs, field, "array_min_items", d) < 0)
				return -ENOMEM;
		}
		if (num_is_int(val_object_get_cstr(s, "maxItems") ? val_object_get_cstr(s, "maxItems") : val_null(), &lim) &&
		    (int64_t)v->arr.n > lim) {
			snprintf(d, sizeof(d), "Array must have at most %lld items", (long long)lim);
			if (add_err(errs, field, "array_max_items", d) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* A schema or document given as a value or as JSON text. */
static int as_value(struct val *x, struct val **out)
{
	if (x->kind != VAL_STRING) {
		*out = val_ref(x);
		return 0;
	}
	return val_from_json(x->str.s, x->str.len, NULL, out, NULL);
}

static int bi_verify_schema(struct ev *ev, struct val **args, struct val **out)
{
	struct val *s = NULL;
	struct buf msg = BUF_INIT;
	bool ok;
	if (as_value(A0, &s) < 0) {
		buf_addstr(&msg, "jsonschema: invalid JSON");
		ok = false;
	} else {
		ok = check_schema(s, &msg, 0) == 0;
	}
	val_unref(s);
	(void)ev;
	struct val *r = val_array_new(2);
	if (!r || val_array_push(r, val_bool(ok)) < 0 || val_array_push(r, ok ? val_null() : val_string(msg.p, msg.len)) < 0) {
		val_unref(r);
		r = NULL;
	}
	buf_release(&msg);
	*out = r;
	return r ? 0 : -ENOMEM;
}

static int bi_match_schema(struct ev *ev, struct val **args, struct val **out)
{
	static const char *const fn = "json.match_schema";
	struct val *doc = NULL, *s = NULL;
	if (as_value(A0, &doc) < 0)
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: operand 1: invalid JSON", fn);
	if (as_value(A1, &s) < 0) {
		val_unref(doc);
		return ev_error(ev, -EINVAL, EC_BUILTIN, "%s: operand 2: invalid JSON", fn);
	}
	struct buf msg = BUF_INIT;
	if (check_schema(s, &msg, 0) < 0) {
		int rc = ev_error(ev, -EINVAL, EC_BUILTIN, "%s: %s", fn, msg.p + strlen("jsonschema: "));
		buf_release(&msg);
		val_unref(doc);
		val_unref(s);
		return rc;
	}
	buf_release(&msg);
	struct val *errs = val_array_new(2);
	int rc = errs ? validate(s, doc, "(root)", errs, 0) : -ENOMEM;
	val_unref(doc);
	val_unref(s);
	struct val *r = rc == 0 ? val_array_new(2) : NULL;
	if (!r || val_array_push(r, val_bool(errs->arr.n == 0)) < 0 || val_array_push(r, val_ref(errs)) < 0) {
		val_unref(r);
		val_unref(errs);
		return -ENOMEM;
	}
	val_unref(errs);
	*out = r;
	return 0;
}

const struct builtin_decl rego_builtins_jsonschema[] = {
	{ "json.verify_schema", 1, bi_verify_schema, "[valid, error] for a JSON Schema" },
	{ "json.match_schema", 2, bi_match_schema, "[valid, errors] of a document against a schema" },
	{ NULL, 0, NULL, NULL },
};
