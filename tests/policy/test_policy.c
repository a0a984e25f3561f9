/* SPDX-License-Identifier: Apache-2.0 */
#include "policy.h"
#include "testlib.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/arca-policy-XXXXXX";

static const char *path_in(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	struct arca_err e = { 0 };
	if (file_write_atomic(path_in(name), text, strlen(text), 0600, &e) < 0)
		printf("# %s\n", e.msg);
}

static struct val *json(const char *s)
{
	struct val *v = NULL;
	if (val_from_json(s, strlen(s), NULL, &v, NULL) < 0)
		printf("# bad test JSON: %s\n", s);
	return v;
}

static void test_config(void)
{
	struct arca_err e = { 0 };
	struct policy_config *c = NULL;
	CHECK_RC(policy_config_load(path_in("missing.toml"), &c, &e), -ENOENT); /* explicit path must exist */
	write_file("a.toml", "mode = 'permissive'\n[policy]\ndir = '/x'\ntimeout_ms = 5\n[attest]\ntcti = 'swtpm:port=1'\n");
	REQUIRE(policy_config_load(path_in("a.toml"), &c, &e) == 0);
	CHECK(c->mode == POLICY_PERMISSIVE);
	CHECK_STR(c->dir, "/x");
	CHECK_STR(c->query, POLICY_DEFAULT_QUERY);
	CHECK(c->timeout_ms == 5);
	CHECK_STR(c->tcti, "swtpm:port=1");
	policy_config_free(c);
	write_file("b.toml", "mode = 'enforcing'\n[policy]\ndri = '/x'\n");
	CHECK_RC(policy_config_load(path_in("b.toml"), &c, &e), -EBADMSG);
	CHECK(strstr(e.msg, "unknown setting policy.dri") != NULL);
	write_file("c.toml", "mode = 'lenient'\n");
	CHECK_RC(policy_config_load(path_in("c.toml"), &c, &e), -EBADMSG);
	write_file("d.toml", "mode = \n");
	CHECK_RC(policy_config_load(path_in("d.toml"), &c, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 1") != NULL);
	write_file("e.toml", "[images]\nkeep_mounted = 300\n");
	REQUIRE(policy_config_load(path_in("e.toml"), &c, &e) == 0);
	CHECK(c->keep_mounted == 300);
	policy_config_free(c);
	write_file("f.toml", "[images]\nkeep_mounted = 604801\n");
	CHECK_RC(policy_config_load(path_in("f.toml"), &c, &e), -EBADMSG);
	write_file("g.toml", "[images]\nkeep_mounted = '5m'\n");
	CHECK_RC(policy_config_load(path_in("g.toml"), &c, &e), -EBADMSG);
}

static struct policy_config *config(const char *toml)
{
	write_file("cfg.toml", toml);
	struct policy_config *c = NULL;
	struct arca_err e = { 0 };
	if (policy_config_load(path_in("cfg.toml"), &c, &e) < 0)
		printf("# %s\n", e.msg);
	return c;
}

static void test_default_policy(void)
{
	struct arca_err e = { 0 };
	struct policy_decision d;
	_cleanup_(policy_config_freep) struct policy_config *c = config("[policy]\ndir = ''\n");
	REQUIRE(c);

	struct val *in = json("{\"mode\":\"enforcing\",\"signatures\":[]}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(d.allowed && d.policy_allow && d.builtin_policy);
	CHECK(d.warn->arr.n == 1);
	policy_decision_release(&d);
	val_unref(in);

	/* root launching a file others can write: warned (it can change after the check) */
	in = json("{\"mode\":\"enforcing\",\"signatures\":[],\"user\":{\"uid\":0},"
		  "\"image\":{\"file\":{\"writable_by_others\":true}}}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(d.allowed && d.warn->arr.n == 2);
	policy_decision_release(&d);
	val_unref(in);
	in = json("{\"mode\":\"enforcing\",\"signatures\":[],\"user\":{\"uid\":1000},"
		  "\"image\":{\"file\":{\"writable_by_others\":true}}}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(d.allowed && d.warn->arr.n == 1);
	policy_decision_release(&d);
	val_unref(in);

	in = json("{\"mode\":\"enforcing\",\"signatures\":[{\"id\":3,\"ok\":false,\"reason\":\"data object integrity compromised: 1\"}]}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(!d.allowed);
	CHECK(strstr(d.reason, "signature 3 does not verify: data object integrity compromised") != NULL);
	policy_decision_release(&d);

	c->mode = POLICY_PERMISSIVE;
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(d.allowed && !d.policy_allow);
	policy_decision_release(&d);
	val_unref(in);

	c->mode = POLICY_ATTESTED;
	in = json("{\"mode\":\"attested\",\"signatures\":[],\"host\":{\"attestation\":{\"status\":\"unavailable\"}}}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(!d.allowed);
	policy_decision_release(&d);
	val_unref(in);
	in = json("{\"mode\":\"attested\",\"signatures\":[],\"host\":{\"attestation\":{\"status\":\"passed\"}}}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(d.allowed);
	policy_decision_release(&d);
	val_unref(in);
}

static void test_site_policy(void)
{
	struct arca_err e = { 0 };
	struct policy_decision d;
	char pdir[600];
	snprintf(pdir, sizeof(pdir), "%s/pol", dir);
	REQUIRE(mkdir(pdir, 0700) == 0);
	write_file("pol/launch.rego", "package site\nimport rego.v1\n"
				      "default decision := {\"allow\": false}\n"
				      "decision := {\"allow\": true, \"deny\": deny} if input.user.name in data.users\n"
				      "deny contains \"no network for you\" if input.request.options.net == \"host\"\n");
	write_file("pol/data.json", "{\"users\": [\"alice\"]}");
	char toml[1024];
	snprintf(toml, sizeof(toml), "[policy]\ndir = '%s'\nquery = 'data.site.decision'\n", pdir);
	_cleanup_(policy_config_freep) struct policy_config *c = config(toml);
	REQUIRE(c);

	struct val *in = json("{\"user\":{\"name\":\"alice\"},\"request\":{\"options\":{}}}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(d.allowed && !d.builtin_policy);
	policy_decision_release(&d);
	val_unref(in);
	in = json("{\"user\":{\"name\":\"alice\"},\"request\":{\"options\":{\"net\":\"host\"}}}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(!d.allowed);
	CHECK_STR(d.reason, "denied: no network for you");
	policy_decision_release(&d);
	val_unref(in);
	in = json("{\"user\":{\"name\":\"mallory\"}}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(!d.allowed);
	policy_decision_release(&d);
	val_unref(in);

	/* A broken policy refuses (fail closed) with the compiler's message. */
	write_file("pol/broken.rego", "package site\nallow if {\n");
	in = json("{}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK(!d.allowed);
	CHECK(strstr(d.reason, "policy error") != NULL);
	policy_decision_release(&d);
	val_unref(in);
}

static void test_input_from_image(void)
{
	struct arca_err e = { 0 };
	const char *img_path = tl_shared("fixtures/sif/test/images/one-group-signed-dsse.sif");
	_cleanup_sif_ struct sif_image *img = NULL;
	REQUIRE(sif_open(img_path, &img, &e) == 0);
	_cleanup_integrity_verifier_ struct integrity_verifier *v = NULL;
	REQUIRE(integrity_verifier_new(&v) == 0);
	REQUIRE(integrity_verifier_add_pem(v, tl_shared("fixtures/sif/test/keys/ed25519-public.pem"), &e) == 0);
	_cleanup_(policy_config_freep) struct policy_config *c = config("[policy]\ndir = ''\n");
	REQUIRE(c);
	char *args[] = { "/bin/true", NULL };
	struct policy_request req = { .command = "exec", .args = args };
	_cleanup_val_ struct val *in = NULL;
	REQUIRE(policy_input(c, img_path, img, v, &req, &in, &e) == 0);
	const struct val *image = val_object_get_cstr(in, "image");
	REQUIRE(image);
	CHECK(val_object_get_cstr(image, "signed")->b);
	CHECK(val_object_get_cstr(image, "verified")->b);
	CHECK(val_object_get_cstr(image, "signers")->arr.n == 1);
	/* who may change the file: a copy under modes whose answer does not
	 * depend on the test's own uid */
	uint64_t flen;
	const uint8_t *fdata = sif_file_data(img, &flen);
	char copy_path[600];
	snprintf(copy_path, sizeof(copy_path), "%s/modes.sif", dir);
	REQUIRE(file_write_atomic(copy_path, fdata, flen, 0444, &e) == 0);
	static const struct {
		mode_t mode;
		bool others;
	} modes[] = { { 0444, false }, { 0664, true }, { 0646, true }, { 0400, false } };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		REQUIRE(chmod(copy_path, modes[i].mode) == 0);
		_cleanup_sif_ struct sif_image *mimg = NULL;
		REQUIRE(sif_open(copy_path, &mimg, &e) == 0);
		_cleanup_val_ struct val *min = NULL;
		REQUIRE(policy_input(c, copy_path, mimg, v, &req, &min, &e) == 0);
		const struct val *file = val_object_get_cstr(val_object_get_cstr(min, "image"), "file");
		int64_t mode = -1;
		CHECK(file && val_get_int(val_object_get_cstr(file, "mode"), &mode) && mode == (int64_t)modes[i].mode);
		CHECK(file && val_object_get_cstr(file, "writable_by_others")->b == modes[i].others);
	}
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(in, "request"), "command")), "exec");
	CHECK_STR(val_str(val_object_get_cstr(val_object_get_cstr(in, "host"), "status")), "unavailable");

	/* Without the key the same image is signed by nobody trusted. */
	_cleanup_integrity_verifier_ struct integrity_verifier *none = NULL;
	REQUIRE(integrity_verifier_new(&none) == 0);
	_cleanup_val_ struct val *in2 = NULL;
	REQUIRE(policy_input(c, img_path, img, none, &req, &in2, &e) == 0);
	image = val_object_get_cstr(in2, "image");
	CHECK(!val_object_get_cstr(image, "verified")->b);
	struct policy_decision d;
	REQUIRE(policy_decide(c, in2, &d, &e) == 0);
	CHECK(d.allowed && d.warn->arr.n == 1);
	if (d.warn->arr.n)
		printf("# untrusted signer: %s\n", d.warn->arr.items[0]->str.s);
	policy_decision_release(&d);

	/* A changed byte in the signed partition is a broken signature. */
	uint64_t len;
	const uint8_t *p = sif_file_data(img, &len);
	struct buf copy = BUF_INIT;
	buf_add(&copy, p, len);
	const struct sif_descr *prim;
	REQUIRE(sif_primary_partition(img, &prim) == 0);
	copy.p[prim->offset + 10] ^= 1;
	char tampered[600];
	snprintf(tampered, sizeof(tampered), "%s/tampered.sif", dir);
	REQUIRE(file_write_atomic(tampered, copy.p, copy.len, 0600, &e) == 0);
	buf_release(&copy);
	_cleanup_sif_ struct sif_image *timg = NULL;
	REQUIRE(sif_open(tampered, &timg, &e) == 0);
	_cleanup_val_ struct val *in3 = NULL;
	REQUIRE(policy_input(c, tampered, timg, v, &req, &in3, &e) == 0);
	REQUIRE(policy_decide(c, in3, &d, &e) == 0);
	CHECK(!d.allowed);
	printf("# tampered: %s\n", d.reason);
	policy_decision_release(&d);
}

static void test_log(void)
{
	struct arca_err e = { 0 };
	_cleanup_(policy_config_freep) struct policy_config *c = config("[policy]\ndir = ''\n");
	REQUIRE(c);
	char logp[600];
	snprintf(logp, sizeof(logp), "%s/log/decisions.log", dir);
	struct policy_decision d;
	for (int i = 0; i < 3; i++) {
		struct val *in = json(i == 1 ? "{\"signatures\":[{\"id\":1,\"ok\":false,\"reason\":\"x\"}]}" : "{\"signatures\":[]}");
		REQUIRE(policy_decide(c, in, &d, &e) == 0);
		CHECK_RC(policy_log_append(logp, c, in, &d, &e), 0);
		policy_decision_release(&d);
		val_unref(in);
	}
	size_t n = 0;
	CHECK_RC(policy_log_verify(logp, &n, &e), 0);
	CHECK(n == 3);
	struct stat st;
	CHECK(stat(logp, &st) == 0 && (st.st_mode & 0777) == 0600);

	struct buf b = BUF_INIT;
	REQUIRE(file_read_all(logp, 1 << 20, &b, &e) == 0);
	/* Edit: flip the second decision to allowed. */
	char *second = strchr(b.p, '\n') + 1;
	char *f = strstr(second, "\"allowed\":false");
	REQUIRE(f);
	memcpy(f, "\"allowed\":true,", 15);
	REQUIRE(file_write_atomic(logp, b.p, b.len, 0600, &e) == 0);
	CHECK_RC(policy_log_verify(logp, &n, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 2 was modified") != NULL);
	memcpy(f, "\"allowed\":false", 15);
	/* Removal of the second line breaks the chain at the third. */
	char *third = strchr(second, '\n') + 1;
	struct buf cut = BUF_INIT;
	buf_add(&cut, b.p, (size_t)(second - b.p));
	buf_add(&cut, third, b.len - (size_t)(third - b.p));
	REQUIRE(file_write_atomic(logp, cut.p, cut.len, 0600, &e) == 0);
	CHECK_RC(policy_log_verify(logp, &n, &e), -EBADMSG);
	CHECK(strstr(e.msg, "line 2 does not follow") != NULL);
	/* A torn last line refuses further appends rather than chaining to it. */
	REQUIRE(file_write_atomic(logp, b.p, b.len - 5, 0600, &e) == 0);
	struct val *in = json("{}");
	REQUIRE(policy_decide(c, in, &d, &e) == 0);
	CHECK_RC(policy_log_append(logp, c, in, &d, &e), -EBADMSG);
	policy_decision_release(&d);
	val_unref(in);
	buf_release(&b);
	buf_release(&cut);
}

/* The unconfigured host: defaults, flagged, and no decision log. */
static void test_unconfigured(void)
{
	struct arca_err e = { 0 };
	if (access(POLICY_CONFIG_PATH, F_OK) == 0) {
		printf("# %s exists here: not testing the unconfigured defaults\n", POLICY_CONFIG_PATH);
		return;
	}
	unsetenv("ARCA_CONFIG");
	_cleanup_(policy_config_freep) struct policy_config *c = NULL;
	REQUIRE(policy_config_load(NULL, &c, &e) == 0);
	CHECK(c->unconfigured);
	CHECK(c->mode == POLICY_ENFORCING);
	CHECK_STR(c->decision_log, "");
	_cleanup_(policy_config_freep) struct policy_config *c2 = config("mode = 'enforcing'\n");
	REQUIRE(c2);
	CHECK(!c2->unconfigured);
	CHECK_STR(c2->decision_log, POLICY_DEFAULT_LOG);
}

/* policy_launch(): the decision, its log entry, and what a log that cannot
 * be written does in each mode and for each kind of caller. */
static void test_launch(void)
{
	struct arca_err e = { 0 };
	const char *img_path = tl_shared("fixtures/sif/test/images/one-group-signed-dsse.sif");
	_cleanup_sif_ struct sif_image *img = NULL;
	REQUIRE(sif_open(img_path, &img, &e) == 0);
	char toml[1024];
	snprintf(toml, sizeof(toml), "[policy]\ndir = ''\ndecision_log = '%s/launch/decisions.log'\n", dir);
	_cleanup_(policy_config_freep) struct policy_config *c = config(toml);
	REQUIRE(c);
	char *args[] = { "/bin/true", NULL };
	struct policy_request req = { .command = "exec", .args = args };
	struct policy_launch l;

	REQUIRE(policy_launch(c, img_path, img, &req, false, &l, &e) == 0);
	CHECK(l.d.allowed && l.logged && l.log_rc == 0 && !l.log_refused);
	CHECK(l.input && val_object_get_cstr(l.input, "image"));
	policy_launch_release(&l);
	size_t n = 0;
	CHECK_RC(policy_log_verify(c->decision_log, &n, &e), 0);
	CHECK(n == 1);

	/* a log that cannot be appended to (its last line is no entry) */
	FILE *f = fopen(c->decision_log, "a");
	REQUIRE(f);
	fputs("torn\n", f);
	fclose(f);
	REQUIRE(policy_launch(c, img_path, img, &req, false, &l, &e) == 0);
	CHECK(!l.d.allowed && l.d.policy_allow && l.log_refused && l.log_rc == -EBADMSG);
	CHECK(strstr(l.d.reason, "could not be logged") != NULL);
	policy_launch_release(&l);
	/* advisory callers are excused only a log they may not write */
	REQUIRE(policy_launch(c, img_path, img, &req, true, &l, &e) == 0);
	CHECK(!l.d.allowed && l.log_refused);
	policy_launch_release(&l);
	c->mode = POLICY_PERMISSIVE;
	REQUIRE(policy_launch(c, img_path, img, &req, false, &l, &e) == 0);
	CHECK(l.d.allowed && !l.logged && !l.log_refused && l.log_rc == -EBADMSG && l.log_error[0]);
	policy_launch_release(&l);
	c->mode = POLICY_ENFORCING;

	/* a file nobody may write, root included (sysfs, read-only) */
	const char *ro = "/sys/kernel/notes";
	if (access(ro, F_OK) == 0) {
		free(c->decision_log);
		c->decision_log = strdup(ro);
		REQUIRE(c->decision_log);
		REQUIRE(policy_launch(c, img_path, img, &req, true, &l, &e) == 0);
		CHECK(l.d.allowed && !l.log_refused && l.log_rc == -EACCES);
		policy_launch_release(&l);
		REQUIRE(policy_launch(c, img_path, img, &req, false, &l, &e) == 0);
		CHECK(!l.d.allowed && l.log_refused);
		policy_launch_release(&l);
	}

	/* input.image.realpath names the file open, even once the path has
	 * been re-pointed at another */
	char lnk[600];
	snprintf(lnk, sizeof(lnk), "%s/img-link.sif", dir);
	_cleanup_free_ char *real = realpath(img_path, NULL);
	REQUIRE(real && symlink(real, lnk) == 0);
	_cleanup_sif_ struct sif_image *limg = NULL;
	REQUIRE(sif_open(lnk, &limg, &e) == 0);
	REQUIRE(unlink(lnk) == 0 && symlink("/dev/null", lnk) == 0);
	_cleanup_val_ struct val *lin = NULL;
	REQUIRE(policy_input(c, lnk, limg, NULL, &req, &lin, &e) == 0);
	const struct val *limage = val_object_get_cstr(lin, "image");
	CHECK_STR(val_str(val_object_get_cstr(limage, "path")), lnk);
	CHECK_STR(val_str(val_object_get_cstr(limage, "realpath")), real);

	/* a policy refusal stays one, and is not blamed on the log */
	free(c->decision_log);
	c->decision_log = strdup("");
	REQUIRE(c->decision_log);
	c->mode = POLICY_ATTESTED;
	REQUIRE(policy_launch(c, img_path, img, &req, false, &l, &e) == 0);
	CHECK(!l.d.allowed && !l.logged && !l.log_refused);
	CHECK(strstr(l.d.reason, "attest") != NULL);
	policy_launch_release(&l);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(test_config);
	RUN(test_default_policy);
	RUN(test_site_policy);
	RUN(test_input_from_image);
	RUN(test_log);
	RUN(test_unconfigured);
	RUN(test_launch);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	TL_DONE();
}
