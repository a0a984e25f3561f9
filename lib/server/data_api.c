/* SPDX-License-Identifier: Apache-2.0 */
/* OPA Data API over libmicrohttpd (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

/* libmicrohttpd (and the TLS stack it links) is opened on first use
 * (dl_load in base.h): only `arca serve` needs it. */
static typeof(MHD_add_response_header) *sym_MHD_add_response_header;
static typeof(MHD_create_response_from_buffer) *sym_MHD_create_response_from_buffer;
static typeof(MHD_destroy_response) *sym_MHD_destroy_response;
static typeof(MHD_get_daemon_info) *sym_MHD_get_daemon_info;
static typeof(MHD_queue_response) *sym_MHD_queue_response;
static typeof(MHD_start_daemon) *sym_MHD_start_daemon;
static typeof(MHD_stop_daemon) *sym_MHD_stop_daemon;
static const struct dl_sym mhd_syms[] = {
	DL_SYM(MHD_add_response_header),
	DL_SYM(MHD_create_response_from_buffer),
	DL_SYM(MHD_destroy_response),
	DL_SYM(MHD_get_daemon_info),
	DL_SYM(MHD_queue_response),
	DL_SYM(MHD_start_daemon),
	DL_SYM(MHD_stop_daemon),
};
static struct dl_lib mhd_lib = DL_LIB(ARCA_SONAME_MICROHTTPD, mhd_syms);

struct prepared {
	char *path;
	struct rego_query *q;
};

struct server {
	struct MHD_Daemon *d;
	struct rego *rego;
	size_t max_body;
	uint16_t port;
	struct prepared *cache;
	size_t ncache;
};

struct req {
	struct buf body;
	bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const struct buf *b)
{
	struct MHD_Response *r = sym_MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	sym_MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = sym_MHD_queue_response(c, status, r);
	sym_MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg)
{
	struct buf b = BUF_INIT;
	buf_addstr(&b, "{\"code\":");
	json_quote(&b, code, strlen(code), 0);
	buf_addstr(&b, ",\"message\":");
	json_quote(&b, msg, strlen(msg), 0);
	buf_addstr(&b, "}\n");
	enum MHD_Result r = reply(c, status, &b);
	buf_release(&b);
	return r;
}

/* "/a/b" -> data["a"]["b"]; segments are JSON-quoted, so a path can never
 * inject Rego syntax. Returns NULL on bad escapes or allocation failure. */
static char *path_query(const char *path)
{
	struct buf b = BUF_INIT;
	buf_addstr(&b, "data");
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		buf_addch(&b, '[');
		json_quote(&b, p, n, 0);
		buf_addch(&b, ']');
		p += n;
	}
	return buf_error(&b) ? (buf_release(&b), NULL) : buf_detach(&b, NULL);
}

static struct rego_query *lookup_query(struct server *s, const char *path, struct arca_err *e)
{
	for (size_t i = 0; i < s->ncache; i++)
		if (strcmp(s->cache[i].path, path) == 0)
			return s->cache[i].q;
	if (s->ncache >= SERVER_MAX_PATHS) {
		err_set(e, -E2BIG, "more than %u distinct data paths queried", SERVER_MAX_PATHS);
		return NULL;
	}
	_cleanup_free_ char *q = path_query(path);
	struct rego_query *rq = NULL;
	if (!q || rego_prepare(s->rego, q, strlen(q), 0, &rq, e) < 0)
		return NULL;
	struct prepared *nc = realloc(s->cache, (s->ncache + 1) * sizeof(*nc));
	char *pc = strdup(path);
	if (!nc || !pc) {
		free(pc);
		if (nc)
			s->cache = nc;
		rego_query_free(rq);
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	s->cache = nc;
	s->cache[s->ncache].path = pc;
	s->cache[s->ncache].q = rq;
	s->ncache++;
	return rq;
}

static enum MHD_Result handle_data(struct server *s, struct MHD_Connection *c, const char *path, struct req *rq)
{
	struct arca_err e = { 0 };
	struct val *body = NULL, *input = NULL, *value = NULL;
	if (rq && rq->body.len) {
		if (val_from_json(rq->body.p, rq->body.len, NULL, &body, &e) < 0)
			return reply_error(c, 400, "invalid_parameter", err_msg(&e));
		if (body->kind != VAL_OBJECT) {
			val_unref(body);
			return reply_error(c, 400, "invalid_parameter", "request body must be a JSON object");
		}
		input = val_object_get_cstr(body, "input");
	}
	struct rego_query *q = lookup_query(s, path, &e);
	if (!q) {
		val_unref(body);
		return reply_error(c, e.code == -E2BIG ? 400 : 500, "internal_error", err_msg(&e));
	}
	int rc = rego_query_value(q, input, &value, &e);
	val_unref(body);
	if (rc < 0)
		return reply_error(c, 500, "internal_error", err_msg(&e));
	struct buf b = BUF_INIT;
	if (value) {
		buf_addstr(&b, "{\"result\":");
		val_to_json(value, &b, 0);
		buf_addstr(&b, "}\n");
	} else {
		buf_addstr(&b, "{}\n");
	}
	val_unref(value);
	enum MHD_Result r = reply(c, 200, &b);
	buf_release(&b);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **ctx)
{
	struct server *s = cls;
	struct req *rq = *ctx;
	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		buf_init(&rq->body);
		*ctx = rq;
		return MHD_YES;
	}
	if (*size) {
		if (rq->body.len + *size > s->max_body)
			rq->too_big = true;
		else
			buf_add(&rq->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return reply_error(c, 413, "invalid_parameter", "request body too large");
	if (buf_error(&rq->body))
		return reply_error(c, 500, "internal_error", "out of memory");
	if (strcmp(url, "/health") == 0)
		return reply(c, 200, &(struct buf){ .p = (char *)"{}\n", .len = 3 });
	if (strncmp(url, "/v1/data", 8) != 0 || (url[8] != '/' && url[8] != 0))
		return reply_error(c, 404, "resource_not_found", "unknown path");
	if (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0)
		return reply_error(c, 405, "invalid_parameter", "method not allowed");
	return handle_data(s, c, url + 8, rq);
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)c;
	(void)code;
	struct req *rq = *ctx;
	if (rq) {
		buf_release(&rq->body);
		free(rq);
	}
	*ctx = NULL;
}

int server_start(const struct server_opts *o, struct server **out, struct arca_err *e)
{
	int r = dl_load(&mhd_lib, e);
	if (r < 0)
		return r;
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, -ENOMEM, "out of memory");
	s->rego = o->rego;
	s->max_body = o->max_body ? o->max_body : SERVER_MAX_BODY_DEFAULT;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	if (inet_pton(AF_INET, o->addr ? o->addr : "127.0.0.1", &sa.sin_addr) != 1) {
		free(s);
		return err_set(e, -EINVAL, "invalid listen address \"%s\"", o->addr);
	}
	s->d = sym_MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
				    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				    MHD_OPTION_END);
	if (!s->d) {
		free(s);
		return err_set(e, -EADDRINUSE, "cannot listen on %s:%u", o->addr ? o->addr : "127.0.0.1", o->port);
	}
	const union MHD_DaemonInfo *di = sym_MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : o->port;
	*out = s;
	return 0;
}

uint16_t server_port(const struct server *s) { return s->port; }

void server_stop(struct server *s)
{
	if (!s)
		return;
	sym_MHD_stop_daemon(s->d);
	for (size_t i = 0; i < s->ncache; i++) {
		free(s->cache[i].path);
		rego_query_free(s->cache[i].q);
	}
	free(s->cache);
	free(s);
}
